#!/usr/bin/env bash
# The installed C++ engine and command, used the way a C++20 project would:
#   tests/engine_consumer/run.sh BUILD_DIR
# installs BUILD_DIR into a temporary prefix (cmake --install --prefix), checks
# the engine's headers and library, the command and the man pages are there,
# builds consumer.cpp with find_package(ringsock) + ringsock::engine and runs
# it on the automatic backend and forced onto epoll, then runs the installed
# `ringsock --version` and `ringsock probe`.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
consumer=engine-consumer
# shellcheck source=../install_prefix.sh
source "$here/../install_prefix.sh"
tools="$(cache RINGSOCK_BUILD_TOOLS)"
cxx="$(cache CMAKE_CXX_COMPILER)"
expected=(
  "$includedir/ringsock/endpoint.hpp"
  "$includedir/ringsock/loop.hpp"
  "$includedir/ringsock/operation.hpp"
  "$includedir/ringsock/socket.hpp"
  "$includedir/ringsock/capabilities.hpp"
  "$libdir/libringsock_engine.a"
  "$mandir/man3/ringsock.3.gz"
)
if [[ "$tools" == ON ]]; then
  expected+=("$bindir/ringsock" "$mandir/man1/ringsock.1.gz")
fi
for file in "${expected[@]}"; do
  [[ -e "$prefix/$file" ]] || fail "not installed: $file"
done
# Only the public headers: nothing of engine/src may leak into the prefix.
headers="$(cd "$prefix/$includedir/ringsock" && ls)"
for header in $headers; do
  [[ -e "$here/../../engine/include/ringsock/$header" ]] || fail "installed a private header: $header"
done
echo "ok: ringsock/{$(tr '\n' ' ' <<<"$headers" | sed 's/ $//')}, libringsock_engine.a, the man pages"

step "find_package(ringsock) + ringsock::engine (C++20)"
dir="$work/cmake"
cmake -S "$here" -B "$dir" -G "$generator" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF -DCMAKE_CXX_FLAGS="$san" \
  -DCMAKE_EXE_LINKER_FLAGS="$san" >"$dir.log" 2>&1 || { cat "$dir.log" >&2; fail "configure"; }
grep 'ringsock .* from ' "$dir.log" || true
grep -q "^ringsock_DIR:PATH=$prefix/$libdir/cmake/ringsock$" "$dir/CMakeCache.txt" ||
  fail "find_package did not take the installed package: $(grep ^ringsock_DIR "$dir/CMakeCache.txt")"
cmake --build "$dir" --verbose >"$dir.build.log" 2>&1 || { cat "$dir.build.log" >&2; fail "build"; }
if grep -q -- "-I$build\|-I[^ ]*/engine/include" "$dir.build.log"; then
  fail "the consumer compiled against the source tree, not the prefix"
fi
for backend in auto epoll; do
  output="$(RINGSOCK_BACKEND=$backend "$dir/consumer")" || fail "consumer ($backend) exited with $?: $output"
  echo "RINGSOCK_BACKEND=$backend: $output"
  grep -q ': OK$' <<<"$output" || fail "the consumer did not print OK"
done

if [[ "$tools" == ON ]]; then
  step "the installed command"
  "$prefix/$bindir/ringsock" --version
  "$prefix/$bindir/ringsock" probe || fail "ringsock probe exited with $?"
  "$prefix/$bindir/ringsock" load --help | sed -n 1p
fi
step "installed engine consumer: OK"
