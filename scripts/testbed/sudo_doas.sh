#!/usr/bin/env bash
# Privilege rules for the test accounts: a sudoers drop-in (the only sudo file the
# test bed touches) and /etc/doas.conf (written whole: nothing else here uses doas).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_root

SUDOERS_DROPIN=/etc/sudoers.d/pyfleet-testbed
DOAS_CONF=/etc/doas.conf

# Debian's /etc/sudoers reads the drop-in directory; a machine whose sudoers does
# not would silently ignore the rules below, so say so instead.
grep -Eq '^[@#]includedir[[:space:]]+/etc/sudoers.d' /etc/sudoers ||
    die "/etc/sudoers does not include /etc/sudoers.d"

users_csv=$(IFS=,; echo "${TEST_USERS[*]}")
# Every prompt must be the same every time: no once-only lecture, and no cached
# credentials (timestamp_timeout=0), so each sudo asks for the password.
# root needs no rule to become pftarget: sudo never asks root for a password.
sudoers=$(cat <<RULES
# pyfleet test bed (scripts/testbed/sudo_doas.sh). Test-only accounts with
# published passwords; removed by scripts/testbed/teardown.sh --purge.
User_Alias PYFLEET_TESTBED = $users_csv
Defaults:PYFLEET_TESTBED lecture=never, timestamp_timeout=0, passwd_tries=3
pfsudo ALL=(root, pftarget) ALL
RULES
)
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
printf '%s\n' "$sudoers" >"$tmp"
visudo -c -q -f "$tmp" >/dev/null || die "the sudoers drop-in does not parse"
if write_if_changed "$SUDOERS_DROPIN" 440 <"$tmp"; then
    log "wrote $SUDOERS_DROPIN"
fi
visudo -c -q >/dev/null || die "sudoers as a whole does not parse"

# doas has no drop-ins. "persist" is off: every doas of pfdoas asks for the password.
doas_conf=$(cat <<'RULES'
# pyfleet test bed (scripts/testbed/sudo_doas.sh): the whole doas configuration of
# this machine. Test-only accounts; removed by scripts/testbed/teardown.sh --purge.
permit nopass root
permit pfdoas as root
RULES
)
printf '%s\n' "$doas_conf" >"$tmp"
doas -C "$tmp" || die "doas.conf does not parse"
if write_if_changed "$DOAS_CONF" 400 <"$tmp"; then
    log "wrote $DOAS_CONF"
fi
doas -C "$DOAS_CONF" || die "$DOAS_CONF does not parse"
