#!/usr/bin/env bash
# What the per-connection cap (--max-lent) costs `ringsock serve --mode
# sockperf`: the same binary with the default cap and with it off
# (--max-lent 32768), alternating in every round, against `ringsock load
# --sockperf` (64 B). Server CPU per message from /proc/PID/stat over the
# measured run; the load's rate from its JSON.
#
#   bash bench/experiments/ab/sockperf_cap.sh [--ringsock build-bench/tools/ringsock/ringsock] \
#        [--connections 50] [--inflight 8] [--rounds 5] [--seconds 3]
#
# Server on CPU 0, client on CPU 1; 0.5 s of warmup before each run. Prints
# one line per run, then the medians of the per-round ratios (on over off).
set -euo pipefail
ringsock=build-bench/tools/ringsock/ringsock
connections=50 inflight=8 rounds=5 seconds=3
while [ $# -gt 0 ]; do
  case $1 in
    --ringsock) ringsock=$2; shift 2;;
    --connections) connections=$2; shift 2;;
    --inflight) inflight=$2; shift 2;;
    --rounds) rounds=$2; shift 2;;
    --seconds) seconds=$2; shift 2;;
    *) echo "sockperf_cap: unknown option $1" >&2; exit 2;;
  esac
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
hz=$(getconf CLK_TCK)
cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat"; }

for round in $(seq 1 "$rounds"); do
  for side in on off; do
    extra=()
    [ "$side" = off ] && extra=(--max-lent 32768)
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    taskset -c 0 "$ringsock" serve "tcp://127.0.0.1:$port" --mode sockperf "${extra[@]}" > /dev/null &
    server=$!
    for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
    load=(load "tcp://127.0.0.1:$port" --sockperf --size 64 --connections "$connections"
          --inflight "$inflight")
    taskset -c 1 "$ringsock" "${load[@]}" --duration 500ms > /dev/null 2>&1 || true
    t0=$(cpu_of "$server")
    taskset -c 1 "$ringsock" "${load[@]}" --duration "${seconds}s" --json "$work/run.json" > /dev/null
    t1=$(cpu_of "$server")
    kill "$server"; wait "$server" 2>/dev/null || true
    python3 - "$round" "$side" "$t0" "$t1" "$hz" "$work/run.json" >> "$work/lines" <<'PY'
import json, sys
rnd, side, t0, t1, hz, path = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
r = json.load(open(path))["results"]
print(rnd, side, r["rate_achieved"], (t1 - t0) / hz * 1e6 / max(1, r["received"]))
PY
    tail -1 "$work/lines" | awk '{printf "round %s cap %-3s rate %10.0f/s  server %.3f us/msg\n", $1, $2, $3, $4}'
  done
done
python3 - "$work/lines" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
by = {}
for rnd, side, rate, cpu in rows:
    by.setdefault(rnd, {})[side] = (float(rate), float(cpu))
cpu = [v["on"][1] / v["off"][1] for v in by.values() if v["off"][1] > 0]
rate = [v["on"][0] / v["off"][0] for v in by.values() if v["off"][0] > 0]
print("cap on over off, medians of per-round ratios: server CPU %.3fx, rate %.3fx (%d rounds)"
      % (statistics.median(cpu), statistics.median(rate), len(by)))
PY
