#!/usr/bin/env bash
# The installed C ABI, used the way a C program would use it:
#   tests/c/consumer/run.sh BUILD_DIR
# installs BUILD_DIR into a temporary prefix (cmake --install --prefix), checks
# the installed files, then builds consumer.c with `cc` four ways and runs each:
#   (a) pkg-config --cflags --libs ringsock            (libringsock.so)
#   (b) pkg-config --static --libs ringsock, -Bstatic  (libringsock.a)
#   (c) find_package(ringsock) + ringsock::ringsock         (CMake, C only)
#   (d) find_package(ringsock) + ringsock::ringsock_static  (CMake, C only)
# No C++ compiler or runtime may be needed: the executables' NEEDED entries
# (and, outside sanitizer builds, everything ldd loads) hold no libstdc++.
# In a sanitizer build the consumers get the same -fsanitize flags (an
# instrumented library cannot link into an uninstrumented program).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
consumer=consumer
# shellcheck source=../../install_prefix.sh
source "$here/../../install_prefix.sh"
with_uring="$(cache RINGSOCK_WITH_URING)"
cc="${CC:-cc}"
(cd "$prefix" && find . -type f -o -type l | sed 's|^\./||' | sort) | tee "$work/files"
version="$(sed -n 's/^Version: //p' "$prefix/$libdir/pkgconfig/ringsock.pc")"
major="${version%%.*}"
expected=(
  "$includedir/ringsock.h"
  "$libdir/libringsock.a"
  "$libdir/libringsock.so"
  "$libdir/libringsock.so.$major"
  "$libdir/libringsock.so.$version"
  "$libdir/pkgconfig/ringsock.pc"
  "$libdir/cmake/ringsock/ringsock-config.cmake"
  "$libdir/cmake/ringsock/ringsock-config-version.cmake"
  "$libdir/cmake/ringsock/ringsock-targets.cmake"
)
for file in "${expected[@]}"; do
  [[ -e "$prefix/$file" ]] || fail "not installed: $file"
done
ls "$prefix/$libdir/cmake/ringsock/"ringsock-targets-*.cmake >/dev/null 2>&1 ||
  fail "not installed: ringsock-targets-<config>.cmake"
# Besides the C ABI: the C++ engine, the command and the man pages
# (tests/engine_consumer checks those).
extra="$(grep -vxF -f <(printf '%s\n' "${expected[@]}") "$work/files" |
  grep -v "^$libdir/cmake/ringsock/ringsock-targets-.*\.cmake$" |
  grep -v -e "^$includedir/ringsock/[a-z_]*\.hpp$" -e "^$libdir/libringsock_engine\.a$" \
    -e "^$bindir/ringsock$" -e "^$mandir/man[13]/ringsock\.[13]\.gz$" ||
  true)"
[[ -z "$extra" ]] || fail "installed more than the C ABI, the engine and the command: $extra"
[[ "$(readlink "$prefix/$libdir/libringsock.so")" == "libringsock.so.$major" ]] ||
  fail "libringsock.so does not point at libringsock.so.$major"
[[ "$(readlink "$prefix/$libdir/libringsock.so.$major")" == "libringsock.so.$version" ]] ||
  fail "libringsock.so.$major does not point at libringsock.so.$version"
grep -q "SONAME.*\[libringsock.so.$major\]" <<<"$(readelf -d "$prefix/$libdir/libringsock.so.$version")" ||
  fail "SONAME is not libringsock.so.$major"
echo "ok: the C ABI's files, SONAME libringsock.so.$major"

