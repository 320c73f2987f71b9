#!/usr/bin/env bash
# README command 2: install what is missing, build everything with warnings as
# errors into build-test/, run every test suite. Exits non-zero on any build
# or test failure. With CI=true it ends with one summary line for the log.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs="${RINGSOCK_JOBS:-2}"
ci="${CI:-false}"

bash scripts/deps.sh

if [[ "$ci" == "true" ]]; then
  echo "test: kernel $(uname -r); $(cmake --version | head -n1); $(c++ --version | head -n1)"
fi

cmake -S . -B build-test -G Ninja -DRINGSOCK_WERROR=ON
ninja -C build-test -j "$jobs"

# --no-tests=error: a suite that silently registered nothing is a failure.
log="build-test/ctest-output.log"
set +e
ctest --test-dir build-test --output-on-failure --no-tests=error -j2 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

if [[ "$ci" == "true" ]]; then
  # ctest's own "N% tests passed, M tests failed out of K", or why there is none.
  summary="$(grep -E 'tests passed|No tests were found' "$log" | tail -n1 || true)"
  result="PASS"
  [[ $status -ne 0 ]] && result="FAIL"
  echo "ctest summary: ${result} (exit ${status}): ${summary:-no ctest summary line (see log above)}"
fi
exit "$status"
