#!/usr/bin/env bash
# README command 2: install what is missing (scripts/deps.sh, chromium for
# the report's browser test: scripts/browser-deps.sh, Slurm for the sharded
# load tests: scripts/slurm-deps.sh), build everything with warnings as
# errors into build-test/ and run every test suite, then the same under
# ASan+UBSan in build-asan/ (RINGSOCK_SKIP_ASAN=1 skips that pass), then -
# with CI=true or RINGSOCK_CROSS=1 - the cross builds of scripts/cross.sh
# under qemu-user. Exits non-zero on any build or test failure. With CI=true
# it ends with one summary line for the log.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs="${RINGSOCK_JOBS:-2}"
ci="${CI:-false}"

bash scripts/deps.sh
bash scripts/browser-deps.sh  # chromium: the report's pages are checked in a real browser
bash scripts/slurm-deps.sh    # Slurm and munge: sharded loads under a real single-node Slurm

if [[ "$ci" == "true" ]]; then
  echo "test: kernel $(uname -r); $(cmake --version | head -n1); $(c++ --version | head -n1)"
fi

# Runs one configuration: build with warnings as errors, then every suite.
# $1 = build directory, the rest = extra CMake arguments.
run_suite() {
  local dir="$1"
  shift
  cmake -S . -B "$dir" -G Ninja -DRINGSOCK_WERROR=ON -DRINGSOCK_BUILD_TESTS=ON -DRINGSOCK_BUILD_TOOLS=ON "$@" || return $?
  ninja -C "$dir" -j "$jobs" || return $?
  # --no-tests=error: a suite that silently registered nothing is a failure.
  ctest --test-dir "$dir" --output-on-failure --no-tests=error -j2 2>&1 | tee "$dir/ctest-output.log"
  return "${PIPESTATUS[0]}"
}

# The plain build, then the same suite under ASan+UBSan (both backends run in
# each: every socket test is parametrized by backend). The zero-allocation
# test is left out of the sanitizer build, whose allocator it would count.
set +e
run_suite build-test -DRINGSOCK_BUILD_BENCH=ON  # the bench is built (not run) so it cannot rot
status=$?
asan_status=0
if [[ "${RINGSOCK_SKIP_ASAN:-0}" != "1" ]]; then
  run_suite build-asan -DRINGSOCK_SANITIZE=address -DRINGSOCK_BUILD_BENCH=OFF
  asan_status=$?
fi
# The cross targets (CI, or RINGSOCK_CROSS=1): aarch64 and armhf run the
# whole suite under qemu-user (where io_uring is missing, so the epoll
# fallback is what runs), riscv64 builds epoll-only and runs it too. A target
# whose packages cannot be installed is reported SKIPPED; a failing build or
# test fails the run.
cross_status=0
cross_summary=""
if [[ "$ci" == "true" || "${RINGSOCK_CROSS:-0}" == "1" ]]; then
  # CI machines are disposable: let multiarch align a host package version
  # the foreign index lacks (see scripts/cross-deps.sh).
  if [[ "$ci" == "true" ]]; then
    export RINGSOCK_CROSS_ALLOW_DOWNGRADE="${RINGSOCK_CROSS_ALLOW_DOWNGRADE:-1}"
  fi
  for arch in arm64 armhf riscv64; do
    RINGSOCK_CROSS_RUN_TESTS=1 bash scripts/cross.sh "$arch"
    rc=$?
    if [[ $rc -eq 77 ]]; then
      cross_summary+=" $arch:SKIPPED(packages unavailable)"
    elif [[ $rc -ne 0 ]]; then
      cross_summary+=" $arch:FAIL"
      cross_status=$rc
    else
      cross_summary+=" $arch:PASS"
    fi
  done
fi
set -e

summary() {  # ctest's own "N% tests passed, M tests failed out of K"
  grep -E 'tests passed|No tests were found' "$1/ctest-output.log" 2>/dev/null | tail -n1 || true
}
echo "test summary (plain):      $(summary build-test)"
if [[ "${RINGSOCK_SKIP_ASAN:-0}" != "1" ]]; then
  echo "test summary (ASan+UBSan): $(summary build-asan)"
fi
if [[ -n "$cross_summary" ]]; then
  echo "test summary (cross):     ${cross_summary# }"
fi
if [[ "$ci" == "true" ]]; then
  result="PASS"
  if [[ $status -ne 0 || $asan_status -ne 0 || $cross_status -ne 0 ]]; then
    result="FAIL"
  fi
  echo "ctest summary: ${result} (plain exit ${status}, ASan+UBSan exit ${asan_status}, cross exit ${cross_status})"
fi
for code in "$status" "$asan_status" "$cross_status"; do
  if [[ $code -ne 0 ]]; then
    exit "$code"
  fi
done
exit 0
