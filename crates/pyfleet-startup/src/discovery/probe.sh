# Interpreter discovery probe, POSIX sh (dash, bash, busybox ash, macOS sh).
# script.rs ships it without comment lines and indentation, after a prologue that
# sets T (per-candidate timeout, whole seconds), S (1: search the host; 0: only the
# explicit paths) and the positional parameters (the explicit paths).
# Output: the line report that report.rs reads. Fields are tab-separated; a path
# holding a tab or a newline is never a candidate.
tab='	' nl='
'
n='[0-9]'
names="python python2 python2.7 python3 python3.$n python3.$n$n python3.$n${n}t pypy pypy3 pypy3.$n pypy3.$n$n"
# printf, not echo: some echo builtins interpret backslashes.
line() { printf '%s\n' "$1"; }
ex() { [ -f "$1" ] && [ -x "$1" ]; }
# A path whose change can change the report (cache validation).
watch() { line "D$tab$1"; }
line "#pyfleet-discovery${tab}1$tab$T"
d=$(mktemp -d) || { d=/tmp/pyfleet.$$; mkdir -m 700 "$d"; } ||
    { line "#error${tab}no temporary directory"; exit 1; }
trap 'rm -rf "$d"' EXIT
trap 'exit 1' HUP INT TERM
# Candidates as "source<TAB>path<TAB>shim" lines (a path found twice is listed
# twice; the report's reader keeps the first).
cands= sp=
add() {
    if ex "$2"; then
        case $2 in *"$tab"*|*"$nl"*) ;; *) cands=$cands$1$tab$2$tab$3$nl;; esac
    elif [ "$1" = explicit ]; then
        line "N$tab$2"
    fi
}
# Sets vo (where pyenv's version choice comes from), vs (the versions) and sp (the
# directories they search, in order) for pyenv root $1, as pyenv would:
# $PYENV_VERSION, a .python-version up from $PWD, $1/version, else "system".
pick() {
    vs= w=$PWD vo=default
    if [ -n "$PYENV_VERSION" ]; then
        vs=$PYENV_VERSION vo=PYENV_VERSION
    else
        while :; do
            vf=$w/.python-version
            watch "$vf"
            [ -f "$vf" ] && break
            [ -n "$w" ] || { vf=$1/version; watch "$vf"; break; }
            w=${w%/*}
        done
        if [ -f "$vf" ]; then
            vo=$vf l=
            while read -r l || [ -n "$l" ]; do vs="$vs:$l" l=; done <"$vf"
        fi
    fi
    vs=${vs:-system} sp=
    set -f; IFS=": $tab"
    for v in $vs; do
        case $v in system) sp=$sp:$PATH;; *..*|\#*) ;; *) sp=$sp:$1/versions/$v/bin;; esac
    done
    unset IFS; set +f
}
# Maps each shim matching $3 in directory $2 to the binary pyenv would run, without
# running it (a shim costs 50-250 ms and could run anything); adds it as source $1.
shims() {
    for f in "$2"/$3; do
        ex "$f" || continue
        [ -n "$sp" ] || pick "${2%/shims}"
        c=${f##*/} t=
        set -f; IFS=:
        for x in $sp; do
            case $x in */shims|'') ;; *) ex "$x/$c" && t=$x/$c && break;; esac
        done
        unset IFS; set +f
        line "S$tab$f$tab$vo$tab${vs#:}$tab$t"
        [ -n "$t" ] && add "$1" "$t" "$f"
    done
}
# Adds the candidates in directory $2 as source $1. The names are split without
# globbing (a file named like a pattern in $PWD must not replace it), then each
# pattern globs in $2.
scan() {
    [ -d "$2" ] || return
    watch "$2"
    set -f
    for q in $names; do
        set +f
        case $2 in */shims) shims shim "$2" "$q";; *) for f in "$2"/$q; do add "$1" "$f"; done;; esac
    done
    set +f
}
for p; do
    case $p in /*) ;; *) p=$PWD/$p;; esac
    case $p in */shims/*) shims explicit "${p%/*}" "${p##*/}";; *) add explicit "$p";; esac
