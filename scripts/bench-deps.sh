#!/usr/bin/env bash
# Installs what the side-by-side comparison (bench/compare.sh) needs beyond the
# build and test dependencies, and only what is missing: iperf3 (W5's
# reference line) and taskset (util-linux; pins server and client to their
# cores). The build and test dependencies, sockperf and the peers' libraries
# among them, come from scripts/deps.sh, which runs first. When everything is
# there, apt is not touched at all (no root, no network needed). Idempotent.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

packages=(iperf3 util-linux)
commands=(iperf3 taskset)

log() { printf 'bench-deps: %s\n' "$*"; }

all_present() {
  local item
  for item in "${commands[@]}"; do
    command -v "$item" >/dev/null 2>&1 || return 1
  done
}

missing_packages() {
  local package
  for package in "${packages[@]}"; do
    # db:Status-Abbrev is "ii " for an installed package.
    if [[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$package" 2>/dev/null)" != ii* ]]; then
      printf '%s\n' "$package"
    fi
  done
}

# Runs a command as root: directly, through sudo, or not at all.
as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo env DEBIAN_FRONTEND=noninteractive "$@"  # sudo resets the environment
  else
    log "need root to run: $*"
    log "run this script as root, or install sudo"
    exit 1
  fi
}

main() {
  bash "$(dirname "${BASH_SOURCE[0]}")/deps.sh"
  if all_present; then
    log "all comparison dependencies present; skipping apt"
    return 0
  fi
  if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    log "dependencies are missing and this is not a Debian-like system; install by hand:"
    log "  ${packages[*]}"
    exit 1
  fi
  local missing
  mapfile -t missing < <(missing_packages)
  if [[ ${#missing[@]} -eq 0 ]]; then
    log "every package is installed, yet something is missing (a broken install?)"
    log "check: commands ${commands[*]}"
    exit 1
  fi
  log "installing: ${missing[*]}"
  as_root apt-get update
  as_root apt-get install -y --no-install-recommends "${missing[@]}"
  if ! all_present; then
    log "installed ${missing[*]}, but the comparison dependencies are still incomplete"
    exit 1
  fi
  log "done"
}

main "$@"
