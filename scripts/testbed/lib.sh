# Shared by the test-bed scripts (sourced, not run). Names and paths of the test bed
# live here so set-up, tear-down and the facts file cannot disagree.
# shellcheck shell=bash disable=SC2034 # the names are for the scripts that source this

STATE_DIR=/run/pyfleet-testbed
FACTS_FILE=$STATE_DIR/testbed.env
CLIENT_KEY=$STATE_DIR/client/id_ed25519
AUTHORIZED_KEYS_DIR=$STATE_DIR/authorized_keys
KNOWN_HOSTS=$STATE_DIR/known_hosts
KNOWN_HOSTS_WRONG=$STATE_DIR/known_hosts.wrong
SSH_CONFIG=$STATE_DIR/ssh_config
# A second host key that no sshd serves: known_hosts.wrong pins it for the loopback
# sshd, so a client sees "REMOTE HOST IDENTIFICATION HAS CHANGED".
WRONG_HOST_KEY=$STATE_DIR/wrong-host/host_ed25519_key

SSH_HOST=127.0.0.1
SSH_PORT=2222
LOOPBACK_DIR=$STATE_DIR/loopback

PYTHON_FOR_USERS=/usr/bin/python3.11

# Test-only accounts with fixed, published passwords: they guard nothing. Every
# sshd of the test bed refuses all other accounts (AllowUsers), and listens only on
# loopback or inside the test bed's own network namespaces.
TEST_USERS=(pfkey pfpass pfsudo pfnosudo pftarget pfdoas pfsu)
password_of() { printf '%s-test-123' "$1"; }

# Hosts in network namespaces behind a bridge in the root namespace.
BRIDGE=pfbr0
BRIDGE_ADDRESS=10.213.0.1
BRIDGE_MAC=02:00:0a:d5:00:01
NETNS_NAMES=(pfns1 pfns2 pfns3)
NETNS_ADDRESSES=(10.213.0.11 10.213.0.12 10.213.0.13)
NETNS_SSH_PORT=22
# A host that exists (own namespace, answers ARP) with nothing on port 22: connect()
# is refused at once.
REFUSED_NETNS=pfrefuse
REFUSED_ADDRESS=10.213.0.99
# A permanent neighbour entry sends frames for this address to a MAC nobody has:
# they vanish silently, so connect() runs into its timeout.
BLACKHOLE_ADDRESS=10.213.0.98
BLACKHOLE_MAC=02:00:0a:d5:00:62
# Nothing at all: ARP gets no answer, connect() fails after ~3 s with "No route to
# host".
UNREACHABLE_ADDRESS=10.213.0.97

