#!/usr/bin/env bash
# Hosts on a private network: a bridge pfbr0 (10.213.0.1/24) in the root namespace,
# and per host a network namespace joined to it by a veth pair, with loopback up
# and its own sshd on port 22:
#   pfns1 10.213.0.11, pfns2 10.213.0.12, pfns3 10.213.0.13   sshd, as on loopback
#   pfrefuse 10.213.0.99                                      no sshd: refused
#   10.213.0.98  a permanent neighbour entry to a MAC nobody has: connect() times out
#   10.213.0.97  nothing: ARP fails, "No route to host" after ~3 s
# A host found half made (a crash, a hand edit) is removed and made again.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_root

ensure_bridge() {
    if ip -o link show "$BRIDGE" >/dev/null 2>&1 &&
        ! ip -d -o link show "$BRIDGE" | grep -q ' bridge '; then
        ip link del "$BRIDGE"
    fi
    if ! ip -o link show "$BRIDGE" >/dev/null 2>&1; then
        log "adding bridge $BRIDGE"
        # A fixed MAC: by default a bridge takes the lowest of its ports', changing
        # under the hosts' ARP caches as ports come and go.
        ip link add "$BRIDGE" address "$BRIDGE_MAC" type bridge
    fi
    ip -o link show "$BRIDGE" | grep -q "link/ether $BRIDGE_MAC " ||
        ip link set "$BRIDGE" address "$BRIDGE_MAC"
    ip -o -4 addr show dev "$BRIDGE" | grep -q " inet $BRIDGE_ADDRESS/24 " ||
        ip addr add "$BRIDGE_ADDRESS/24" dev "$BRIDGE"
    ip link set "$BRIDGE" up
}

veth_of() { printf 'v%s' "$1"; }
# A host's MAC follows from its address, so a host made again has the MAC the root
# namespace's ARP cache remembers (a new random one black-holes it for seconds).
mac_of() { printf '02:00:0a:d5:00:%02x' "${1##*.}"; }

host_is_whole() {
    local ns=$1 address=$2 veth
    veth=$(veth_of "$ns")
    [ -e "/run/netns/$ns" ] &&
        ip -o link show "$veth" 2>/dev/null | grep -q "master $BRIDGE .*state UP" &&
        ip -n "$ns" -o -4 addr show dev eth0 2>/dev/null | grep -q " inet $address/24 " &&
        ip -n "$ns" -o link show eth0 2>/dev/null | grep -q "state UP.* link/ether $(mac_of "$address") " &&
        ip -n "$ns" -o link show lo 2>/dev/null | grep -q '<LOOPBACK,UP'
}

remove_host() {
    local ns=$1 veth deadline
    veth=$(veth_of "$ns")
    stop_sshd "$STATE_DIR/$ns"
    # The veth first: `ip netns del` frees the namespace's devices in the background,
    # so a pair left inside it could still hold the names when we make them again.
    ip link del "$veth" 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
    deadline=$((SECONDS + 10))
    while [ -e "/run/netns/$ns" ] || ip -o link show "$veth" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || die "namespace $ns or $veth does not go away"
        sleep 0.05
    done
}

ensure_host() {
    local ns=$1 address=$2 veth
    veth=$(veth_of "$ns")
    host_is_whole "$ns" "$address" && return 0
    [ -e "/run/netns/$ns" ] && log "repairing namespace $ns"
    remove_host "$ns"
    log "adding namespace $ns ($address)"
    ip netns add "$ns"
    ip link add "$veth" type veth peer name eth0 netns "$ns" address "$(mac_of "$address")"
    ip link set "$veth" master "$BRIDGE" up
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "$address/24" dev eth0
    ip -n "$ns" link set eth0 up
    host_is_whole "$ns" "$address" || die "namespace $ns is not as made"
}

ensure_bridge
for i in "${!NETNS_NAMES[@]}"; do
    ensure_host "${NETNS_NAMES[$i]}" "${NETNS_ADDRESSES[$i]}"
done
ensure_host "$REFUSED_NETNS" "$REFUSED_ADDRESS"
# An ARP cache entry from a host made before with another MAC: drop it.
for address in "${NETNS_ADDRESSES[@]}" "$REFUSED_ADDRESS"; do
    cached=$(ip neigh show "$address" dev "$BRIDGE" | sed -n 's/.*lladdr \([^ ]*\).*/\1/p')
    if [ -n "$cached" ] && [ "$cached" != "$(mac_of "$address")" ]; then
        ip neigh del "$address" dev "$BRIDGE"
    fi
done
ip neigh replace "$BLACKHOLE_ADDRESS" lladdr "$BLACKHOLE_MAC" dev "$BRIDGE" nud permanent

for i in "${!NETNS_NAMES[@]}"; do
    ns=${NETNS_NAMES[$i]}
    changed=0
    sshd_config_text "$STATE_DIR/$ns" "${NETNS_ADDRESSES[$i]}" "$NETNS_SSH_PORT" |
        write_if_changed "$STATE_DIR/$ns/sshd_config" 644 && changed=1
    ensure_sshd "$STATE_DIR/$ns" "${NETNS_ADDRESSES[$i]}" "$NETNS_SSH_PORT" "$changed" "$ns"
done
