#!/usr/bin/env bash
# The Debian packages, installed as a user would:
#   tests/packaging/deb_test.sh BUILD_DIR
# builds them (cpack -G DEB), installs them with `apt-get install ./*.deb`,
# builds the consumers against /usr (pkg-config and CMake; C and C++), runs
# them and `ringsock probe`, and removes the packages again - always, also on
# failure - with whatever apt pulled in for them, so the machine is left as
# it was. Needs root and apt: exits 77 (skipped) without them, on a
# sanitizer or cross build, and when a ringsock package is installed already.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
build="$(cd "$1" && pwd)"
here="$(cd "$(dirname "$0")" && pwd)"
tests="$(cd "$here/.." && pwd)"
cache() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt"; }
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { printf '\n== %s\n' "$*"; }

[[ "$(id -u)" -eq 0 ]] || skip "installing packages needs root"
for tool in apt-get dpkg dpkg-query dpkg-deb dpkg-shlibdeps cpack pkg-config cc c++; do
  command -v "$tool" >/dev/null 2>&1 || skip "$tool is missing"
done
[[ -z "$(cache RINGSOCK_SANITIZE)" ]] || skip "packages are made from plain builds, not sanitizer ones"
[[ "$(cache RINGSOCK_BUILD_TOOLS)" == ON ]] || skip "the build has no ringsock command"
[[ -z "$(cache CMAKE_CROSSCOMPILING_EMULATOR)" ]] || skip "a cross build"

# One at a time on this machine, whichever build tree runs it.
exec 9>/tmp/ringsock-deb-test.lock
flock -w 600 9 || fail "another deb_test.sh holds /tmp/ringsock-deb-test.lock"

installed() { dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' 2>/dev/null | sed -n 's/^ii *//p' | sort; }
# (Not `installed | grep -q`: grep's early exit fails the pipe under pipefail.)
is_installed() { grep -qx "$1" <<<"$(installed)"; }
ours=(libringsock0 libringsock-dev ringsock)
for package in "${ours[@]}"; do
  if is_installed "$package"; then skip "$package is installed already: not ours to remove"; fi
done
[[ ! -e /usr/include/ringsock.h && ! -e /usr/bin/ringsock ]] ||
  skip "ringsock files in /usr that no package owns: not ours to overwrite"

work="$(mktemp -d /tmp/ringsock-deb-XXXXXX)"
installed >"$work/before"
cleanup() {
  local status=$?
  set +e
  step "remove the packages"
  installed >"$work/after"
  mapfile -t added < <(comm -13 "$work/before" "$work/after")
  if [[ ${#added[@]} -gt 0 ]]; then
    echo "removing: ${added[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get remove -y --purge "${added[@]}" >"$work/remove.log" 2>&1 ||
      { cat "$work/remove.log" >&2; status=1; }
  fi
  installed >"$work/final"
  if ! cmp -s "$work/before" "$work/final"; then
    echo "FAIL: the installed packages differ from before:" >&2
    diff "$work/before" "$work/final" >&2
    status=1
  fi
  [[ ! -e /usr/bin/ringsock ]] || { echo "FAIL: /usr/bin/ringsock is left" >&2; status=1; }
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

step "cpack -G DEB"
(cd "$work" && cpack --config "$build/CPackConfig.cmake" -G DEB -B "$work/packages") \
  >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log" >&2; fail "cpack"; }
debs=("$work"/packages/*.deb)
[[ ${#debs[@]} -eq 3 ]] || fail "expected 3 packages, got: ${debs[*]}"
for deb in "${debs[@]}"; do
  echo "$(basename "$deb"): $(dpkg-deb -f "$deb" Package) depends on: $(dpkg-deb -f "$deb" Depends)"
done
depends() { dpkg-deb -f "$work"/packages/"$1"_*.deb Depends; }
if [[ "$(cache RINGSOCK_WITH_URING)" == ON ]]; then
  grep -qF 'liburing2' <<<"$(depends libringsock0)" || fail "libringsock0 does not depend on liburing2"
  grep -qF 'liburing2' <<<"$(depends ringsock)" || fail "ringsock does not depend on liburing2"
fi
grep -qF 'libc6' <<<"$(depends libringsock0)" || fail "libringsock0 does not depend on libc6"
grep -qF 'libringsock0 (= ' <<<"$(depends libringsock-dev)" || fail "libringsock-dev does not depend on libringsock0"

step "apt-get install ./*.deb"
(cd "$work/packages" && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
  ./*.deb) >"$work/install.log" 2>&1 || { cat "$work/install.log" >&2; fail "apt-get install"; }
for package in "${ours[@]}"; do
  is_installed "$package" || fail "$package is not installed"
done
echo "installed: ${ours[*]}"

step "ringsock (from PATH)"
[[ "$(command -v ringsock)" == /usr/bin/ringsock ]] || fail "ringsock is not /usr/bin/ringsock"
ringsock --version
ringsock probe || fail "ringsock probe exited with $?"
ringsock load --help | sed -n 1p
ls /usr/share/man/man1/ringsock.1* /usr/share/man/man3/ringsock.3* >/dev/null ||
  fail "the man pages are not installed"

# Built with the tools a user has, against /usr only.
unset PKG_CONFIG_PATH CMAKE_PREFIX_PATH
run_ok() {
  local output
  output="$("$@")" || fail "$1 exited with $?: $output"
  echo "$output"
  grep -q ': OK$' <<<"$output" || fail "$1 did not print OK"
}

step "C: cc consumer.c \$(pkg-config --cflags --libs ringsock)"
# shellcheck disable=SC2046  # the flags are words
cc -std=c11 -Wall -Wextra -Werror "$tests/c/consumer/consumer.c" $(pkg-config --cflags --libs ringsock) \
  -o "$work/consumer-pc"
run_ok "$work/consumer-pc"

step "C: cc consumer.c -Wl,-Bstatic \$(pkg-config --static --libs ringsock)"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror "$tests/c/consumer/consumer.c" $(pkg-config --cflags ringsock) \
  -Wl,-Bstatic $(pkg-config --static --libs ringsock) -Wl,-Bdynamic -o "$work/consumer-pc-static"
run_ok "$work/consumer-pc-static"

generator="$(cache CMAKE_GENERATOR)"
cmake_consumer() {  # $1 = source dir, $2 = build dir, the rest = -D arguments
  local source="$1" dir="$2"
  shift 2
  cmake -S "$source" -B "$dir" -G "$generator" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF "$@" >"$dir.log" 2>&1 || { cat "$dir.log" >&2; fail "configure"; }
  grep -q "^ringsock_DIR:PATH=/usr/lib/.*cmake/ringsock$" "$dir/CMakeCache.txt" ||
    fail "find_package did not take /usr: $(grep ^ringsock_DIR "$dir/CMakeCache.txt")"
  cmake --build "$dir" >"$dir.build.log" 2>&1 || { cat "$dir.build.log" >&2; fail "build"; }
  run_ok "$dir/consumer"
}
for target in ringsock::ringsock ringsock::ringsock_static; do
  step "C: find_package(ringsock) + $target"
  cmake_consumer "$tests/c/consumer" "$work/cmake-${target#ringsock::}" -DRINGSOCK_TARGET="$target"
done
step "C++20: find_package(ringsock) + ringsock::engine"
cmake_consumer "$tests/engine_consumer" "$work/cmake-engine"

step "Debian packages: OK"
