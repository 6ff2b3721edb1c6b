#!/usr/bin/env bash
# Keys, client files and the loopback sshd (127.0.0.1:2222):
#   client/id_ed25519          the tests' key (root's, no passphrase)
#   authorized_keys/USER       that key for root and every test user but pfpass, who
#                              must log in with the password
#   HOST/host_ed25519_key      a host key per sshd (loopback and each namespace host)
#   wrong-host/                a host key nobody serves
#   known_hosts                every test-bed sshd's real key
#   known_hosts.wrong          the loopback sshd pinned to the wrong key
#   ssh_config                 for `ssh -F`: host aliases, key, known_hosts
# Keys are made once and kept; files are rewritten only when their content changes.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_root

# Root's, readable by all (other users read known_hosts, ssh_config and the public
# keys); only the private keys are root's alone.
install -d -m 755 "$STATE_DIR" "$STATE_DIR/client" "$AUTHORIZED_KEYS_DIR" \
    "$LOOPBACK_DIR" "$(dirname "$WRONG_HOST_KEY")"
for ns in "${NETNS_NAMES[@]}"; do install -d -m 755 "$STATE_DIR/$ns"; done

ensure_key "$CLIENT_KEY" "pyfleet-testbed-client"
ensure_key "$WRONG_HOST_KEY" "pyfleet-testbed-wrong-host"
ensure_key "$LOOPBACK_DIR/host_ed25519_key" "pyfleet-testbed-loopback"
for ns in "${NETNS_NAMES[@]}"; do
    ensure_key "$STATE_DIR/$ns/host_ed25519_key" "pyfleet-testbed-$ns"
done

for user in root "${TEST_USERS[@]}"; do
    if [ "$user" = pfpass ]; then
        rm -f "$AUTHORIZED_KEYS_DIR/pfpass"
        continue
    fi
    write_if_changed "$AUTHORIZED_KEYS_DIR/$user" 644 <"$CLIENT_KEY.pub" || true
done

host_key() { cut -d' ' -f1-2 "$1.pub"; }
{
    echo "[$SSH_HOST]:$SSH_PORT $(host_key "$LOOPBACK_DIR/host_ed25519_key")"
    for i in "${!NETNS_NAMES[@]}"; do
        echo "${NETNS_ADDRESSES[$i]} $(host_key "$STATE_DIR/${NETNS_NAMES[$i]}/host_ed25519_key")"
    done
} | write_if_changed "$KNOWN_HOSTS" 644 || true
echo "[$SSH_HOST]:$SSH_PORT $(host_key "$WRONG_HOST_KEY")" |
    write_if_changed "$KNOWN_HOSTS_WRONG" 644 || true

{
    cat <<CONFIG
# pyfleet test bed: use with \`ssh -F $SSH_CONFIG\`, which reads neither ~/.ssh/config
# nor /etc/ssh/ssh_config. Options on the command line (-o) win over this file.
Host pfloop
    HostName $SSH_HOST
    Port $SSH_PORT
CONFIG
    for i in "${!NETNS_NAMES[@]}"; do
        printf 'Host %s\n    HostName %s\n    Port %s\n' \
            "${NETNS_NAMES[$i]}" "${NETNS_ADDRESSES[$i]}" "$NETNS_SSH_PORT"
    done
    cat <<CONFIG
Host pfns* 10.213.0.*
    # Through the bridge only: without it the connection fails at once instead of
    # wandering off to the default route.
    BindInterface $BRIDGE
Host *
    IdentityFile $CLIENT_KEY
    IdentitiesOnly yes
    UserKnownHostsFile $KNOWN_HOSTS
    GlobalKnownHostsFile /dev/null
    StrictHostKeyChecking yes
    UpdateHostKeys no
    ConnectTimeout 10
CONFIG
} | write_if_changed "$SSH_CONFIG" 644 || true

changed=0
sshd_config_text "$LOOPBACK_DIR" "$SSH_HOST" "$SSH_PORT" |
    write_if_changed "$LOOPBACK_DIR/sshd_config" 644 && changed=1
ensure_sshd "$LOOPBACK_DIR" "$SSH_HOST" "$SSH_PORT" "$changed"
