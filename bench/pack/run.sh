#!/usr/bin/env bash
# Start-up of the same apps packed by pyfleet, zipapp, shiv and pex, against
# running them from a directory with a warm __pycache__; output sizes too.
#   bench/pack/run.sh            full run (5 interleaved rounds)
#   bench/pack/run.sh --quick    2 rounds, fewer samples
# Prepares bench/pack/.venv (shiv, pex) once, builds pyfleet in release, then
# compare.py builds the apps in bench/pack/.work and prints a markdown table.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
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

echo "building pyfleet (release)" >&2
(cd "$root" && cargo build --release --quiet -p pyfleet-cli)

exec "$python" "$here/compare.py" --pyfleet "$root/target/release/pyfleet" --venv "$venv" "$@"
