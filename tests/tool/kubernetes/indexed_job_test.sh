#!/usr/bin/env bash
# deploy/kubernetes without a cluster: runs the container command of
# load-job.yaml as the Indexed Job runs it (JOB_COMPLETION_INDEX and
# RINGSOCK_SHARDS set, START_AT ahead) for 2 indices against a local
# `ringsock serve`, then merge-job.yaml's command, on both backends; checks
# that the merged run holds every message of both shards.
#   indexed_job_test.sh RINGSOCK_BIN DEPLOY_KUBERNETES_DIR
# The manifests' load is scaled down (rate, connections, duration) and the
# server's address replaced; the rest of each command runs as written.
set -euo pipefail
bin="$1"
dir="$2"
work=$(mktemp -d)
server_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/bin"
ln -s "$(readlink -f "$bin")" "$work/bin/ringsock"
export PATH="$work/bin:$PATH"

# The folded `- >-` block under `command:` (the shell command), on one line.
container_command() {
  awk '/^ *- >-$/ { grab = 1; next } grab && /^ *[a-zA-Z]+:/ { grab = 0 }
       grab { sub(/^ +/, ""); printf "%s ", $0 }' "$1"
}
load_cmd=$(container_command "$dir/load-job.yaml")
merge_cmd=$(container_command "$dir/merge-job.yaml")
[[ "$load_cmd" == *"--shard auto"* && "$load_cmd" == *'$JOB_COMPLETION_INDEX'* ]] ||
  { echo "load-job.yaml: no sharded load command found: $load_cmd" >&2; exit 1; }
[[ "$merge_cmd" == *"ringsock merge"* ]] || { echo "merge-job.yaml: no merge: $merge_cmd" >&2; exit 1; }

for backend in uring epoll; do
  export RINGSOCK_BACKEND=$backend
  rm -rf "$work/results" && mkdir -p "$work/results"
  "$bin" serve tcp://127.0.0.1:0 > "$work/serve.out" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do grep -q '^listening ' "$work/serve.out" && break; sleep 0.1; done
  url=$(sed -n 's/^listening //p' "$work/serve.out" | head -1)
  [[ -n "$url" ]] || { echo "serve did not start: $(cat "$work/serve.out")" >&2; exit 1; }
  # Scaled down; the results volume is a temporary directory.
  cmd=$(sed -e "s#tcp://ringsock-server:9000#$url#" -e 's#--rate [0-9]*#--rate 2000#' \
            -e 's#--connections [0-9]*#--connections 4#' -e 's#--duration [0-9a-z]*#--duration 1s#' \
            -e "s#/results#$work/results#g" <<< "$load_cmd")
  start_at=$(( $(date +%s) + 2 ))
  pids=()
  for index in 0 1; do
    JOB_COMPLETION_INDEX=$index RINGSOCK_SHARDS=2 START_AT=$start_at \
      timeout 60 sh -c "$cmd" > "$work/load-$index.out" 2>&1 &
    pids+=($!)
  done
  for index in 0 1; do
    wait "${pids[$index]}" || { echo "$backend: shard $index failed:" >&2; cat "$work/load-$index.out" >&2; exit 1; }
  done
  # The merge as written, but judged on errors only (latency here is the test machine's).
  mcmd=$(sed -e "s#/results#$work/results#g" -e "s#--assert '[^']*'#--assert 'errors=0'#" <<< "$merge_cmd")
  timeout 60 sh -c "$mcmd" > "$work/merge.out" 2>&1 ||
    { echo "$backend: merge failed:" >&2; cat "$work/merge.out" >&2; exit 1; }
  python3 - "$work/results" <<'PY'
import json, sys
d = sys.argv[1]
shards = [json.load(open(f"{d}/shard-{k}.json"))["run"] for k in (0, 1)]
merged = json.load(open(f"{d}/merged.json"))["run"]
assert [s["shard"] for s in shards] == [{"index": 0, "count": 2}, {"index": 1, "count": 2}], shards
assert sum(s["connections"] for s in shards) == 4, [s["connections"] for s in shards]
sent = sum(s["counters"]["sent"] for s in shards)
assert sent > 0 and merged["counters"]["sent"] == sent, (sent, merged["counters"]["sent"])
assert merged["counters"]["received"] == sum(s["counters"]["received"] for s in shards)
PY
  grep -q 'Tag=latency,' "$work/results/merged.hlog" || { echo "$backend: merged.hlog lacks latency" >&2; exit 1; }
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  echo "$backend: 2 indices merged"
done