# Checks an executable: it runs and prints OK; what it needs.
# $1 = executable, $2 = shared|static
verify() {
  local exe="$1" kind="$2" needed output
  needed="$(readelf -d "$exe" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')"
  echo "NEEDED: $needed"
  if grep -q 'libstdc++' <<<"$needed"; then fail "$exe needs libstdc++"; fi
  if [[ "$kind" == shared ]]; then
    grep -q "libringsock.so.$major" <<<"$needed" || fail "$exe does not need libringsock.so.$major"
  else
    if grep -q 'libringsock' <<<"$needed"; then fail "$exe needs libringsock.so: not static"; fi
  fi
  if [[ -z "$sanitize" ]]; then
    # ldd's output is read whole first: `ldd | grep -q` under pipefail fails
    # when grep stops reading early and ldd dies of SIGPIPE.
    local loaded
    loaded=$(ldd "$exe")
    if grep -q 'libstdc++' <<<"$loaded"; then fail "$exe loads libstdc++ (ldd)"; fi
    if [[ "$kind" == shared ]]; then
      grep -q "libringsock.so.$major => $prefix/" <<<"$loaded" ||
        fail "$exe does not load libringsock from $prefix: $(grep ringsock <<<"$loaded")"
    fi
  fi
  output="$("$exe")" || fail "$exe exited with $?: $output"
  echo "$output"
  grep -q ': OK$' <<<"$output" || fail "$exe did not print OK"
}

# ---- pkg-config -------------------------------------------------------------------
export PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
cflags="$(pkg-config --cflags ringsock)"
libs="$(pkg-config --libs ringsock)"
static_libs="$(pkg-config --static --libs ringsock)"
pc_libdir="$(pkg-config --variable=libdir ringsock)"
step "pkg-config ringsock $(pkg-config --modversion ringsock)"
echo "--cflags:        $cflags"
echo "--libs:          $libs"
echo "--static --libs: $static_libs"
if [[ "$with_uring" == ON ]]; then
  grep -q -- '-luring' <<<"$static_libs" || fail "pkg-config --static does not add liburing"
fi
if grep -q -- '-luring' <<<"$libs"; then fail "pkg-config --libs (shared) should not need liburing"; fi

step "(a) cc consumer.c \$(pkg-config --cflags --libs ringsock)"
# shellcheck disable=SC2086  # the flags are words
"$cc" -std=c11 -Wall -Wextra -pedantic -Werror $san $cflags "$here/consumer.c" $libs \
  -Wl,-rpath,"$pc_libdir" -o "$work/consumer-pc-shared"
verify "$work/consumer-pc-shared" shared

step "(b) cc consumer.c -Wl,-Bstatic \$(pkg-config --static --libs ringsock) -Wl,-Bdynamic"
# shellcheck disable=SC2086
"$cc" -std=c11 -Wall -Wextra -pedantic -Werror $san $cflags "$here/consumer.c" \
  -Wl,-Bstatic $static_libs -Wl,-Bdynamic -o "$work/consumer-pc-static"
verify "$work/consumer-pc-static" static

# ---- CMake ----------------------------------------------------------------------
for target in ringsock::ringsock ringsock::ringsock_static; do
  kind=shared
  [[ "$target" == *_static ]] && kind=static
  dir="$work/cmake-$kind"
  step "$([[ $kind == shared ]] && echo "(c)" || echo "(d)") find_package(ringsock) + $target"
  cmake -S "$here" -B "$dir" -G "$generator" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_PREFIX_PATH="$prefix" -DRINGSOCK_TARGET="$target" \
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_C_FLAGS="$san" \
    -DCMAKE_EXE_LINKER_FLAGS="$san" >"$dir.log" 2>&1 || { cat "$dir.log" >&2; fail "configure"; }
  grep 'ringsock .* from ' "$dir.log" || true
  grep -q "^ringsock_DIR:PATH=$prefix/$libdir/cmake/ringsock$" "$dir/CMakeCache.txt" ||
    fail "find_package did not take the installed package: $(grep ^ringsock_DIR "$dir/CMakeCache.txt")"
  if grep -q '^CMAKE_CXX_COMPILER' "$dir/CMakeCache.txt"; then fail "the consumer enabled C++"; fi
  cmake --build "$dir" --verbose >"$dir.build.log" 2>&1 || { cat "$dir.build.log" >&2; fail "build"; }
  grep -E '(^| )-o consumer( |$)' "$dir.build.log" | tail -n1 | sed 's/^/link: /' || true
  if grep -q -- '-lstdc++' "$dir.build.log"; then fail "the consumer links libstdc++"; fi
  verify "$dir/consumer" "$kind"
done

step "installed consumer: OK (pkg-config shared + static, CMake shared + static)"
