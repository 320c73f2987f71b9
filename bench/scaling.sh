#!/usr/bin/env bash
# The scaling run: bench/compare.sh once per server loop count (ringsock
# serve --threads N against the peers' --threads N: a loop per thread, each with
# its own SO_REUSEPORT socket), then the
# side-by-side table of bench/compare/scaling.py, written next to the runs.
#
#   bench/scaling.sh --threads 1,2 --server-cpu 0-1 --client-cpu 2-9 --client-threads 8 \
#       --only W1-64B-c50,W1-64B-c500,W4-udp-echo --rounds 3
#
# --threads LIST (default 1,2) is this script's; everything else goes to
# every bench/compare.sh run (which installs and builds on the first only).
# Give the server as many CPUs as its largest loop count, and the client
# others, or the client is the limit and nothing scales.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
threads="1,2"
pass=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --threads=*) threads="${1#--threads=}"; shift ;;
    --server-threads*) echo "scaling: --threads sets the server's loops here" >&2; exit 2 ;;
    *) pass+=("$1"); shift ;;
  esac
done
IFS=, read -r -a counts <<<"$threads"
for n in "${counts[@]}"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "scaling: bad count '$n' in --threads" >&2; exit 2; }
done
[[ ${#counts[@]} -ge 2 && " ${counts[*]} " == *" 1 "* ]] ||
  { echo "scaling: --threads needs 1 and at least one more count, e.g. 1,2" >&2; exit 2; }

results=()
first=1
for n in "${counts[@]}"; do
  extra=()
  if [[ $first -eq 0 ]]; then
    [[ " ${pass[*]} " == *" --no-deps "* ]] || extra+=(--no-deps)
    [[ " ${pass[*]} " == *" --no-build "* ]] || extra+=(--no-build)
  fi
  first=0
  log="$(mktemp)"
  bash bench/compare.sh "${extra[@]}" --server-threads "$n" "${pass[@]}" | tee "$log"
  json="$(sed -n 's/^ *\(\/.*\.json\)$/\1/p; s/^wrote .* \(\/.*\.json\)$/\1/p' "$log" | tail -1)"
  [[ -z "$json" ]] && json="$(grep -o '[^ ]*\.json' "$log" | tail -1)"
  rm -f "$log"
  [[ -f "$json" ]] || { echo "scaling: no JSON result from the run at $n loop(s)" >&2; exit 1; }
  results+=("$json")
done
md="${results[-1]%.json}-scaling.md"
python3 bench/compare/scaling.py "${results[@]}" --out "$md"
echo "scaling: wrote $md"
