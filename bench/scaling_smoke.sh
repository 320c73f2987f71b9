#!/usr/bin/env bash
# The scaling run at the smallest scale, as a test: bench/scaling.sh with
# server loops 1 and 2, one workload, ringsock on both backends and the
# plain epoll peer, one short round each, on the first two CPUs this
# process may use. It checks the machinery, not the figures: both runs
# record their layout, and the side-by-side table has a scaling ratio for
# every server. Exit 77 (a skip) with fewer than two CPUs; without io_uring
# the run goes on without ringsock-uring.
#
#   bench/scaling_smoke.sh BUILD_DIR   (a tree with ringsock and peer-epoll)
set -euo pipefail
build="$(cd "${1:?usage: scaling_smoke.sh BUILD_DIR}" && pwd)"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

read -r server_cpu client_cpu < <(python3 -c '
import os
cpus = sorted(os.sched_getaffinity(0))
print(*(cpus[:2] if len(cpus) >= 2 else ["-", "-"]))')
[[ "$server_cpu" != "-" ]] || { echo "scaling_smoke: skipped, fewer than two CPUs"; exit 77; }
servers="ringsock-epoll epoll"
if env -u RINGSOCK_BACKEND "$build/tools/ringsock/ringsock" probe 2>/dev/null |
    grep -Eq '^uring: +uring '; then
  servers="ringsock-uring $servers"
else
  echo "scaling_smoke: io_uring cannot start here; ringsock-uring left out"
fi

timeout 300 bash "$root/bench/scaling.sh" --threads 1,2 --no-deps --no-build --build "$build" \
  --only W1-64B-c50 --servers "${servers// /,}" --rounds 1 --duration 0.5 --warmup 0.1 \
  --server-cpu "$server_cpu" --client-cpu "$client_cpu" --out "$out" > "$out/log" 2>&1 ||
  { cat "$out/log"; echo "scaling_smoke: the scaling run failed" >&2; exit 1; }

table="$(ls "$out"/*-scaling.md 2>/dev/null | head -1 || true)"
[[ -n "$table" ]] || { cat "$out/log"; echo "scaling_smoke: no scaling table" >&2; exit 1; }
for server in $servers; do
  grep -Eq "^\| W1-64B-c50 \| $server \| [0-9.]+[kM]? \| [0-9.]+[kM]? \| [0-9.]+ \| [0-9.]+ \| [0-9.]+x \|$" "$table" ||
    { cat "$table"; echo "scaling_smoke: no scaling row for $server" >&2; exit 1; }
done
grep -q "^## Bar: scaling at least every peer's" "$table" ||
  { cat "$table"; echo "scaling_smoke: the table has no bar" >&2; exit 1; }
for json in "$out"/*.json; do
  python3 - "$json" "$server_cpu" "$client_cpu" <<'PY' || exit 1
import json, sys
layout = json.load(open(sys.argv[1])).get("layout", {})
want = {"server_cpus": sys.argv[2], "client_cpus": sys.argv[3], "client_threads": 1}
if any(layout.get(k) != v for k, v in want.items()) or layout.get("server_threads") not in (1, 2):
    sys.exit("scaling_smoke: %s records the layout %r" % (sys.argv[1], layout))
PY
done
echo "scaling_smoke: ok ($(ls "$out"/*.json | wc -l) runs)"
