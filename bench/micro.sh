#!/usr/bin/env bash
# Builds engine_bench (Release) and prints engine vs raw liburing medians as a
# Markdown table. Extra arguments go to engine_bench (for example
# --benchmark_filter=nop or --benchmark_enable_random_interleaving=true).
# The environment (RINGSOCK_BACKEND included) is passed through untouched.
#   BUILD_DIR  build directory (default: <repo>/build-bench)
#   JOBS       parallel compile jobs (default: 2)
#   CPU        the CPU the bench is pinned to (default: 1)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build-bench}"
json="$build/engine_bench.json"

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DRINGSOCK_BUILD_TESTS=OFF
ninja -C "$build" -j "${JOBS:-2}" engine_bench

# benchmark 1.7.1: --benchmark_min_time takes plain seconds (the "0.2s" form is 1.8+).
# Repetitions of engine and raw are interleaved in random order and the
# process is pinned to one CPU (CPU, default 1): on a shared 2-core machine
# that brought the spread of a NOP from ~8% to ~2%.
pin=()
if command -v taskset >/dev/null; then pin=(taskset -c "${CPU:-1}"); fi
"${pin[@]}" "$build/bench/engine_bench" --benchmark_repetitions=15 \
  --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true \
  --benchmark_min_time=0.1 --benchmark_out="$json" --benchmark_out_format=json "$@"

# ns/op: median real time per operation (a NOP or an echo round trip), from
# items/s. cpu ns/op: median thread CPU time per operation; all the work runs
# on the benchmark thread (DEFER_TASKRUN), so it is the figure that other load
# on a shared machine disturbs least. cv: spread of the 15 real-time repetitions.
python3 - "$json" <<'PY'
import json, sys
SCALE = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
rows = {}
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if b.get("run_type") != "aggregate" or b.get("error_occurred"):
        continue
    parts = b["run_name"].split("/")
    side = "engine" if "engine" in parts else "raw" if "raw" in parts else None
    if side is None:
        continue
    stats = rows.setdefault(parts[0], {}).setdefault(side, {})
    if b["aggregate_name"] == "median" and b.get("items_per_second"):
        real_ns = b["real_time"] * SCALE[b["time_unit"]]
        ops_per_iteration = round(b["items_per_second"] * real_ns * 1e-9)
        stats["ns"] = 1e9 / b["items_per_second"]
        stats["cpu"] = b["cpu_time"] * SCALE[b["time_unit"]] / max(ops_per_iteration, 1)
    elif b["aggregate_name"] == "cv":
        stats["cv"] = 100.0 * b["real_time"]

def cell(stats, key, pattern):
    return pattern % stats[key] if key in stats else "n/a"

def ratio(engine, raw, key):
    return "%.2fx" % (engine[key] / raw[key]) if key in engine and key in raw else "n/a"

print()
print("| benchmark | engine median ns/op | raw liburing median ns/op | engine/raw "
      "| engine cpu ns/op | raw cpu ns/op | engine/raw (cpu) | cv engine / raw |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
# Repetitions run interleaved, so the JSON's order is random: a fixed order here.
ORDER = ["nop", "nop_batch32", "echo64", "echo64_multishot"]
for case, sides in sorted(rows.items(), key=lambda r: (ORDER + [r[0]]).index(r[0])):
    engine, raw = sides.get("engine", {}), sides.get("raw", {})
    print("| %s | %s | %s | %s | %s | %s | %s | %s / %s |" % (
        case, cell(engine, "ns", "%.1f"), cell(raw, "ns", "%.1f"), ratio(engine, raw, "ns"),
        cell(engine, "cpu", "%.1f"), cell(raw, "cpu", "%.1f"), ratio(engine, raw, "cpu"),
        cell(engine, "cv", "%.1f%%"), cell(raw, "cv", "%.1f%%")))
PY
