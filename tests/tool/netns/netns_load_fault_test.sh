#!/usr/bin/env bash
# Description: `ringsock load` in one network namespace against `ringsock
# serve` in another, with the path cut mid-run, on both backends. The
# namespaces are this test's own (names with its pid), joined by a veth pair;
# 10.78.1.0/24 exists only inside them. Faults:
#  - the peer vanishes for one client: two loads run at once from two
#    addresses of the client's namespace; 0.6 s into their 2 s runs, nft in
#    the server's namespace drops every packet to and from the victim's
#    address. The victim (--timeout 300ms, --assert errors=0) ends on time,
#    names `timeout` in its error table and exits 5 (the assertion); the
#    bystander (no --timeout: a slow machine cannot make it fail) is served
#    throughout: exit 0, no error. Then the rules go,
#    and a new load from the victim's address through the same serve
#    verifies every reply.
#  - the server is killed mid-run (SIGKILL): `load` ends on time, names what
#    its connections got (`closed by server`, `reset`, `refused`) and exits
#    non-zero.
# "On time" is bounded loosely (the run's duration + 8 s, a hang detector,
# not a timing assertion). Skips (77) without root, `ip` or `nft`.
#   netns_load_fault_test.sh RINGSOCK_BIN
set -euo pipefail
bin=$(readlink -f "$1")

if [[ "$(id -u)" -ne 0 ]]; then
  echo "SKIP: network namespaces need root"
  exit 77
fi
for command in ip nft timeout; do
  if ! command -v "$command" >/dev/null 2>&1; then
    echo "SKIP: $command is not installed"
    exit 77
  fi
done

tag="rskf$$"
client_ns="$tag-a"
server_ns="$tag-b"
dir=$(mktemp -d /tmp/ringsock-netns-fault.XXXXXX)
server_pid=""
stop_server() {
  if [[ -n "$server_pid" ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
cleanup() {
  stop_server
  # Deleting a namespace deletes the veth end inside it, and its peer.
  ip netns delete "$client_ns" 2>/dev/null || true
  ip netns delete "$server_ns" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

if ! ip netns add "$client_ns" 2>/dev/null; then
  echo "SKIP: cannot create network namespaces here"
  exit 77
fi
ip netns add "$server_ns"
ip -n "$client_ns" link set lo up
ip -n "$server_ns" link set lo up
ip -n "$client_ns" link add va type veth peer name vb netns "$server_ns"
ip -n "$client_ns" addr add 10.78.1.1/24 dev va
ip -n "$client_ns" addr add 10.78.1.3/24 dev va
ip -n "$server_ns" addr add 10.78.1.2/24 dev vb
ip -n "$client_ns" link set va up
ip -n "$server_ns" link set vb up
url=tcp://10.78.1.2:9000
if ! ip netns exec "$server_ns" nft add table inet rsk_probe 2>/dev/null; then
  echo "SKIP: nft cannot make tables here (no nf_tables in this kernel?)"
  exit 77
fi
ip netns exec "$server_ns" nft delete table inet rsk_probe

victim=10.78.1.3     # the client address whose path is cut
bystander=10.78.1.1  # the one that keeps being served
# The victim's peer vanishes: the server's namespace drops every packet from
# and to the victim's address, and says nothing.
drop_path() {
  ip netns exec "$server_ns" nft "add table inet rsk_fault;
    add chain inet rsk_fault in { type filter hook input priority -10; };
    add rule inet rsk_fault in ip saddr $victim drop;
    add chain inet rsk_fault out { type filter hook output priority -10; };
    add rule inet rsk_fault out ip daddr $victim drop"
}
restore_path() { ip netns exec "$server_ns" nft delete table inet rsk_fault; }

start_server() {
  ip netns exec "$server_ns" "$bin" serve "$url" --backend "$1" > "$dir/serve.out" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do grep -q '^listening ' "$dir/serve.out" && break; sleep 0.1; done
  grep -q '^listening ' "$dir/serve.out" || { echo "serve did not start: $(cat "$dir/serve.out")"; exit 1; }
}

# run_load BACKEND ARGS...: runs `load` from the client's namespace in the
# background into load.out; sets load_pid and started (epoch ns).
run_load() {
  local backend="$1"; shift
  started=$(date +%s%N)
  timeout 30 ip netns exec "$client_ns" "$bin" load "$url" --backend "$backend" "$@" \
    > "$dir/load.out" 2>&1 &
  load_pid=$!
}
# finish_load LIMIT_S: waits for the load; sets code and elapsed_ms, and
# fails if it took longer than LIMIT_S seconds.
finish_load() {
  code=0
  wait "$load_pid" || code=$?
  elapsed_ms=$(( ($(date +%s%N) - started) / 1000000 ))
  if (( elapsed_ms > $1 * 1000 )); then
    echo "load did not end on time: ${elapsed_ms} ms"; cat "$dir/load.out"; exit 1
  fi
}

for backend in uring epoll; do
  if ! "$bin" probe 2>/dev/null | grep -Eq "^$backend: +$backend "; then
    echo "$backend: cannot start here, skipped"
    continue
  fi
  start_server "$backend"

  # The peer vanishes mid-run for the victim; the bystander runs beside it.
  timeout 30 ip netns exec "$client_ns" "$bin" load "$url" --backend "$backend" --source "$bystander" \
    --connections 2 --duration 2s --assert errors=0 > "$dir/bystander.out" 2>&1 &
  bystander_pid=$!
  run_load "$backend" --source "$victim" --connections 4 --duration 2s --timeout 300ms \
    --assert errors=0
  sleep 0.6
  drop_path
  finish_load 10
  bystander_code=0
  wait "$bystander_pid" || bystander_code=$?
  restore_path
  if [[ "$code" -ne 5 ]] || ! grep -q 'timeout' "$dir/load.out"; then
    echo "$backend: path dropped: want exit 5 and timeouts in the table, got $code"
    cat "$dir/load.out"; exit 1
  fi
  if [[ "$bystander_code" -ne 0 ]] || ! grep -q 'errors *none' "$dir/bystander.out"; then
    echo "$backend: the bystander was not served throughout: exit $bystander_code"
    cat "$dir/bystander.out"; exit 1
  fi
  echo "$backend: path dropped mid-run: exit $code after ${elapsed_ms} ms; the bystander: exit 0"
  grep -E 'errors|timeout|assert' "$dir/load.out" | sed 's/^/  /'
  grep -E 'messages|errors' "$dir/bystander.out" | sed 's/^/  bystander: /'

  # The path is back: the same serve answers a new load, every reply verified.
  run_load "$backend" --source "$victim" --connections 4 --count 2000
  finish_load 20
  if [[ "$code" -ne 0 ]] || ! grep -q 'replies verified 2000' "$dir/load.out"; then
    echo "$backend: path restored: want exit 0 and 2000 replies verified, got $code"
    cat "$dir/load.out"; exit 1
  fi
  echo "$backend: path restored: 2000 replies verified"

  # The server is killed mid-run.
  run_load "$backend" --connections 4 --duration 2s --timeout 300ms --assert errors=0
  sleep 0.6
  kill -9 "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  finish_load 10
  if [[ "$code" -eq 0 ]] || ! grep -Eq 'closed by server|reset|refused' "$dir/load.out"; then
    echo "$backend: server killed: want a non-zero exit and the errors named, got $code"
    cat "$dir/load.out"; exit 1
  fi
  echo "$backend: server killed mid-run: exit $code after ${elapsed_ms} ms"
  grep -E 'errors|closed|reset|refused' "$dir/load.out" | sed 's/^/  /'
done
