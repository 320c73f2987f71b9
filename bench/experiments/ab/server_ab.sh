#!/usr/bin/env bash
# Server CPU per message of two `ringsock serve` binaries (say, before and
# after an engine change) and the hand-written liburing server, interleaved
# in every round, against the same `ringsock load` client: the A/B that
# bench/compare.sh cannot make, because it runs one build.
#
#   bash bench/experiments/ab/server_ab.sh --old OLD/ringsock --new NEW/ringsock \
#        [--build build-bench] [--rounds 7] [--transport unix|tcp|udp] \
#        [--connections 50] [--inflight 8] [--size 64] [--seconds 3] \
#        [--old-args 'ARGS'] [--new-args 'ARGS'] [--churn | --sink]
#
# --old-args and --new-args add serve options (split at spaces) to one
# side: the same binary twice with and without an option is an A/B too.
# --churn loads with `--mode churn` instead (connect, one message, close,
# on --connections slots): the figures are then per connection. --sink
# runs the servers in sink mode and loads with `--mode throughput`; on UDP
# a message counts when the server's socket did not drop it (sent minus the
# drops column of /proc/net/udp), as bench/compare.sh's W4-udp-sink counts.
#
# Server on CPU 0, client on CPU 1. Each run warms up for 0.5 s, then measures
# for --seconds; the server's CPU comes from /proc/PID/stat over the measured
# run. Prints one line per run, then medians and per-round median ratios.
set -euo pipefail

old="" new="" build=build-bench rounds=7 transport=unix connections=50 inflight=8 size=64 seconds=3
while [ $# -gt 0 ]; do
  case "$1" in
    --old) old=$2; shift 2;;
    --new) new=$2; shift 2;;
    --build) build=$2; shift 2;;
    --rounds) rounds=$2; shift 2;;
    --transport) transport=$2; shift 2;;
    --connections) connections=$2; shift 2;;
    --inflight) inflight=$2; shift 2;;
    --size) size=$2; shift 2;;
    --seconds) seconds=$2; shift 2;;
    --old-args) old_args=$2; shift 2;;
    --new-args) new_args=$2; shift 2;;
    --churn) churn=1; shift;;
    --sink) sink=1; shift;;
    -h|--help) sed -n '2,22p' "$0"; exit 0;;
    *) echo "server_ab: unknown argument $1 (see --help)" >&2; exit 2;;
  esac
done
if [ -z "$old" ] || [ -z "$new" ]; then
  echo "server_ab: --old and --new name the two ringsock binaries (see --help)" >&2
  exit 2
fi
case "$transport" in unix|tcp|udp) ;; *) echo "server_ab: --transport is unix, tcp or udp" >&2; exit 2;; esac
client="$build/tools/ringsock/ringsock"
peer="$build/bench/peers/peer-uring"
for f in "$old" "$new" "$client" "$peer"; do
  [ -x "$f" ] || { echo "server_ab: $f is not an executable (build it first)" >&2; exit 2; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
lines="$work/runs.txt"
load_args=(--mode pingpong --connections "$connections" --inflight "$inflight" --size "$size")
[ -n "${churn:-}" ] && load_args=(--mode churn --connections "$connections" --size "$size")
mode_args=()
if [ -n "${sink:-}" ]; then
  [ -n "${churn:-}" ] && { echo "server_ab: --sink and --churn exclude each other" >&2; exit 2; }
  load_args=(--mode throughput --connections "$connections" --size "$size")
  mode_args=(--mode sink)
fi
# The drops column of /proc/net/udp for a local port (0 when not UDP).
udp_drops() {
  [ "$transport" = udp ] || { echo 0; return; }
  awk -v p=":$(printf '%04X' "$1")" '$2 ~ p"$" {d += $NF} END {print d + 0}' /proc/net/udp
}
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
for round in $(seq 1 "$rounds"); do
  for server in old new hand-written; do
    port=$(free_port)
    if [ "$transport" = unix ]; then ep="unix://$work/$server.sock"; else ep="$transport://127.0.0.1:$port"; fi
    case $server in
      old) argv=("$old" serve "$ep" "${mode_args[@]}" ${old_args:-});;
      new) argv=("$new" serve "$ep" "${mode_args[@]}" ${new_args:-});;
      hand-written) argv=("$peer" "$ep" "${mode_args[@]}");;
    esac
    taskset -c 0 "${argv[@]}" > "$work/server.out" 2>&1 &
    pid=$!
    for _ in $(seq 100); do grep -Eq "^(ready|listening)" "$work/server.out" 2>/dev/null && break; sleep 0.05; done
    if ! kill -0 "$pid" 2> /dev/null; then
      echo "server_ab: the $server server ended at start:" >&2
      cat "$work/server.out" >&2
      exit 1
    fi
    taskset -c 1 "$client" load "$ep" "${load_args[@]}" --duration 500ms > /dev/null 2>&1 || true
    t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    d0=$(udp_drops "$port")
    taskset -c 1 "$client" load "$ep" "${load_args[@]}" --duration "${seconds}s" \
      --json "$work/run.json" > /dev/null 2>&1
    t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    d1=$(udp_drops "$port")
    kill "$pid"; wait "$pid" 2> /dev/null || true
    python3 - "$server" "$round" "$t0" "$t1" "$work/run.json" "${sink:-}" "$((d1 - d0))" >> "$lines" <<'PY'
import json, os, sys
server, rnd, t0, t1, path, sink, drops = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6], int(sys.argv[7])
r = json.load(open(path))["results"]
cpu = (t1 - t0) / os.sysconf("SC_CLK_TCK")
# A sink answers nothing: what it took in is what was sent and not dropped.
messages = max(0, r["sent"] - drops) if sink else r["received"]
print(server, rnd, messages / max(r["seconds"], 1e-9), cpu * 1e6 / max(1, messages))
PY
    tail -1 "$lines" | awk '{printf "round %s %-12s %.3fM msg/s, server CPU %.3f us/msg\n", $2, $1, $3/1e6, $4}'
  done
done
python3 - "$lines" <<'PY'
import collections, statistics as st, sys
runs = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    server, rnd, rate, cpu = line.split()
    runs[server][int(rnd)] = (float(rate), float(cpu))
for s in ("old", "new", "hand-written"):
    v = runs[s].values()
    print("%-12s median %.3fM msg/s, server CPU %.3f us/msg" % (s, st.median(r for r, _ in v) / 1e6, st.median(c for _, c in v)))
def ratio(a, b, i):
    v = [runs[a][k][i] / runs[b][k][i] for k in runs[a] if k in runs[b] and runs[b][k][i] > 0]
    return st.median(v) if v else float("nan")
for a, b in (("new", "old"), ("new", "hand-written"), ("old", "hand-written")):
    print("%s / %s: server CPU %.2fx, rate %.2fx (median of per-round ratios)" % (a, b, ratio(a, b, 1), ratio(a, b, 0)))
PY
