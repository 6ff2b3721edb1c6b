#!/usr/bin/env bash
# Installs the programs the tests run for real: interpreters, OpenSSH, sudo, doas,
# ip(8). Only what is missing is installed, so a warm machine pays one dpkg query.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

PACKAGES=(
    pypy3              # one of the interpreters every core test runs on
    python3.11         # /usr/bin/python3.11: the interpreter users other than root run
    openssh-server     # sshd on loopback and in each namespace host
    openssh-sftp-server
    openssh-client     # ssh, ssh-keygen
    sudo
    opendoas
    iproute2           # ip netns, bridge, veth
    procps
    util-linux         # runuser, setpriv, script
)

missing=()
for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
need_root
log "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# No recommends: openssh-server would pull libpam-systemd (logind) into PAM sessions.
# Daemons the packages would start on their own are not used (policy-rc.d may
# forbid them anyway); the test bed runs its own with its own configuration.
install() {
    timeout 600 apt-get install -y -q --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${missing[@]}" </dev/null >/dev/null
}
# Stale package lists fail with 404s: refresh them once and retry.
install || { timeout 300 apt-get update -q </dev/null >/dev/null && install; } ||
    die "apt-get could not install ${missing[*]}"
