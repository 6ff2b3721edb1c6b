#!/usr/bin/env bash
# Fleet runs side by side (pyfleet run, plain ssh in parallel, mitogen) over the
# test bed's namespace hosts. Needs the test bed (scripts/testbed/setup.sh, as
# root) and bench/.venv with mitogen (made by bench/run.sh).
#   bench/fleet/run.sh [--rounds N]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/bench/.venv"
[ -x "$venv/bin/python" ] || { echo "run bench/run.sh once first (it makes $venv)" >&2; exit 1; }
echo "building pyfleet (release)" >&2
(cd "$root" && cargo build --release --quiet -p pyfleet-cli)
exec timeout 3600 "$venv/bin/python" "$here/compare.py" --pyfleet "$root/target/release/pyfleet" "$@"
