#!/usr/bin/env bash
# Writes the facts file, the contract between the test bed and the tests
# (tests/support/testbed.rs reads it). Run last: only a verified test bed gets one.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_root

pids=()
for dir in "$LOOPBACK_DIR" "${NETNS_NAMES[@]/#/$STATE_DIR/}"; do
    pid=$(pid_from_file "$dir/sshd.pid") && pid_is_sshd "$pid" || die "no sshd for $dir"
    pids+=("$pid")
done

# Written whole and renamed into place: a reader never sees half a file.
write_if_changed "$FACTS_FILE" 644 <<FACTS || true
# pyfleet test bed facts, written by scripts/testbed/setup.sh. KEY=VALUE, no quoting;
# lists are separated by spaces.
STATE_DIR=$STATE_DIR
# Loopback sshd (its own config, keys and log under STATE_DIR/loopback).
SSH_HOST=$SSH_HOST
SSH_PORT=$SSH_PORT
SSH_ALIAS=pfloop
SSH_CONFIG=$SSH_CONFIG
SSH_KEY=$CLIENT_KEY
SSH_KNOWN_HOSTS=$KNOWN_HOSTS
SSH_KNOWN_HOSTS_WRONG=$KNOWN_HOSTS_WRONG
SSH_HOST_KEY_PUB=$LOOPBACK_DIR/host_ed25519_key.pub
SSH_WRONG_HOST_KEY_PUB=$WRONG_HOST_KEY.pub
LOOPBACK_SSHD_CONFIG=$LOOPBACK_DIR/sshd_config
LOOPBACK_SSHD_PIDFILE=$LOOPBACK_DIR/sshd.pid
LOOPBACK_SSHD_LOG=$LOOPBACK_DIR/sshd.log
SSHD_PIDS=${pids[*]}
# Test-only accounts. The passwords are published on purpose: they guard nothing,
# and the test bed's sshds admit no other account.
SSH_KEY_USER=pfkey
SSH_KEY_PASSWORD=$(password_of pfkey)
SSH_PASSWORD_USER=pfpass
SSH_PASSWORD=$(password_of pfpass)
SUDO_USER=pfsudo
SUDO_PASSWORD=$(password_of pfsudo)
NOSUDO_USER=pfnosudo
NOSUDO_PASSWORD=$(password_of pfnosudo)
TARGET_USER=pftarget
TARGET_PASSWORD=$(password_of pftarget)
DOAS_USER=pfdoas
DOAS_PASSWORD=$(password_of pfdoas)
SU_USER=pfsu
SU_PASSWORD=$(password_of pfsu)
# root's home is mode 700 (pyenv lives there): users run this interpreter.
PYTHON_FOR_USERS=$PYTHON_FOR_USERS
# Hosts in network namespaces behind the bridge, each with an sshd.
NETNS_HOSTS=${NETNS_ADDRESSES[*]}
NETNS_NAMES=${NETNS_NAMES[*]}
NETNS_SSH_PORT=$NETNS_SSH_PORT
NETNS_BRIDGE=$BRIDGE_ADDRESS
NETNS_BRIDGE_DEVICE=$BRIDGE
# A host with nothing on port 22 (refused at once), an address whose packets vanish
# (connect times out) and one where nobody answers ARP (no route to host, ~3 s).
REFUSED_ADDRESS=$REFUSED_ADDRESS
TIMEOUT_ADDRESS=$BLACKHOLE_ADDRESS
UNREACHABLE_ADDRESS=$UNREACHABLE_ADDRESS
FACTS
