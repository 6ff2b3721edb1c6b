#!/usr/bin/env bash
# Stops the test bed's daemons and removes its network (namespaces, veths, bridge)
# and the facts file, so tests fail with "run setup" rather than against a dead
# test bed. Users, packages and keys stay: the next set-up is quick.
#   --purge  also removes the state dir, the sudoers drop-in and /etc/doas.conf.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
need_root

purge=0
case "${1:-}" in
    --purge) purge=1 ;;
    "") ;;
    *) die "usage: $0 [--purge]" ;;
esac

exec 9>/run/pyfleet-testbed.lock
flock -w 300 9 || die "a set-up holds /run/pyfleet-testbed.lock"

rm -f "$FACTS_FILE"
# Every sshd of the test bed, including spare ones tests started under the state
# dir and left behind.
for config in "$STATE_DIR"/*/sshd_config "$STATE_DIR"/spare/*/sshd_config; do
    [ -e "$config" ] && stop_sshd "$(dirname "$config")"
done

# Veths first (synchronous), then the namespaces, whose devices the kernel frees in
# the background; wait until the names are gone so a set-up can make them again.
for ns in "${NETNS_NAMES[@]}" "$REFUSED_NETNS"; do
    ip link del "v$ns" 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
done
ip link del "$BRIDGE" 2>/dev/null || true
deadline=$((SECONDS + 10))
for ns in "${NETNS_NAMES[@]}" "$REFUSED_NETNS"; do
    while [ -e "/run/netns/$ns" ] || ip -o link show "v$ns" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || die "namespace $ns does not go away"
        sleep 0.05
    done
done
while ip -o link show "$BRIDGE" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || die "$BRIDGE does not go away"
    sleep 0.05
done

if [ $purge = 1 ]; then
    rm -rf "$STATE_DIR"
    rm -f /etc/sudoers.d/pyfleet-testbed /etc/doas.conf
fi
log "torn down"
