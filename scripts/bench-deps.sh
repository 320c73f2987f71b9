#!/usr/bin/env bash
# Installs what the side-by-side comparison (bench/compare.sh) needs beyond the
# build and test dependencies, and only what is missing: iperf3 (W5's
# reference line), taskset (util-linux; pins server and client to their
# cores), perf (linux-perf; bench/experiments/wakeups/wakeups.py counts
# tracepoints with it) and wrk (bench/compare_clients.py runs it against nginx).
# The build and test dependencies, sockperf and the peers' libraries among
# them, come from scripts/deps.sh, which runs first. When everything is
# there, apt is not touched at all (no root, no network needed). Idempotent.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

packages=(iperf3 util-linux linux-perf wrk)
commands=(iperf3 taskset perf wrk)

log() { printf 'bench-deps: %s\n' "$*"; }
# shellcheck source=scripts/apt_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt_common.sh"

all_present() {
  local item
  for item in "${commands[@]}"; do
    command -v "$item" >/dev/null 2>&1 || return 1
  done
}

main() {
  bash "$(dirname "${BASH_SOURCE[0]}")/deps.sh"
  install_missing "comparison dependencies" "commands ${commands[*]}"
}

main "$@"
