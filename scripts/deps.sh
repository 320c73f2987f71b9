#!/usr/bin/env bash
# Installs what ringsock needs to build and test on Debian bookworm, and only
# what is missing. When every command, header and pkg-config module is already
# there, apt is not touched at all (no root, no network needed). Idempotent.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

packages=(
  build-essential g++ cmake ninja-build pkg-config
  liburing-dev libgtest-dev libgmock-dev googletest libbenchmark-dev
  zlib1g-dev                              # the compressed HdrHistogram encoding (.hlog, results)
  python3
  sockperf                                # interop tests: ringsock <-> sockperf 3.x
  libuv1-dev libevent-dev libasio-dev     # bench/peers: the servers ringsock is compared with
  # tool tests: `ringsock load` against real services (tests/tool/cli/real_servers.cpp)
  redis-server redis-tools memcached nginx-light dnsmasq
  # the fault tests break paths inside network namespaces of their own
  # (tests/netns.cpp): veth pairs with ip, packets dropped with nft
  iproute2 nftables
)
commands=(gcc g++ make cmake ctest ninja pkg-config python3 sockperf
  redis-server redis-cli memcached nginx dnsmasq ip nft)
headers=(liburing.h zlib.h gtest/gtest.h gmock/gmock.h benchmark/benchmark.h uv.h event2/event.h asio.hpp)
modules=(gtest gmock benchmark libuv libevent zlib)
min_liburing=2.3  # the top-level CMakeLists.txt asks for liburing>=2.3

log() { printf 'deps: %s\n' "$*"; }
# shellcheck source=scripts/apt_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt_common.sh"

header_present() {
  local dir
  for dir in /usr/include /usr/local/include; do
    [[ -e "$dir/$1" ]] && return 0
  done
  return 1
}

# nginx and dnsmasq live in /usr/sbin, which is not on a user's PATH.
command_present() {
  command -v "$1" >/dev/null 2>&1 || [[ -x "/usr/sbin/$1" ]] || [[ -x "/sbin/$1" ]]
}

# Everything the build uses, checked by what it is rather than by package.
all_present() {
  local item
  for item in "${commands[@]}"; do
    command_present "$item" || return 1
  done
  for item in "${headers[@]}"; do
    header_present "$item" || return 1
  done
  for item in "${modules[@]}"; do
    pkg-config --exists "$item" 2>/dev/null || return 1
  done
  pkg-config --atleast-version="$min_liburing" liburing 2>/dev/null || return 1
}

main() {
  install_missing "build and test dependencies" \
    "commands ${commands[*]}; headers ${headers[*]}; pkg-config ${modules[*]} liburing>=$min_liburing"
}

main "$@"