log() { printf 'testbed: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

need_root() {
    [ "$(id -u)" -eq 0 ] || die "$(basename "$0") must run as root"
}

# Replaces FILE with stdin only when the content differs, so a second set-up leaves
# files (and the daemons reading them) alone. Returns 0 if it changed, 1 if not.
write_if_changed() {
    local file=$1 mode=$2 tmp
    tmp=$(mktemp "$file.XXXXXX")
    cat >"$tmp"
    chmod "$mode" "$tmp"
    if [ -f "$file" ] && cmp -s "$tmp" "$file" && [ "$(stat -c %a "$file")" = "$mode" ]; then
        rm -f "$tmp"
        return 1
    fi
    mv -f "$tmp" "$file"
    return 0
}

# A pid is a live sshd only if /proc says so: a killed daemon may linger as a
# zombie (kill -0 succeeds on it) and a stale pid file may name a recycled pid.
pid_is_sshd() {
    local pid=$1 stat
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
    # Field 2 is "(comm)", field 3 the state; comm cannot hold ')' for sshd.
    [[ $stat == "$pid (sshd) "* ]] || return 1
    [[ ${stat#*) } != Z* ]]
}

pid_from_file() {
    local file=$1 pid
    [ -f "$file" ] || return 1
    read -r pid <"$file" || true
    [[ ${pid:-} =~ ^[0-9]+$ ]] || return 1
    printf '%s' "$pid"
}

# Listening sshds started with DIR/sshd_config, whatever their pid file says (it
# may be stale or overwritten). A listener's title is "sshd: ARGV... [listener]";
# the per-connection processes have other titles and are left to end by themselves.
listener_pids() {
    local dir=$1 pid
    for pid in $(pgrep -f "^sshd: /usr/sbin/sshd -f $dir/sshd_config .*\[listener\]"); do
        pid_is_sshd "$pid" && printf '%s\n' "$pid"
    done
    return 0
}

# The sshd processes below PID: one per connection, and their privilege-separated
# children (the users' programs are not sshd and are left to see EOF).
sshd_descendants() {
    local child
    for child in $(pgrep -P "$1"); do
        pid_is_sshd "$child" || continue
        printf '%s\n' "$child"
        sshd_descendants "$child"
    done
    return 0
}

# Stops the sshd of DIR with its connections (bounded): SIGTERM, then SIGKILL;
# removes the pid file.
stop_sshd() {
    local dir=$1 pid pids listeners deadline
    listeners=$( { pid_from_file "$dir/sshd.pid" && echo; listener_pids "$dir"; } | sort -u)
    pids=$(for pid in $listeners; do echo "$pid"; sshd_descendants "$pid"; done | sort -u)
    for pid in $pids; do
        pid_is_sshd "$pid" && kill -TERM "$pid" 2>/dev/null || true
    done
    deadline=$((SECONDS + 5))
    for pid in $pids; do
        while pid_is_sshd "$pid" && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
        pid_is_sshd "$pid" && kill -KILL "$pid" 2>/dev/null || true
    done
    deadline=$((SECONDS + 5))
    for pid in $pids; do
        while pid_is_sshd "$pid"; do
            [ $SECONDS -lt $deadline ] || die "sshd $pid ($dir) does not stop"
            sleep 0.05
        done
    done
    rm -f "$dir/sshd.pid"
}

# True once HOST:PORT answers with an SSH banner (run inside a namespace by
# prefixing the call with `ip netns exec NS`).
ssh_banner_ok() {
    local host=$1 port=$2
    timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1" && IFS= read -r -t 2 banner <&3 && [[ $banner == SSH-2.0-* ]]' \
        "$host" "$port" 2>/dev/null
}

wait_for_banner() {
    local host=$1 port=$2 deadline=$((SECONDS + ${3:-10}))
    until ssh_banner_ok "$host" "$port"; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.05
    done
}

# Generates an ed25519 key pair unless a valid one is there already.
ensure_key() {
    local key=$1 comment=$2
    if [ -f "$key" ] && [ -f "$key.pub" ] &&
        [ "$(ssh-keygen -y -f "$key" 2>/dev/null | cut -d' ' -f1-2)" = "$(cut -d' ' -f1-2 "$key.pub")" ]; then
        chmod 600 "$key"
        chmod 644 "$key.pub"
        return 0
    fi
    rm -f "$key" "$key.pub"
    ssh-keygen -q -t ed25519 -N '' -C "$comment" -f "$key" </dev/null >/dev/null
    chmod 644 "$key.pub"
}

# The configuration of one test-bed sshd; everything it reads lives under DIR and
# the state dir, nothing under /etc/ssh. Its log goes to DIR/sshd.log (-E).
sshd_config_text() {
    local dir=$1 address=$2 port=$3
    cat <<CONFIG
# pyfleet test bed (scripts/testbed): an sshd of its own, started as
#   /usr/sbin/sshd -f $dir/sshd_config -E $dir/sshd.log
ListenAddress $address:$port
HostKey $dir/host_ed25519_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $AUTHORIZED_KEYS_DIR/%u
# Only the test accounts, so the published passwords open nothing else.
AllowUsers root ${TEST_USERS[*]}
# The authorized_keys files are root's, in the state dir.
StrictModes no
# Without PAM, accounts made by useradd count as locked.
UsePAM yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
LogLevel VERBOSE
# Tests open many connections at once; the default (10:30:100) drops some at random.
MaxStartups 200
MaxSessions 200
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowTcpForwarding yes
Subsystem sftp internal-sftp
CONFIG
}

# Starts the sshd of DIR (in network namespace NS if given) unless it runs already
# with the current configuration; waits (bounded) until it answers with a banner.
# CHANGED=1 restarts it. Prints nothing on stdout.
ensure_sshd() {
    local dir=$1 address=$2 port=$3 changed=$4 ns=${5:-} pid in_ns=()
    [ -n "$ns" ] && in_ns=(ip netns exec "$ns")
    mkdir -p /run/sshd # privilege separation directory, as sshd requires
    chmod 755 /run/sshd
    # Healthy: the one listener of DIR is the one in the pid file, it runs the
    # current configuration, in the right namespace (a daemon left from a namespace
    # that was made again listens in a dead one), and it answers.
    if [ "$changed" = 0 ] && pid=$(pid_from_file "$dir/sshd.pid") && pid_is_sshd "$pid" &&
        [ "$(listener_pids "$dir")" = "$pid" ] &&
        { [ -z "$ns" ] || [ "$(ip netns identify "$pid" 2>/dev/null)" = "$ns" ]; } &&
        "${in_ns[@]}" bash -c "$(declare -f ssh_banner_ok); ssh_banner_ok $address $port"; then
        return 0
    fi
    stop_sshd "$dir"
    /usr/sbin/sshd -t -f "$dir/sshd_config" || die "sshd rejects $dir/sshd_config"
    log "starting sshd on $address:$port${ns:+ in $ns}"
    # sshd daemonizes (new session, stdio on /dev/null): nothing holds our stdout.
    "${in_ns[@]}" /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log" </dev/null >/dev/null 2>&1 ||
        die "sshd${ns:+ in $ns} did not start: $(tail -n 5 "$dir/sshd.log" 2>/dev/null)"
    "${in_ns[@]}" bash -c "$(declare -f ssh_banner_ok wait_for_banner); wait_for_banner $address $port 10" ||
        die "sshd on $address:$port${ns:+ in $ns} does not answer: $(tail -n 5 "$dir/sshd.log" 2>/dev/null)"
    # The pid file is written just after the socket is bound.
    local deadline=$((SECONDS + 5))
    until pid=$(pid_from_file "$dir/sshd.pid") && pid_is_sshd "$pid"; do
        [ $SECONDS -lt $deadline ] || die "sshd on $address:$port wrote no pid file"
        sleep 0.05
    done
}
