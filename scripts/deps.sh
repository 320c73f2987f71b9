#!/usr/bin/env bash
# Installs what ringsock needs to build and test on Debian bookworm, and only
# what is missing. When every command, header and pkg-config module is already
# there, apt is not touched at all (no root, no network needed). Idempotent.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

packages=(
  build-essential g++ cmake ninja-build pkg-config
  liburing-dev libgtest-dev libgmock-dev googletest libbenchmark-dev
  python3
  sockperf                                # interop tests: ringsock <-> sockperf 3.x
  libuv1-dev libevent-dev libasio-dev     # bench/peers: the servers ringsock is compared with
)
commands=(gcc g++ make cmake ctest ninja pkg-config python3 sockperf)
headers=(liburing.h gtest/gtest.h gmock/gmock.h benchmark/benchmark.h uv.h event2/event.h asio.hpp)
modules=(gtest gmock benchmark libuv libevent)
min_liburing=2.3  # the top-level CMakeLists.txt asks for liburing>=2.3

log() { printf 'deps: %s\n' "$*"; }

header_present() {
  local dir
  for dir in /usr/include /usr/local/include; do
    [[ -e "$dir/$1" ]] && return 0
  done
  return 1
}

# Everything the build uses, checked by what it is rather than by package.
all_present() {
  local item
  for item in "${commands[@]}"; do
    command -v "$item" >/dev/null 2>&1 || return 1
  done
  for item in "${headers[@]}"; do
    header_present "$item" || return 1
  done
  for item in "${modules[@]}"; do
    pkg-config --exists "$item" 2>/dev/null || return 1
  done
  pkg-config --atleast-version="$min_liburing" liburing 2>/dev/null || return 1
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
  if all_present; then
    log "all build and test dependencies present; skipping apt"
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
    log "check: commands ${commands[*]}; headers ${headers[*]}; pkg-config ${modules[*]} liburing>=$min_liburing"
    exit 1
  fi
  log "installing: ${missing[*]}"
  as_root apt-get update
  as_root apt-get install -y --no-install-recommends "${missing[@]}"
  if ! all_present; then
    log "installed ${missing[*]}, but the build dependencies are still incomplete"
    exit 1
  fi
  log "done"
}

main "$@"
