#!/usr/bin/env bash
# The side-by-side comparison of issue 6, in one command: installs what is
# missing (scripts/bench-deps.sh), builds ringsock and the peer servers in a
# Release tree (build-bench/), runs every workload against every server with
# the same client, and writes bench/results/<date>-<host>.{md,svg,json}.
#
#   bench/compare.sh                  # the full run: 3 rounds, 5 s per run
#   bench/compare.sh --quick          # smoke test: 1 round, 1 s runs, fewer workloads
#   bench/compare.sh --only W1,W3 --servers ringsock-uring,epoll,libuv --rounds 5
#
# Own options: --no-deps (skip scripts/bench-deps.sh), --no-build (use
# build-bench/ as it is). Everything else goes to bench/compare/compare.py
# (--help lists it: --rounds N --duration S --warmup S --quick --only LIST
# --servers LIST --server-cpu N --client-cpu N --out DIR --keep-logs).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
build="build-bench"
peers=(uring epoll asio-uring asio-epoll libuv libevent threads)

command_line="bench/compare.sh"
for arg in "$@"; do command_line+=" $(printf '%q' "$arg")"; done

deps=1
do_build=1
pass=()
for arg in "$@"; do
  case "$arg" in
    --no-deps) deps=0 ;;
    --no-build) do_build=0 ;;
    -h|--help) exec python3 bench/compare/compare.py --help ;;
    *) pass+=("$arg") ;;
  esac
done

log() { printf 'compare: %s\n' "$*"; }

if [[ $deps -eq 1 ]]; then
  bash scripts/bench-deps.sh
fi

skipped=()
if [[ $do_build -eq 1 ]]; then
  timeout 600 cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DRINGSOCK_BUILD_TESTS=OFF -DRINGSOCK_BUILD_BENCH=ON -DRINGSOCK_BUILD_TOOLS=ON >/dev/null
  targets=(ringsock)
  known="$(ninja -C "$build" -t targets all 2>/dev/null | sed -n 's/^\(peer-[a-z-]*\): .*/\1/p')"
  for peer in "${peers[@]}"; do
    if grep -qx "peer-$peer" <<<"$known"; then
      targets+=("peer-$peer")
    else
      log "no build target peer-$peer (bench/peers not there yet?); it will be skipped"
    fi
  done
  log "building ${targets[*]} in $build/"
  if ! timeout 3600 ninja -C "$build" "${targets[@]}"; then
    # One peer failing to build must not stop the rest: build one by one.
    log "building together failed; building one target at a time"
    for target in "${targets[@]}"; do
      if ! timeout 3600 ninja -C "$build" "$target"; then
        [[ "$target" == ringsock ]] && { log "ringsock does not build"; exit 1; }
        log "$target does not build; it will be skipped"
        skipped+=(--skipped "${target#peer-}: does not build")
        rm -f "$build/bench/peers/$target"
      fi
    done
  fi
fi

child=""
cleanup() {
  local status=$?
  if [[ -n "$child" ]] && kill -0 "$child" 2>/dev/null; then
    kill -TERM "$child" 2>/dev/null || true  # compare.py stops its own children
    for _ in $(seq 50); do kill -0 "$child" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$child" 2>/dev/null || true
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

python3 bench/compare/compare.py --build "$build" --command "$command_line" \
  ${skipped[@]+"${skipped[@]}"} ${pass[@]+"${pass[@]}"} &
child=$!
wait "$child"
