#!/usr/bin/env bash
# Installs and checks what the test suite needs on this machine. Idempotent: a
# second run changes nothing. Needs root for apt-get; every step is time-bounded.
set -euo pipefail

log() { printf 'testbed: %s\n' "$*" >&2; }

apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        log "need root to install: ${missing[*]}"
        return 1
    fi
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    timeout 600 apt-get install -y -q "${missing[@]}" >/dev/null ||
        { timeout 300 apt-get update -q >/dev/null && timeout 600 apt-get install -y -q "${missing[@]}" >/dev/null; }
}

# PyPy is one of the interpreters every core test runs on.
apt_install pypy3

# Interpreters the suite must find; a missing one fails the tests loudly.
required=(/usr/bin/python3.11 /usr/bin/pypy3)
for python in "${required[@]}"; do
    [ -x "$python" ] || { log "missing $python"; exit 1; }
done
( IFS=:; echo "PYFLEET_REQUIRE_INTERPRETERS=${required[*]}" )
