#!/usr/bin/env bash
# Cross-builds ringsock for another architecture and, where the target's
# libraries exist, runs the whole test suite under qemu-user:
#
#   bash scripts/cross.sh arm64     aarch64-linux-gnu: build, then ctest under qemu-aarch64-static
#                                   (the engine's and C ABI's tests; the command's run on armhf)
#   bash scripts/cross.sh armhf     arm-linux-gnueabihf (32-bit): build, then ctest under qemu-arm-static
#   bash scripts/cross.sh riscv64   riscv64-linux-gnu: epoll-only build (no liburing on
#                                   bookworm riscv64), the engine's and C ABI's tests
#                                   (not the command's) built against a GoogleTest
#                                   compiled from /usr/src/googletest, not run
#                                   (RINGSOCK_CROSS_RUN_TESTS=1 runs them under qemu-riscv64-static)
#
# Installs what is missing first (scripts/cross-deps.sh ARCH), builds in
# build-cross-ARCH/ (Release, warnings as errors, no bench) with
# ninja -j${RINGSOCK_JOBS:-2}. Under qemu-user io_uring_setup fails with ENOSYS:
# the engine runs on its epoll backend and the io_uring-parametrized tests skip.
# Exits non-zero on any failure, 77 when the target's packages cannot be
# installed from this machine's package indices; prints the time each step took.
# RINGSOCK_CROSS_CMAKE_ARGS adds CMake arguments (split on spaces).
set -euo pipefail
cd "$(dirname "$0")/.."

arch="${1:-}"
jobs="${RINGSOCK_JOBS:-2}"
case "$arch" in
  arm64)   triplet=aarch64-linux-gnu;   qemu="qemu-aarch64-static"; run_tests=1 ;;
  armhf)   triplet=arm-linux-gnueabihf; qemu="qemu-arm-static";     run_tests=1 ;;
  riscv64) triplet=riscv64-linux-gnu;   qemu="qemu-riscv64-static"; run_tests=0 ;;
  *)
    echo "usage: $0 arm64|armhf|riscv64" >&2
    exit 2
    ;;
esac
# RINGSOCK_CROSS_RUN_TESTS=1 runs the riscv64 tests too: the epoll-only
# binaries need only the cross toolchain's libc and libstdc++, which qemu finds
# in /usr/riscv64-linux-gnu (needs qemu-user-static). =0 skips the tests anywhere.
run_tests="${RINGSOCK_CROSS_RUN_TESTS:-$run_tests}"
toolchain="$PWD/toolchains/$triplet.cmake"
dir="build-cross-$arch"

log() { printf 'cross %s: %s\n' "$arch" "$*"; }
timings=()
step_start=0
start() { step_start=$SECONDS; log "$1"; }
took() { timings+=("$1 $((SECONDS - step_start))s"); }
# shellcheck disable=SC2317  # called by the EXIT trap
finish() {
  local status=$?
  log "times: ${timings[*]:-none}"
  if [[ $status -eq 77 ]]; then
    log "SKIPPED: its packages cannot be installed here (exit 77)"
  elif [[ $status -ne 0 ]]; then
    log "FAILED (exit $status)"
  fi
  exit "$status"
}
trap finish EXIT

start "installing what is missing"
bash scripts/cross-deps.sh "$arch"
took deps

extra=()
if [[ "$arch" == riscv64 ]]; then
  # No liburing for the target: the epoll-only engine. Tests are listed when
  # ctest runs (not right after linking, which would need qemu at build time).
  # The command is built (it must compile for the target, here without zlib)
  # but its tests are not: they run on armhf, and riscv64's are the
  # engine's and the C ABI's, which keeps command 2 within its time.
  extra+=(-DRINGSOCK_WITH_URING=OFF -DCMAKE_GTEST_DISCOVER_TESTS_DISCOVERY_MODE=PRE_TEST
          -DRINGSOCK_BUILD_TOOL_TESTS=OFF)
fi
if [[ "$arch" == arm64 ]]; then
  # aarch64 is LP64 like the host: the command's tests run on armhf, the
  # 32-bit target where sizes and time types differ, and leaving them out here
  # keeps command 2 within its time. The engine's and C ABI's suites run.
  extra+=(-DRINGSOCK_BUILD_TOOL_TESTS=OFF)
fi

# GoogleTest for the target: the multiarch libgtest-dev:<arch> where Debian has
# it, else compiled here from the googletest sources with the same toolchain.
if [[ ! -f "/usr/lib/$triplet/cmake/GTest/GTestConfig.cmake" ]]; then
  start "no libgtest-dev for $triplet: building GoogleTest from /usr/src/googletest"
  gtest="$PWD/$dir/_googletest"
  if [[ ! -f "$gtest/install/lib/cmake/GTest/GTestConfig.cmake" ]]; then
    cmake -S /usr/src/googletest -B "$gtest/build" -G Ninja \
      -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DCMAKE_BUILD_TYPE=Release \
      -DBUILD_GMOCK=OFF -DINSTALL_GTEST=ON -DCMAKE_INSTALL_PREFIX="$gtest/install" \
      -DCMAKE_INSTALL_LIBDIR=lib >/dev/null
    ninja -C "$gtest/build" -j "$jobs" install >/dev/null
  fi
  extra+=(-DGTest_DIR="$gtest/install/lib/cmake/GTest")
  took googletest
fi

read -r -a user_args <<<"${RINGSOCK_CROSS_CMAKE_ARGS:-}"
start "configuring $dir"
cmake -S . -B "$dir" -G Ninja \
  -DCMAKE_TOOLCHAIN_FILE="$toolchain" \
  -DCMAKE_BUILD_TYPE=Release \
  -DRINGSOCK_WERROR=ON \
  -DRINGSOCK_BUILD_BENCH=OFF \
  "${extra[@]}" "${user_args[@]}"
took configure

start "building with ninja -j$jobs"
ninja -C "$dir" -j "$jobs"
took build

if [[ "$run_tests" != 1 ]]; then
  log "built only, tests not run (they are in $dir/tests; RINGSOCK_CROSS_RUN_TESTS=1 runs them under $qemu)"
  exit 0
fi
if ! command -v "$qemu" >/dev/null 2>&1; then
  log "$qemu is missing (apt-get install qemu-user-static): cannot run the tests"
  exit 1
fi

start "running the tests under $qemu"
set +e
# --no-tests=error: a suite that silently registered nothing is a failure.
ctest --test-dir "$dir" --output-on-failure --no-tests=error -j2 2>&1 | tee "$dir/ctest-output.log"
status=${PIPESTATUS[0]}
set -e
took tests
log "$(grep -E 'tests passed|No tests were found' "$dir/ctest-output.log" | tail -n1 || true)"
exit "$status"
