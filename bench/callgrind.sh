#!/usr/bin/env bash
# User-space instructions per operation, engine vs raw liburing, counted by
# callgrind: deterministic, unlike timings on a shared machine. The kernel's
# share (the same on both sides) is not counted.
#   CASES      which cases (default: "nop nop_batch32 echo64 echo64_multishot"; also
#              echo64_copied and echo64_sendv, engine only: run them with SIDES=engine)
#   SIDES      which sides (default: "engine raw")
#   N          operations per case (default 100000; a multiple of 32)
#   TOP        functions listed per run (default 25)
#   BUILD_DIR  build directory (default: <repo>/build-callgrind; Release + -g)
#   JOBS       parallel compile jobs (default: 2)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build-callgrind}"
n="${N:-100000}"

# -g leaves the -O3 code as it is and gives callgrind file:line.
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS=-g \
  -DRINGSOCK_BUILD_TESTS=OFF >/dev/null
ninja -C "$build" -j "${JOBS:-2}" profile_ops

summary=""
for case in ${CASES:-nop nop_batch32 echo64 echo64_multishot}; do
  for side in ${SIDES:-engine raw}; do
    out="$build/callgrind.$case.$side.out"
    valgrind --tool=callgrind --quiet --callgrind-out-file="$out" \
      --toggle-collect='*bench::measured_*' "$build/bench/profile_ops" "$case" "$side" "$n"
    ir=$(awk '/^totals:/ {print $2}' "$out")
    summary+="$(printf '%-18s %-6s %12s Ir  %8.1f Ir/op' "$case" "$side" "$ir" \
      "$(python3 -c "print($ir / $n)")")"$'\n'
    echo
    echo "== $case $side: functions by exclusive Ir (annotate $out for lines) =="
    # The function list: after the "file:function" header, up to a blank line.
    # (No early exit from the pipe: with pipefail a SIGPIPE would end the script.)
    callgrind_annotate --auto=no "$out" | awk -v top="${TOP:-25}" \
      '/file:function/ {f = 1; getline; next} f && NF == 0 {f = 0} f && shown++ < top'
  done
done
echo
printf '%s' "$summary"
