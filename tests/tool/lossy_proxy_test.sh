#!/usr/bin/env bash
# Description: `ringsock load` through lossy_proxy.py (a user-space proxy on
# loopback that drops, delays, reorders and re-chunks), against `ringsock
# serve`, on both backends:
#  - UDP, every 10th datagram toward the server dropped: load counts exactly
#    the proxy's drops as lost (50 of 500), verifies every other reply;
#  - UDP, every 5th datagram held back behind the next, 1 ms delay: nothing
#    lost, every reply verified, the reordering counted;
#  - TCP, every chunk cut into pieces of 1 to 64 bytes: every reply verified;
#  - TCP, every 3rd connection reset by the proxy (a server that resets every
#    Nth connection): load (--assert errors=0) ends at its duration, names
#    `reset` in its error table, exits 5; the other connections are served.
# Reply timeouts are 1 s, far above any reply's time through the proxy even
# on a loaded machine under ASan, so only the dropped datagrams are lost.
# Skips (77) without python3.
#   lossy_proxy_test.sh RINGSOCK_BIN
set -euo pipefail
bin=$(readlink -f "$1")
proxy="$(dirname "$(readlink -f "$0")")/lossy_proxy.py"
if ! command -v python3 >/dev/null 2>&1; then
  echo "SKIP: python3 is not installed"
  exit 77
fi

dir=$(mktemp -d /tmp/ringsock-lossy.XXXXXX)
pids=()
proxies=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT

# wait_for FILE PATTERN: until FILE has a line matching PATTERN (10 s at most).
wait_for() {
  for _ in $(seq 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "no '$2' in $1: $(cat "$1")"; exit 1
}
# serve URL NAME: starts a serve (not in a subshell: its pid must reach
# cleanup); sets NAME_port.
serve() {
  "$bin" serve "$1" > "$dir/$2.out" 2>&1 &
  pids+=($!)
  wait_for "$dir/$2.out" '^listening '
  declare -g "$2_port=$(sed -n 's/^listening .*:\([0-9]*\)$/\1/p' "$dir/$2.out" | head -1)"
}
fail() { echo "$*"; cat "$dir/load.out"; exit 1; }

# One serve per transport and one proxy per fault, shared by both backends'
# loads (the proxies count across runs; each run's share is exact).
serve udp://127.0.0.1:0 udp
serve tcp://127.0.0.1:0 tcp
for spec in "drop udp $udp_port --drop-every 10" "reorder udp $udp_port --reorder-every 5 --delay-ms 1" \
            "chop tcp $tcp_port" "reset tcp $tcp_port --reset-every 3"; do
  set -- $spec
  name=$1 transport=$2 upstream=$3; shift 3
  python3 "$proxy" "$transport" 0 "127.0.0.1:$upstream" "$@" > "$dir/$name.out" 2>&1 &
  pids+=($!)
  proxies+=($!)
done
for name in drop reorder chop reset; do
  wait_for "$dir/$name.out" '^listening '
  declare -g "${name}_port=$(awk '/^listening/ {print $2}' "$dir/$name.out")"
done

runs=0
for backend in uring epoll; do
  if ! "$bin" probe 2>/dev/null | grep -Eq "^$backend: +$backend "; then
    echo "$backend: cannot start here, skipped"
    continue
  fi
  runs=$((runs + 1))

  timeout 60 "$bin" load "udp://127.0.0.1:$drop_port" --backend "$backend" --count 300 \
    --inflight 32 --timeout 1s > "$dir/load.out" 2>&1 || fail "$backend: UDP with loss: exit $?"
  grep -q '(30 of 300 unanswered)' "$dir/load.out" || fail "$backend: load did not count 30 lost"
  grep -q 'replies verified 270' "$dir/load.out" || fail "$backend: want 270 replies verified"
  echo "$backend: UDP, every 10th dropped: $(grep -o 'lost.*unanswered)' "$dir/load.out")"

  timeout 60 "$bin" load "udp://127.0.0.1:$reorder_port" --backend "$backend" --count 500 \
    --inflight 8 --timeout 1s > "$dir/load.out" 2>&1 || fail "$backend: UDP reordered: exit $?"
  grep -q '(0 of 500 unanswered)' "$dir/load.out" || fail "$backend: reordering lost datagrams"
  grep -q 'replies verified 500' "$dir/load.out" || fail "$backend: want 500 replies verified"
  grep -Eq 'reordered [1-9]' "$dir/load.out" || fail "$backend: no reordering counted"
  echo "$backend: UDP, reordered: $(grep -o 'reordered [0-9]*' "$dir/load.out")"

  timeout 60 "$bin" load "tcp://127.0.0.1:$chop_port" --backend "$backend" --count 300 \
    --connections 2 --inflight 4 --size 40-2000 > "$dir/load.out" 2>&1 ||
    fail "$backend: TCP re-chunked: exit $?"
  grep -q 'replies verified 300' "$dir/load.out" || fail "$backend: TCP: want 300 replies verified"
  echo "$backend: TCP, re-chunked into 1-64 byte pieces: 300 replies verified"

  code=0
  timeout 60 "$bin" load "tcp://127.0.0.1:$reset_port" --backend "$backend" --connections 6 \
    --duration 500ms --assert errors=0 > "$dir/load.out" 2>&1 || code=$?
  [[ "$code" -eq 5 ]] || fail "$backend: every 3rd connection reset: want exit 5, got $code"
  grep -Eq 'errors +reset 2 ' "$dir/load.out" || fail "$backend: want reset 2 in the error table"
  grep -Eq 'replies verified [1-9]' "$dir/load.out" || fail "$backend: the others were not served"
  echo "$backend: TCP, every 3rd connection reset: exit 5, reset 2 in the table"
done

# The proxies' own counts: exactly what the loads saw, summed over the runs.
for pid in "${proxies[@]}"; do kill "$pid"; wait "$pid" 2>/dev/null || true; done
grep -q "dropped $((30 * runs)) " "$dir/drop.out" || fail "the proxy's drops: $(cat "$dir/drop.out")"
grep -q "reset $((2 * runs))\$" "$dir/reset.out" || fail "the proxy's resets: $(cat "$dir/reset.out")"
echo "proxies: $(tail -1 "$dir/drop.out"); $(tail -1 "$dir/reset.out")"
