#!/usr/bin/env bash
# README command 1: install what is missing, build a Release ringsock into
# build/, and run the echo demo (all transports, defaults) to print the table.
# Extra arguments go to ringsock-echo (see build/tools/ringsock-echo --help).
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
ninja -C build -j "$jobs" ringsock-echo

echo
build/tools/ringsock-echo "$@"
