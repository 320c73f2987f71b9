#!/usr/bin/env bash
# README command 1: install what is missing, build a Release ringsock into
# build/, then load its own server over loopback - TCP, UDP, UNIX stream and
# UNIX datagram, on io_uring and on epoll - and print the results table.
# Extra arguments go to scripts/main_job.py (--duration, --warmup,
# --connections, --size, --backends).
set -euo pipefail
cd "$(dirname "$0")/.."

jobs="${RINGSOCK_JOBS:-2}"

bash scripts/deps.sh

# A build/ made by another generator cannot be reconfigured for Ninja.
if [[ -f build/CMakeCache.txt ]] && ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' build/CMakeCache.txt; then
  echo "main: build/ was configured with another generator; reconfiguring from scratch"
  rm -rf build/CMakeCache.txt build/CMakeFiles
fi

cmake -S . -B build -G Ninja \
  -DCMAKE_BUILD_TYPE=Release \
  -DRINGSOCK_BUILD_TESTS=OFF \
  -DRINGSOCK_BUILD_BENCH=OFF \
  -DRINGSOCK_BUILD_TOOLS=ON
ninja -C build -j "$jobs" ringsock

echo
build/tools/ringsock/ringsock probe
echo
python3 scripts/main_job.py build/tools/ringsock/ringsock "$@"
