#!/usr/bin/env bash
# README command 2: install what is missing (scripts/deps.sh, chromium for
# the report's browser test: scripts/browser-deps.sh, Slurm for the sharded
# load tests: scripts/slurm-deps.sh), build everything with warnings as
# errors into build-test/ and run every test suite, then the same under
# ASan+UBSan in build-asan/ (RINGSOCK_SKIP_ASAN=1 skips that pass), then the
# libFuzzer harnesses for a bounded time each (scripts/fuzz.sh, build-fuzz/;
# RINGSOCK_SKIP_FUZZ=1 skips it), then the tests that run threads under TSan
# (build-tsan/, ctest -L threads; RINGSOCK_SKIP_TSAN=1 skips it), then - with
# CI=true or RINGSOCK_CROSS=1 - the cross builds of scripts/cross.sh under
# qemu-user. Exits non-zero on any build or test failure. With CI=true it ends
# with one summary line for the log.
set -euo pipefail
cd "$(dirname "$0")/.."

jobs="${RINGSOCK_JOBS:-2}"
# Tests run four at a time on 2 cores: most of a test's time is spent waiting
# on sockets, child processes and servers, and none asserts on timing. On this
# kind of machine the plain suite took 174 s at -j2 and 130 s at -j4, the
# ASan suite 187 s and 150 s. The TSan suite (threads that keep the cores
# busy, 19 s) and the cross suites under qemu-user run two at a time.
test_jobs="${RINGSOCK_TEST_JOBS:-4}"
ci="${CI:-false}"

# Wall time of each pass, printed at the end: command 2 must stay within its
# time on 2 cores, and the log shows where the time goes.
pass_times=()
pass_start=$SECONDS
timed() { pass_times+=("$1 $((SECONDS - pass_start))s"); pass_start=$SECONDS; }

bash scripts/deps.sh
bash scripts/browser-deps.sh  # chromium: the report's pages are checked in a real browser
bash scripts/slurm-deps.sh    # Slurm and munge: sharded loads under a real single-node Slurm
timed deps

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
  ctest --test-dir "$dir" --output-on-failure --no-tests=error -j "$test_jobs" 2>&1 | tee "$dir/ctest-output.log"
  return "${PIPESTATUS[0]}"
}

# Debug information at -g1 (line tables and functions, enough for a backtrace
# and a sanitizer report) instead of -g: a third less compile time on 2 cores.
# The sanitizer builds compile at -O1, as the sanitizers' own documentation
# suggests: reports keep their lines, and builds take 40% less time than -O2.
plain_flags="-O2 -g1 -DNDEBUG"
sanitizer_flags="-O1 -g1 -DNDEBUG"

# The plain build, then the same suite under ASan+UBSan (both backends run in
# each: every socket test is parametrized by backend). The zero-allocation
# test is left out of the sanitizer build, whose allocator it would count.
set +e
run_suite build-test -DRINGSOCK_BUILD_BENCH=ON "-DCMAKE_BUILD_TYPE=RelWithDebInfo" \
  "-DCMAKE_C_FLAGS_RELWITHDEBINFO=$plain_flags" "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=$plain_flags"  # the bench is built (not run) so it cannot rot
status=$?
timed plain
asan_status=0
if [[ "${RINGSOCK_SKIP_ASAN:-0}" != "1" ]]; then
  run_suite build-asan -DRINGSOCK_SANITIZE=address -DRINGSOCK_BUILD_BENCH=OFF "-DCMAKE_BUILD_TYPE=RelWithDebInfo" \
    "-DCMAKE_C_FLAGS_RELWITHDEBINFO=$sanitizer_flags" "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=$sanitizer_flags"
  asan_status=$?
  timed asan
