#!/usr/bin/env bash
# Zero-copy sends where the kernel really sends from the caller's pages.
# Over loopback the receiving socket always takes its own copy, so
# compare.sh cannot show what --zero-copy saves. Here UDP datagrams go from
# namespace A through a veth pair whose far end (B) drops every frame at its
# ingress hook, before any socket could copy it, with B's link address
# known to A (a permanent neighbour entry): the sender's stack does what it
# does for a NIC. `ringsock load --mode throughput` runs with and without
# --zero-copy, alternating, for a few rounds; printed are the medians of
# datagrams/s and client CPU per datagram, and their ratios.
#
#   bash bench/zero_copy.sh [--rounds 5] [--duration 3] [--sizes 1400,8192,32768]
#                           [--build build-bench] [--cpu 1]
#
# Needs root, ip, nft and a built ringsock (bench/compare.sh builds
# build-bench/). The namespaces are named rsk-zc-a-PID and rsk-zc-b-PID
# and removed on exit.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds=5
duration=3
sizes="1400,8192,32768"
build="$root/build-bench"
cpu=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --sizes) sizes="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --cpu) cpu="$2"; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "zero_copy: unknown argument '$1' (--help)" >&2; exit 2 ;;
  esac
done
ringsock="$build/tools/ringsock/ringsock"
[[ -x "$ringsock" ]] || { echo "zero_copy: $ringsock is missing (bash bench/compare.sh builds it)" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || { echo "zero_copy: network namespaces need root" >&2; exit 1; }

a="rsk-zc-a-$$"
b="rsk-zc-b-$$"
work="$(mktemp -d)"
cleanup() {
  ip netns del "$a" 2>/dev/null || true
  ip netns del "$b" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$a"
ip netns add "$b"
ip -n "$a" link set lo up
ip -n "$a" link add va type veth peer name vb netns "$b"
ip -n "$a" addr add 10.78.0.1/24 dev va
ip -n "$a" link set va up
ip -n "$b" link set vb address 02:52:53:4b:00:02
ip -n "$b" addr add 10.78.0.2/24 dev vb
ip -n "$b" link set vb up
ip netns exec "$b" nft 'add table netdev rsk_swallow; add chain netdev rsk_swallow in { type filter hook ingress device "vb" priority 0; policy drop; }'
ip -n "$a" neigh replace 10.78.0.2 lladdr 02:52:53:4b:00:02 dev va nud permanent

# One run: prints "RATE CPU_NS" from the JSON result.
run() {
  local size="$1" extra="$2" json="$work/run.json"
  rm -f "$json"
  # shellcheck disable=SC2086
  ip netns exec "$a" taskset -c "$cpu" "$ringsock" load udp://10.78.0.2:9 --mode throughput \
    --size "$size" --duration "${duration}s" --warmup 300ms --backend uring $extra \
    --json "$json" >/dev/null
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(r["rate_achieved"], r["cpu_per_message_ns"])' "$json"
}

echo "command: bash bench/zero_copy.sh --rounds $rounds --duration $duration --sizes $sizes --cpu $cpu"
echo "kernel $(uname -r); $rounds rounds of ${duration}s per size, copy and zero-copy alternating"
printf '%-8s %14s %14s %12s %12s %8s %8s\n' size copy/s zc/s "copy ns" "zc ns" rate cpu
IFS=, read -r -a size_list <<<"$sizes"
for size in "${size_list[@]}"; do
  copy=()
  zc=()
  for ((r = 0; r < rounds; ++r)); do
    copy+=("$(run "$size" "")")
    zc+=("$(run "$size" "--zero-copy 1024")")
  done
  python3 - "$size" "${copy[@]}" -- "${zc[@]}" <<'PY'
import statistics, sys
args = sys.argv[2:]
cut = args.index("--")
copy = [tuple(map(float, x.split())) for x in args[:cut]]
zc = [tuple(map(float, x.split())) for x in args[cut + 1:]]
med = lambda rows, i: statistics.median(r[i] for r in rows)
cr, cc, zr, zcpu = med(copy, 0), med(copy, 1), med(zc, 0), med(zc, 1)
print("%-8s %14.0f %14.0f %12.0f %12.0f %7.2fx %7.2fx" % (sys.argv[1], cr, zr, cc, zcpu, zr / cr, zcpu / cc))
PY
done
