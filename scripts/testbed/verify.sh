#!/usr/bin/env bash
# Proves the test bed works with the real programs before any test relies on it.
# Password prompts need a terminal and are proven by tests/testbed_selfcheck.rs;
# here everything that works without one. Every step is time-bounded.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_root

ssh_py() { # USER HOST: a key login that runs the users' interpreter
    local user=$1 host=$2 out
    out=$(timeout 20 ssh -F "$SSH_CONFIG" -o BatchMode=yes "$user@$host" \
        "$PYTHON_FOR_USERS -I -S -c 'import os; print(42, os.getuid())'" </dev/null 2>&1) ||
        die "ssh $user@$host failed: $out"
    [ "${out%% *}" = 42 ] || die "ssh $user@$host printed: $out"
}

# The ssh round trips run side by side: each costs ~0.25 s.
pids=()
ssh_py pfkey pfloop & pids+=($!)
ssh_py root pfloop & pids+=($!)
for address in "${NETNS_ADDRESSES[@]}"; do
    ssh_py pfkey "$address" & pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
[ $failed = 0 ] || die "an ssh login failed"

[ "$(timeout 10 sudo -n -u pftarget id -un </dev/null)" = pftarget ] ||
    die "root cannot sudo -u pftarget without a password"
if out=$(timeout 10 runuser -u pfnosudo -- sudo -n true </dev/null 2>&1); then
    die "pfnosudo may sudo"
fi
[[ $out == *"password is required"* ]] || die "sudo -n as pfnosudo said: $out"
timeout 10 doas -C /etc/doas.conf </dev/null || die "/etc/doas.conf does not parse"

out=$(timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$REFUSED_ADDRESS" "$NETNS_SSH_PORT" 2>&1) &&
    die "something listens on $REFUSED_ADDRESS:$NETNS_SSH_PORT"
[[ $out == *"Connection refused"* ]] || die "$REFUSED_ADDRESS:$NETNS_SSH_PORT: $out"