fi
# Fuzzing: every harness of tests/fuzz from its committed corpus, under
# ASan+UBSan, 10 s each here (RINGSOCK_FUZZ_SECONDS; longer runs are for
# scripts/fuzz.sh by hand); a crash fails the run and names the input. The
# seed is fixed (RINGSOCK_FUZZ_SEED, 1) so that this pass is a test that
# gives the same answer on every machine; new inputs are searched for by hand.
fuzz_status=0
if [[ "${RINGSOCK_SKIP_FUZZ:-0}" != "1" ]]; then
  mkdir -p build-fuzz
  RINGSOCK_FUZZ_SECONDS="${RINGSOCK_FUZZ_SECONDS:-10}" RINGSOCK_FUZZ_SEED="${RINGSOCK_FUZZ_SEED:-1}" \
    bash scripts/fuzz.sh 2>&1 | tee build-fuzz/fuzz-output.log
  fuzz_status=${PIPESTATUS[0]}
  timed fuzz
fi
# TSan: the tests labelled "threads" (wake from other threads, serve and load
# with --threads, peers on threads), built with -fsanitize=thread. Its
# runtime needs the address layout it was built for, which newer kernels
# randomise beyond (vm.mmap_rnd_bits > 28): ASLR is turned off for the run
# with setarch -R where that is allowed.
run_tsan() {
  local dir=build-tsan
  cmake -S . -B "$dir" -G Ninja -DRINGSOCK_WERROR=ON -DRINGSOCK_BUILD_TESTS=ON \
    -DRINGSOCK_BUILD_TOOLS=ON -DRINGSOCK_SANITIZE=thread -DRINGSOCK_BUILD_BENCH=OFF \
    "-DCMAKE_BUILD_TYPE=RelWithDebInfo" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=$sanitizer_flags" \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=$sanitizer_flags" || return $?
  ninja -C "$dir" -j "$jobs" threads_tests || return $?
  local no_aslr=()
  if setarch "$(uname -m)" -R true 2>/dev/null; then
    no_aslr=(setarch "$(uname -m)" -R)
  else
    echo "test: setarch -R not allowed here; TSan may fail if vm.mmap_rnd_bits > 28"
  fi
  # tests/tsan.supp, if one is ever needed, says why each entry is there.
  local options="second_deadlock_stack=1"
  [[ -f tests/tsan.supp ]] && options+=" suppressions=$PWD/tests/tsan.supp"
  TSAN_OPTIONS="$options" "${no_aslr[@]}" \
    ctest --test-dir "$dir" -L threads --output-on-failure --no-tests=error -j2 2>&1 |
    tee "$dir/ctest-output.log"
  return "${PIPESTATUS[0]}"
}
tsan_status=0
if [[ "${RINGSOCK_SKIP_TSAN:-0}" != "1" ]]; then
  run_tsan
  tsan_status=$?
  timed tsan
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
    timed "$arch"
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
if [[ "${RINGSOCK_SKIP_FUZZ:-0}" != "1" ]]; then
  fuzz_line="$(grep -E '^fuzz summary:' build-fuzz/fuzz-output.log 2>/dev/null | tail -n1 || true)"
  if [[ -z "$fuzz_line" ]]; then
    fuzz_line="fuzz summary: FAIL (no summary: the build failed?)"
  fi
  echo "test summary (fuzz):       ${fuzz_line#fuzz summary: }"
fi
if [[ "${RINGSOCK_SKIP_TSAN:-0}" != "1" ]]; then
  echo "test summary (TSan):       $(summary build-tsan)"
fi
if [[ -n "$cross_summary" ]]; then
  echo "test summary (cross):     ${cross_summary# }"
fi
echo "test times: ${pass_times[*]} (total ${SECONDS}s)"
if [[ "$ci" == "true" ]]; then
  result="PASS"
  if [[ $status -ne 0 || $asan_status -ne 0 || $fuzz_status -ne 0 || $tsan_status -ne 0 ||
        $cross_status -ne 0 ]]; then
    result="FAIL"
  fi
  echo "ctest summary: ${result} (plain exit ${status}, ASan+UBSan exit ${asan_status}, fuzz exit ${fuzz_status}, TSan exit ${tsan_status}, cross exit ${cross_status})"
fi
for code in "$status" "$asan_status" "$fuzz_status" "$tsan_status" "$cross_status"; do
  if [[ $code -ne 0 ]]; then
    exit "$code"
  fi
done
exit 0