done
if [ "$S" = 1 ]; then
    set -f; IFS=:; set -- $PATH; unset IFS; set +f
    for x; do scan path "$x"; done
    r=${PYENV_ROOT:-$HOME/.pyenv}
    watch "$r/versions"
    for x in "$r"/versions/*/bin; do scan pyenv "$x"; done
    watch "/opt"; watch "/usr/local/opt"
    for x in /usr/bin /usr/local/bin /opt/python*/bin /opt/homebrew/bin /usr/local/opt/python*/bin; do
        scan prefix "$x"
    done
fi
# Canonical paths from one process, where realpath(1) or readlink -f exists.
set --
while IFS=$tab read -r s p x; do [ -n "$p" ] && set -- "$@" "$p"; done <<E
$cands
E
[ $# = 0 ] || realpath "$@" >"$d/r" || readlink -f "$@" >"$d/r" || : >"$d/r"
# Sets rp: $1 with every symlink resolved, for hosts without either tool.
canon() {
    rp=$1 j=0
    while [ -h "$rp" ] && [ $j -lt 40 ]; do
        l=$(ls -ld "$rp"); l=${l#*" -> "} j=$((j+1))
        case $l in /*) rp=$l;; *) rp=${rp%/*}/$l;; esac
    done
    l=$(cd -P "${rp%/*}/" && pwd -P) && rp=${l%/}/${rp##*/}
}
# Each distinct interpreter runs once, all at once, from a wrapper that records its
# pid (N.p) and, once it ends, its report lines (N.x). A venv's python runs by its
# own path: only through it does it know its venv. Without site (-S), sys.prefix is
# the base one, so the venv prefix is found the way site.venv() finds it.
PY='import sys as s
g=getattr;v=s.version_info;m=g(s,"implementation",0);p=g(s,"pypy_version_info",0);x=s.executable;b=x.rsplit("/",2)[0]
try:open(b+"/pyvenv.cfg");r=b
except:r=s.prefix
print("\t".join(["PYFLEET1",m and m.name or p and "pypy" or "cpython","%d.%d.%d\t%s\t%d"%v[:5],str(s.maxsize),g(s,"abiflags",""),s.platform,p and "%d.%d.%d"%p[:3] or "",x,r,g(s,"base_prefix",g(s,"real_prefix",s.prefix))]))'
keys=$nl i=0 jobs=
exec 4<"$d/r"
while IFS=$tab read -r s p x; do
    [ -n "$p" ] || continue
    IFS= read -r rp <&4 || canon "$p"
    k=$rp
    [ -f "${p%/*}/../pyvenv.cfg" ] && k=$p
    line "C$tab$s$tab$p$tab$rp$tab$k$tab$x"
    case $keys in *"$nl$k$nl"*) continue;; esac
    keys=$keys$k$nl i=$((i+1))
    (
        "$k" -E -s -S -c "$PY" </dev/null >"$d/$i.o" 2>"$d/$i.e" &
        echo $! >"$d/$i.p"
        wait $!
        r=$? o=
        [ -f "$d/$i.t" ] && r=timeout
        IFS= read -r o <"$d/$i.o"
        { line "R$tab$k$tab$r$tab$o"; [ $r = 0 ] || line "W$tab$k$tab$(tail -n 1 "$d/$i.e")"; } >"$d/$i.x"
    ) &
    jobs="$jobs $!"
done <<E
$cands
E
exec 4<&-
# One watchdog for all: after T seconds it kills what still runs, marked timed out.
# Each run writes its report lines to N.x when it ends.
if [ -n "$jobs" ]; then
    (
        trap 'kill $z; exit' TERM
        sleep "$T" & z=$!
        wait $z
        for f in "$d"/*.p; do
            [ -f "${f%p}x" ] || { : >"${f%p}t"; read c <"$f"; kill -9 "$c"; }
        done
    ) >/dev/null 2>&1 &
    w=$!
    wait $jobs
    kill $w 2>/dev/null
    cat "$d"/*.x
fi
line "#end"
