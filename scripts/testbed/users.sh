#!/usr/bin/env bash
# Creates the test accounts (home directory, /bin/bash, a known password) and
# repairs ones that exist already. A password is set only when the current one does
# not verify, so a second run leaves /etc/shadow untouched.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_root

# Users whose shadow hash is not the hash of their test password (libcrypt does the
# work, for any scheme: yescrypt, sha512, ...). One interpreter start for all users.
users_needing_password() {
    local user
    for user in "${TEST_USERS[@]}"; do
        printf '%s:%s\n' "$user" "$(password_of "$user")"
    done | "$PYTHON_FOR_USERS" -I -S -W ignore -c '
import crypt, sys
wanted = dict(line.rstrip("\n").split(":", 1) for line in sys.stdin)
hashes = {}
for line in open("/etc/shadow"):
    fields = line.split(":")
    hashes[fields[0]] = fields[1]
for user, password in wanted.items():
    hashed = hashes.get(user, "")
    if hashed[:1] in ("", "!", "*") or crypt.crypt(password, hashed) != hashed:
        print(user)
'
}

for user in "${TEST_USERS[@]}"; do
    if ! id -u "$user" >/dev/null 2>&1; then
        log "adding user $user"
        useradd --create-home --shell /bin/bash --comment "pyfleet test bed" "$user"
    fi
    home=$(getent passwd "$user" | cut -d: -f6)
    shell=$(getent passwd "$user" | cut -d: -f7)
    [ "$shell" = /bin/bash ] || usermod --shell /bin/bash "$user"
    if [ ! -d "$home" ]; then
        # A home deleted by hand: recreate it from /etc/skel like useradd would.
        mkdir -p "$home"
        cp -rT /etc/skel "$home"
        chown -R "$user:" "$home"
    fi
    # Never expire, never locked: an expired test account makes PAM ask for a new
    # password, which no test expects.
    if [ "$(chage -l "$user" | grep -c ': never$')" -lt 3 ]; then
        chage --maxdays -1 --expiredate -1 --inactive -1 "$user"
    fi
done

needing=$(users_needing_password)
for user in $needing; do
    log "setting the password of $user"
    printf '%s:%s\n' "$user" "$(password_of "$user")" | chpasswd
done
