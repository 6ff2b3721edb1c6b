#!/usr/bin/env bash
# One command for the side-by-side comparison: prepares the peers' venv (once),
# builds pyfleet-bench in release, runs every measurement and prints the table.
#   bench/run.sh            full run (3 interleaved rounds, ~3 minutes)
#   bench/run.sh --quick    one round, fewer samples
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
python=/usr/bin/python3.11
venv="$here/.venv"

# The stamp holds the requirements the venv was made from, so a changed pin
# reinstalls and an unchanged one costs nothing.
stamp="$venv/.requirements"
if ! cmp -s "$here/requirements.txt" "$stamp" 2>/dev/null; then
    echo "setting up $venv" >&2
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
    cp "$here/requirements.txt" "$stamp"
fi

echo "building pyfleet-bench (release)" >&2
(cd "$root" && cargo build --release --quiet -p pyfleet-bench)

exec "$python" "$here/compare.py" "$@"
