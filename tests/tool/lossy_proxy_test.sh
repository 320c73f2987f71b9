#!/usr/bin/env bash
# Description: `ringsock load` through lossy_proxy.py (a user-space proxy on
# loopback that drops, delays, reorders and re-chunks), against `ringsock
# serve`, on both backends:
#  - UDP, every 10th datagram toward the server dropped: load counts exactly
#    the proxy's drops as lost (50 of 500), verifies every other reply;
#  - UDP, every 5th datagram held back behind the next, 1 ms delay: nothing
#    lost, every reply verified, the reordering counted;
#  - TCP, every chunk cut into pieces of 1 to 64 bytes: every reply verified.
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
# serve BACKEND URL NAME: starts a serve; prints its port.
serve() {
  "$bin" serve "$2" --backend "$1" > "$dir/$3.out" 2>&1 &
  pids+=($!)
  wait_for "$dir/$3.out" '^listening '
  sed -n 's/^listening .*:\([0-9]*\)$/\1/p' "$dir/$3.out" | head -1
}
# proxy NAME ARGS...: starts a proxy; prints its port; its pid in proxy_pid.
start_proxy() {
  local name="$1"; shift
  python3 "$proxy" "$@" > "$dir/$name.out" 2>&1 &
  proxy_pid=$!
  pids+=("$proxy_pid")
  wait_for "$dir/$name.out" '^listening '
}
stop_proxy() {
  kill "$proxy_pid"
  wait "$proxy_pid" 2>/dev/null || true
}
fail() { echo "$*"; cat "$dir/load.out"; exit 1; }

for backend in uring epoll; do
  if ! "$bin" probe 2>/dev/null | grep -Eq "^$backend: +$backend "; then
    echo "$backend: cannot start here, skipped"
    continue
  fi
  udp_port=$(serve "$backend" udp://127.0.0.1:0 "udp-$backend")
  tcp_port=$(serve "$backend" tcp://127.0.0.1:0 "tcp-$backend")

  start_proxy drop udp 0 "127.0.0.1:$udp_port" --drop-every 10
  port=$(awk '/^listening/ {print $2}' "$dir/drop.out")
  timeout 60 "$bin" load "udp://127.0.0.1:$port" --backend "$backend" --count 300 --inflight 8 \
    --timeout 100ms > "$dir/load.out" 2>&1 || fail "$backend: UDP with loss: exit $?"
  stop_proxy
  grep -q 'dropped 30 ' "$dir/drop.out" || fail "$backend: the proxy did not drop 30: $(cat "$dir/drop.out")"
  grep -q '(30 of 300 unanswered)' "$dir/load.out" || fail "$backend: load did not count 30 lost"
  grep -q 'replies verified 270' "$dir/load.out" || fail "$backend: want 270 replies verified"
  echo "$backend: UDP, every 10th dropped: $(grep -o 'lost.*unanswered)' "$dir/load.out")"

  start_proxy reorder udp 0 "127.0.0.1:$udp_port" --reorder-every 5 --delay-ms 1
  port=$(awk '/^listening/ {print $2}' "$dir/reorder.out")
  timeout 60 "$bin" load "udp://127.0.0.1:$port" --backend "$backend" --count 500 --inflight 8 \
    --timeout 500ms > "$dir/load.out" 2>&1 || fail "$backend: UDP reordered: exit $?"
  stop_proxy
  grep -q '(0 of 500 unanswered)' "$dir/load.out" || fail "$backend: reordering lost datagrams"
  grep -q 'replies verified 500' "$dir/load.out" || fail "$backend: want 500 replies verified"
  grep -Eq 'reordered [1-9]' "$dir/load.out" || fail "$backend: no reordering counted"
  echo "$backend: UDP, reordered: $(grep -o 'reordered [0-9]*' "$dir/load.out") (proxy: $(grep -o 'reordered [0-9]*' "$dir/reorder.out"))"

  start_proxy chop tcp 0 "127.0.0.1:$tcp_port"
  port=$(awk '/^listening/ {print $2}' "$dir/chop.out")
  timeout 60 "$bin" load "tcp://127.0.0.1:$port" --backend "$backend" --count 300 --connections 2 \
    --inflight 4 --size 40-2000 > "$dir/load.out" 2>&1 || fail "$backend: TCP re-chunked: exit $?"
  stop_proxy
  grep -q 'replies verified 300' "$dir/load.out" || fail "$backend: TCP: want 300 replies verified"
  echo "$backend: TCP, re-chunked into 1-64 byte pieces: 300 replies verified"
done
