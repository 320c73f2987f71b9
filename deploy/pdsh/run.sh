#!/usr/bin/env bash
# One shard of `ringsock load` per host over pdsh, started together, then the
# merge here:   deploy/pdsh/run.sh URL HOST... -- LOAD-OPTIONS...
# Each host runs shard K of N, K its position in the list. Needs pdsh with
# the ssh module and ringsock on every host; results are copied back with scp.
set -euo pipefail
url="$1"; shift
hosts=()
while [[ $# -gt 0 && "$1" != "--" ]]; do hosts+=("$1"); shift; done
[[ "${1:-}" == "--" ]] && shift
n=${#hosts[@]}
(( n > 0 )) || { echo "usage: $0 URL HOST... -- LOAD-OPTIONS..." >&2; exit 2; }
start_at=$(date -d '+30 seconds' +%s)
out=$(mktemp -d)
for k in "${!hosts[@]}"; do
  # pdsh -w one host at a time in the background: each gets its own index.
  pdsh -R ssh -w "${hosts[$k]}" \
    "ringsock load $url $* --shard $k/$n --start-at $start_at --json /tmp/ringsock-shard.json --hlog /tmp/ringsock-shard.hlog" &
done
wait
for k in "${!hosts[@]}"; do
  scp -q "${hosts[$k]}:/tmp/ringsock-shard.json" "$out/shard-$k.json"
  scp -q "${hosts[$k]}:/tmp/ringsock-shard.hlog" "$out/shard-$k.hlog"
done
ringsock merge "$out"/shard-*.json "$out"/shard-*.hlog --json "$out/merged.json" --hlog "$out/merged.hlog"
echo "results in $out"
