#!/usr/bin/env bash
# The whole test suite: set up the test bed, then format check, lints, and every
# test (unit, integration against real interpreters, doc tests). Bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."

# Lines of KEY=VALUE from the set-up become the tests' environment (the test bed's
# facts file is named there: PYFLEET_TESTBED).
while IFS= read -r line; do
    export "${line?}"
done < <(timeout 900 scripts/testbed/setup.sh)
# A failed set-up stops here, not in a hundred tests that cannot reach it.
wait $! || { echo "scripts/testbed/setup.sh failed" >&2; exit 1; }

# Tests must not depend on what the developer's shell exports.
unset PYTHONPATH PYTHONHOME PYTHONSTARTUP

echo "== cargo fmt --check"
timeout 300 cargo fmt --all -- --check
echo "== cargo clippy"
timeout 1800 cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
timeout 2700 cargo test --workspace --all-targets --locked --no-fail-fast
timeout 900 cargo test --workspace --doc --locked
echo "== all tests passed"
