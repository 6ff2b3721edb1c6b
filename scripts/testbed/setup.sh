#!/usr/bin/env bash
# Installs, starts and checks everything the test suite needs on this machine:
# interpreters, test users, sudo/doas rules, an sshd on loopback, hosts in network
# namespaces. Idempotent: a second run changes nothing; a run after a crash repairs
# what it finds half made. Needs root; every wait is bounded.
#
# stdout carries only KEY=VALUE lines for scripts/test.sh to export; all talk goes
# to stderr. The facts themselves are in $FACTS_FILE (see README.md).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

exec 3>&1 1>&2
emit() { printf '%s\n' "$@" >&3; }

# Interpreters the suite must find; a missing one fails the tests loudly.
required=(/usr/bin/python3.11 /usr/bin/pypy3)

if [ "$(id -u)" -ne 0 ]; then
    # Not root: usable only if a root set-up already made and verified everything.
    [ -f "$FACTS_FILE" ] && ssh_banner_ok "$SSH_HOST" "$SSH_PORT" ||
        die "run scripts/testbed/setup.sh as root first"
    "$here/packages.sh" # only checks, when nothing is missing
else
    started=$SECONDS
    # Two set-ups at once (two test runs) would race on the same daemons.
    exec 9>/run/pyfleet-testbed.lock
    flock -w 300 9 || die "another set-up holds /run/pyfleet-testbed.lock"
    # A failed set-up leaves no facts file, so tests say "run setup" instead of
    # failing against a half-made test bed.
    trap '[ $? -eq 0 ] || rm -f "$FACTS_FILE"' EXIT
    "$here/packages.sh"
    "$here/users.sh"
    "$here/sudo_doas.sh"
    "$here/sshd.sh"
    "$here/netns.sh"
    "$here/verify.sh"
    "$here/facts.sh"
    log "ready in $((SECONDS - started)) s: $FACTS_FILE"
fi

for python in "${required[@]}"; do
    [ -x "$python" ] || die "missing $python"
done
emit "$( IFS=:; echo "PYFLEET_REQUIRE_INTERPRETERS=${required[*]}" )"
emit "PYFLEET_TESTBED=$FACTS_FILE"
# Tests that need the test bed fail (never skip) when it is missing.
emit "PYFLEET_REQUIRE_TESTBED=1"
