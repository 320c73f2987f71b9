#!/usr/bin/env bash
# Description: `ringsock load --mode churn` says when the client's ephemeral
# ports may be what limits its rate: over TCP from one local address at a
# quarter or more of the range per second (every closed port waits in
# TIME_WAIT). In a network namespace of this test's own, whose
# ip_local_port_range is narrowed to 64 ports, against `ringsock serve` in
# the same namespace, on both backends:
#  - 40 connections/s from one address: the "ports" note is printed;
#  - 40/s from eight addresses (--source): no note;
#  - 5/s from one address (under a quarter of 64): no note.
# The JSON result's results.ports_may_limit says the same (64, or 0). Every
# run is bounded (--duration 1s) and must exit 0 with its replies verified.
# Skips (77) without root or `ip`.
#   churn_ports_note_test.sh RINGSOCK_BIN
set -euo pipefail
bin=$(readlink -f "$1")

if [[ "$(id -u)" -ne 0 ]]; then
  echo "SKIP: network namespaces need root"
  exit 77
fi
for command in ip timeout; do
  if ! command -v "$command" >/dev/null 2>&1; then
    echo "SKIP: $command is not installed"
    exit 77
  fi
done

ns="rskp$$"
dir=$(mktemp -d /tmp/ringsock-churn-ports.XXXXXX)
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  ip netns delete "$ns" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

if ! ip netns add "$ns" 2>/dev/null; then
  echo "SKIP: cannot create network namespaces here"
  exit 77
fi
ip netns exec "$ns" ip link set lo up
echo "40000 40063" > "$dir/range"
if ! ip netns exec "$ns" sh -c "cat '$dir/range' > /proc/sys/net/ipv4/ip_local_port_range"; then
  echo "SKIP: cannot narrow ip_local_port_range in a namespace here"
  exit 77
fi

failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# run_load BACKEND EXPECT(note|none) LOAD_ARGS...
run_load() {
  local backend=$1 expect=$2
  shift 2
  local out="$dir/load.out"
  local code=0
  timeout 30 ip netns exec "$ns" "$bin" load tcp://127.0.0.1:5000 --backend "$backend" \
    --mode churn --connections 4 --duration 1s --json "$dir/load.json" "$@" > "$out" 2>&1 ||
    code=$?
  if [[ $code -ne 0 ]]; then
    fail "$backend $*: exit $code"
    cat "$out"
    return
  fi
  if ! grep -q "verification   0 failure(s)" "$out"; then
    fail "$backend $*: replies not all verified"
    cat "$out"
  fi
  local noted=none
  grep -q "^  ports .*from one local address" "$out" && noted=note
  # The JSON result says the same: the range's size (64), or 0.
  local ports
  ports=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["results"]["ports_may_limit"])' \
    "$dir/load.json" 2>&1) || ports="unreadable: $ports"
  local want=0
  [[ "$expect" == note ]] && want=64
  if [[ "$ports" != "$want" ]]; then
    fail "$backend $*: results.ports_may_limit is '$ports', expected $want"
  fi
  if [[ "$noted" != "$expect" ]]; then
    fail "$backend $*: expected '$expect', got '$noted'"
    cat "$out"
  else
    echo "ok: $backend $* -> $noted"
  fi
}

for backend in uring epoll; do
  ip netns exec "$ns" "$bin" serve tcp://127.0.0.1:5000 --backend "$backend" > "$dir/serve.out" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do
    grep -q "^listening" "$dir/serve.out" 2>/dev/null && break
    sleep 0.05
  done
  if ! grep -q "^listening" "$dir/serve.out"; then
    fail "serve --backend $backend did not start"
    cat "$dir/serve.out"
  else
    run_load "$backend" note --rate 40
    run_load "$backend" none --rate 40 --source 127.0.0.2-127.0.0.9
    run_load "$backend" none --rate 5
  fi
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
done

if [[ $failures -ne 0 ]]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "PASS"
