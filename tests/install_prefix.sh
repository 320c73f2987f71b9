# shellcheck shell=bash
# Sourced by the installed-consumer tests (tests/c/consumer/run.sh,
# tests/engine_consumer/run.sh), after they set `consumer` (a word for the
# temporary directory's name): checks the one argument (BUILD_DIR), reads what
# the build was configured with from its CMakeCache.txt, and installs it into
# a temporary prefix that is removed on exit. Defines build, cache(),
# sanitize, san (the -fsanitize flags a consumer needs to link an instrumented
# library), libdir, includedir, bindir, mandir, generator, work, prefix,
# step() and fail().
if [[ $# -ne 1 ]]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
build="$(cd "$1" && pwd)"
cache() { sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt"; }
sanitize="$(cache RINGSOCK_SANITIZE)"
libdir="$(cache CMAKE_INSTALL_LIBDIR)"
includedir="$(cache CMAKE_INSTALL_INCLUDEDIR)"
bindir="$(cache CMAKE_INSTALL_BINDIR)"
mandir="$(cache CMAKE_INSTALL_MANDIR)"
mandir="${mandir:-$(cache CMAKE_INSTALL_DATAROOTDIR)/man}"  # empty in the cache: the default
generator="$(cache CMAKE_GENERATOR)"

case "$sanitize" in
  "") san="" ;;
  address) san="-fsanitize=address,undefined" ;;
  thread) san="-fsanitize=thread" ;;
  *) echo "unknown RINGSOCK_SANITIZE=$sanitize" >&2; exit 1 ;;
esac

work="$(mktemp -d "/tmp/ringsock-$consumer-XXXXXX")"
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"
step() { printf '\n== %s\n' "$*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

step "cmake --install $build --prefix $prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.log" || {
  cat "$work/install.log" >&2
  fail "install"
}
