#!/usr/bin/env bash
# Description: a sharded load under a real single-node Slurm
# (scripts/slurm-node.sh): `srun -n 4 ringsock load ... --shard auto
# --start-at ...`, each task from its own network namespace, against a
# `ringsock serve` in another one, then `ringsock merge`; on both backends.
# The namespaces are this test's own: a bridge namespace holds a bridge with a
# veth pair to each of the server's and the 4 clients' namespaces, addresses
# 10.77.0.0/24 exist only inside them (the host's namespace gets none).
# Everything is torn down on exit. Skips (77) without root, Slurm or `ip`.
#   slurm_netns_load_test.sh RINGSOCK_BIN SCRIPTS_DIR
set -euo pipefail
bin=$(readlink -f "$1")
scripts="$2"

if [[ "$(id -u)" -ne 0 ]]; then
  echo "SKIP: Slurm's daemons and network namespaces need root"
  exit 77
fi
for command in slurmctld slurmd srun sinfo munged ip python3; do
  if ! command -v "$command" >/dev/null 2>&1; then
    echo "SKIP: $command is not installed (bash scripts/slurm-deps.sh installs Slurm)"
    exit 77
  fi
done

tag="rsk$$"
bridge_ns="$tag-br"
server_ns="$tag-srv"
clients=(0 1 2 3)
dir=$(mktemp -d /tmp/ringsock-slurm-netns.XXXXXX)
chmod 0755 "$dir"
server_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  bash "$scripts/slurm-node.sh" stop "$dir/slurm" || true
  # Deleting a namespace deletes the veth ends and the bridge inside it.
  for ns in "$bridge_ns" "$server_ns" "${clients[@]/#/$tag-c}"; do
    ip netns delete "$ns" 2>/dev/null || true
  done
  rm -rf "$dir"
}
trap cleanup EXIT

if ! ip netns add "$bridge_ns" 2>/dev/null; then
  echo "SKIP: cannot create network namespaces here"
  exit 77
fi
ip -n "$bridge_ns" link set lo up
ip -n "$bridge_ns" link add br0 type bridge
ip -n "$bridge_ns" link set br0 up
# NAME ADDRESS: a namespace joined to the bridge, with its address.
join() {
  local ns="$1" address="$2"
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip -n "$ns" link add eth0 type veth peer name "p-$ns" netns "$bridge_ns"
  ip -n "$bridge_ns" link set "p-$ns" master br0 up
  ip -n "$ns" addr add "$address/24" dev eth0
  ip -n "$ns" link set eth0 up
}
join "$server_ns" 10.77.0.1
for k in "${clients[@]}"; do join "$tag-c$k" "10.77.0.$((11 + k))"; done

bash "$scripts/slurm-node.sh" start "$dir/slurm" 4
count=4000
for backend in uring epoll; do
  export RINGSOCK_BACKEND=$backend
  rm -f "$dir"/shard-*.json "$dir/merged.json" "$dir/serve.out"
  ip netns exec "$server_ns" "$bin" serve tcp://10.77.0.1:9000 > "$dir/serve.out" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do grep -q '^listening ' "$dir/serve.out" && break; sleep 0.1; done
  grep -q '^listening ' "$dir/serve.out" || { echo "serve did not start: $(cat "$dir/serve.out")"; exit 1; }
  start_at=$(( $(date +%s) + 3 ))
  # Each task enters the namespace of its index; srun passes RINGSOCK_BACKEND on.
  SLURM_CONF="$dir/slurm/slurm.conf" timeout 90 srun -n 4 --overcommit bash -c \
    "exec ip netns exec $tag-c\$SLURM_PROCID '$bin' load tcp://10.77.0.1:9000 --mode rate \
       --rate 8000 --connections 8 --count $count --shard auto --start-at $start_at \
       --json '$dir'/shard-\$SLURM_PROCID.json > '$dir'/load-\$SLURM_PROCID.out 2>&1" ||
    { echo "$backend: srun failed"; cat "$dir"/load-*.out; exit 1; }
  timeout 60 "$bin" merge "$dir"/shard-*.json --json "$dir/merged.json" > "$dir/merge.out" 2>&1 ||
    { echo "$backend: merge failed"; cat "$dir/merge.out"; exit 1; }
  python3 - "$dir" "$count" <<'PY'
import json, sys
d, count = sys.argv[1], int(sys.argv[2])
shards = [json.load(open(f"{d}/shard-{k}.json"))["run"] for k in range(4)]
merged = json.load(open(f"{d}/merged.json"))["run"]
assert sorted(s["shard"]["index"] for s in shards) == [0, 1, 2, 3]
assert all(s["connections"] == 2 for s in shards), [s["connections"] for s in shards]
assert merged["counters"]["sent"] == count, merged["counters"]["sent"]
assert merged["counters"]["received"] == count, merged["counters"]["received"]
lat = [h for h in merged["histograms"] if h["name"] == "latency"][0]
assert lat["count"] == count, lat["count"]
PY
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  echo "$backend: srun -n 4 from 4 namespaces, merged $count messages"
  cat "$dir/merge.out"
done
