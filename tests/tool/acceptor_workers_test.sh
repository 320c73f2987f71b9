#!/usr/bin/env bash
# Description: the acceptor/worker example (tools/examples/acceptor_workers.cpp)
# on both backends: it serves, `ringsock load` verifies every echo over 6
# connections (TCP, then a UNIX name), and on SIGTERM it stops cleanly,
# every connection served by a worker (3 of them, each given some), none dropped.
#   acceptor_workers_test.sh EXAMPLE_BIN RINGSOCK_BIN
set -euo pipefail
example=$(readlink -f "$1")
ringsock=$(readlink -f "$2")
dir=$(mktemp -d /tmp/ringsock-acceptor.XXXXXX)
pid=""
cleanup() {
  if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT

run_backend() {  # BACKEND URL
  local backend="$1" url="$2" out="$dir/$1.out"
  RINGSOCK_BACKEND="$backend" "$example" "$url" 3 >"$out" 2>"$dir/$backend.err" &
  pid=$!
  for _ in $(seq 100); do
    grep -q '^listening ' "$out" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  local served
  served=$(sed -n 's/^listening \([^,]*\),.*/\1/p' "$out")
  if [[ -z "$served" && $backend == uring ]] && ! kill -0 "$pid" 2>/dev/null; then
    wait "$pid" || true
    pid=""
    echo "io_uring cannot start here ($(cat "$dir/$backend.err")): uring skipped"
    return 0
  fi
  [[ -n "$served" ]] || { echo "FAIL: $backend: not listening: $(cat "$out" "$dir/$backend.err")"; exit 1; }
  grep -q "backend $( [[ $backend == uring ]] && echo io_uring || echo epoll )" "$out" ||
    { echo "FAIL: $backend: wrong backend: $(cat "$out")"; exit 1; }
  # Connections are handed out in turn: 6 reach every one of the 3 workers.
  RINGSOCK_BACKEND="$backend" timeout 60 "$ringsock" load "$served" --connections 6 \
    --count 600 --assert errors=0 >"$dir/load.out" 2>&1 ||
    { echo "FAIL: $backend: load on $served: $(cat "$dir/load.out")"; exit 1; }
  grep -q 'verification   0 failure(s)' "$dir/load.out" ||
    { echo "FAIL: $backend: replies not verified: $(cat "$dir/load.out")"; exit 1; }
  kill -TERM "$pid"
  timeout 20 tail --pid="$pid" -f /dev/null || { echo "FAIL: $backend: did not stop"; exit 1; }
  wait "$pid" || { echo "FAIL: $backend: exit $?: $(cat "$dir/$backend.err")"; exit 1; }
  pid=""
  for worker in 0 1 2; do
    grep -Eq "^worker $worker served [1-9][0-9]* connections" "$out" ||
      { echo "FAIL: $backend: worker $worker served none: $(cat "$out")"; exit 1; }
  done
  grep -q '^dropped 0$' "$out" || { echo "FAIL: $backend: dropped: $(cat "$out")"; exit 1; }
  echo "ok: $backend $url: $(grep -c '^worker' "$out") workers served"
}

status=0
for backend in uring epoll; do
  run_backend "$backend" tcp://127.0.0.1:0
  run_backend "$backend" "unix://@ringsock-acceptor-$$-$backend"
done
exit $status
