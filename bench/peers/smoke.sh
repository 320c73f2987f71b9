#!/usr/bin/env bash
# Smoke test of one peer server against `ringsock load`.
#   bench/peers/smoke.sh PEER_BINARY RINGSOCK_BINARY [PEER_OPTION...]
# Starts the peer in echo mode on a free loopback TCP/UDP port and a UNIX path,
# verifies 2000 echoed messages on each, starts a sink instance and streams to
# it for 1 s, then SIGTERMs both and checks exit 0 and the counters line. Also
# checks the exit codes for bad arguments (2) and a port in use (1).
set -u
if [ $# -lt 2 ]; then
  echo "usage: $0 PEER_BINARY RINGSOCK_BINARY [PEER_OPTION...]" >&2
  exit 2
fi
peer=$1
ringsock=$2
shift 2
options=("$@")  # given to every peer started below
name="$(basename "$peer")${options[*]:+ ${options[*]}}"
dir=$(mktemp -d "${TMPDIR:-/tmp}/peer-smoke.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  rm -rf "$dir"
}
trap cleanup EXIT
fail() {
  echo "FAIL ($name): $*" >&2
  for f in "$dir"/*.out "$dir"/*.err; do
    [ -s "$f" ] && { echo "--- $f" >&2; cat "$f" >&2; }
  done
  exit 1
}

# start_peer MODE: sets port_MODE and pid_MODE once the peer printed `ready`.
start_peer() {
  local mode=$1 attempt port pid i
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    port=$((10000 + RANDOM % 22000))  # below the ephemeral range
    "$peer" "${options[@]}" --mode "$mode" "tcp://127.0.0.1:$port" "udp://127.0.0.1:$port" \
      "unix://$dir/$mode.sock" >"$dir/$mode.out" 2>"$dir/$mode.err" &
    pid=$!
    for i in $(seq 1 200); do
      if [ -s "$dir/$mode.out" ]; then break; fi
      if ! kill -0 "$pid" 2>/dev/null; then break; fi
      sleep 0.05
    done
    if [ "$(head -n 1 "$dir/$mode.out")" = ready ]; then
      pids+=("$pid")
      eval "port_$mode=$port pid_$mode=$pid"
      return 0
    fi
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid"
      fail "$mode instance did not print ready within 10 s"
    fi
    wait "$pid"
    local status=$?
    [ $status -eq 1 ] || fail "$mode instance exited $status before ready"
    # exit 1: the port was taken, try another
  done
  fail "no free port found in 10 attempts"
}

load() {
  echo "+ ringsock load $*"
  timeout 30 "$ringsock" load "$@" >"$dir/load.out" 2>&1
  local status=$?
  cat "$dir/load.out"
  [ $status -eq 0 ] || fail "ringsock load $* exited $status"
}

# stop_peer MODE: SIGTERM, exit 0, and the counters line; sets the counters.
stop_peer() {
  local mode=$1 pid i status line
  eval "pid=\$pid_$mode"
  kill -TERM "$pid"
  for i in $(seq 1 200); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -0 "$pid" 2>/dev/null && fail "$mode instance still running 10 s after SIGTERM"
  wait "$pid"
  status=$?
  [ $status -eq 0 ] || fail "$mode instance exited $status after SIGTERM"
  line=$(sed -n 2p "$dir/$mode.out")
  echo "$mode instance: $line"
  [ "$(wc -l <"$dir/$mode.out")" -eq 2 ] || fail "$mode instance: expected 2 lines of output"
  [[ $line =~ ^connections\ ([0-9]+),\ messages_in\ ([0-9]+),\ bytes_in\ ([0-9]+),\ bytes_out\ ([0-9]+)$ ]] ||
    fail "$mode instance: bad counters line '$line'"
  connections=${BASH_REMATCH[1]} messages_in=${BASH_REMATCH[2]}
  bytes_in=${BASH_REMATCH[3]} bytes_out=${BASH_REMATCH[4]}
}

# Argument errors exit 2, a port in use exits 1 naming the endpoint.
"$peer" >/dev/null 2>&1; status=$?
[ $status -eq 2 ] || fail "no endpoint: exit $status, expected 2"
"$peer" --mode bogus tcp://127.0.0.1:1 >/dev/null 2>&1; status=$?
[ $status -eq 2 ] || fail "--mode bogus: exit $status, expected 2"
"$peer" tcp://localhost:1 >/dev/null 2>&1; status=$?
[ $status -eq 2 ] || fail "bad endpoint: exit $status, expected 2"

start_peer echo
"$peer" "tcp://127.0.0.1:$port_echo" >/dev/null 2>"$dir/busy.err"; status=$?
[ $status -eq 1 ] || fail "port in use: exit $status, expected 1"
grep -q "tcp://127.0.0.1:$port_echo" "$dir/busy.err" || fail "port in use: endpoint not named"

for endpoint in "tcp://127.0.0.1:$port_echo" "udp://127.0.0.1:$port_echo" "unix://$dir/echo.sock"; do
  load "$endpoint" --count 2000 --connections 4 --inflight 4 --assert errors=0
done

start_peer sink
load "tcp://127.0.0.1:$port_sink" --mode throughput --duration 1s --connections 2 --size 16384
load "unix://$dir/sink.sock" --mode throughput --duration 1s --connections 2 --size 16384

stop_peer echo
[ "$connections" -ge 8 ] || fail "echo: $connections connections counted, expected >= 8"
[ "$messages_in" -gt 0 ] || fail "echo: no messages counted"
# 2000 messages x 64 bytes on each of three transports, all echoed.
[ "$bytes_in" -ge 384000 ] || fail "echo: bytes_in $bytes_in < 384000"
[ "$bytes_in" -eq "$bytes_out" ] || fail "echo: bytes_in $bytes_in != bytes_out $bytes_out"

stop_peer sink
[ "$connections" -ge 4 ] || fail "sink: $connections connections counted, expected >= 4"
[ "$bytes_in" -gt 1000000 ] || fail "sink: bytes_in $bytes_in, expected > 1 MB in 2 s"
[ "$bytes_out" -eq 0 ] || fail "sink: bytes_out $bytes_out, expected 0"
[ ! -e "$dir/echo.sock" ] || fail "UNIX path not removed at exit"

echo "PASS ($name)"
