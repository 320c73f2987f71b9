#!/usr/bin/env bash
# Library footprint per architecture and profile:
#
#   bash scripts/footprint.sh [ARCH...]    (default: x86_64 aarch64 armhf riscv64)
#
# For each architecture (x86_64 = this machine, the others cross-compiled with
# toolchains/*.cmake) and each profile (release: CMAKE_BUILD_TYPE=Release;
# embedded: the same plus -DRINGSOCK_EMBEDDED=ON, i.e. -Os and section GC),
# builds only the library targets in build-footprint/ARCH-PROFILE/ (no tests,
# tools or bench), strips a copy of each library with the target's strip
# --strip-unneeded and prints a Markdown table of the stripped sizes in bytes,
# and the text+data of each (size): unlike the .a file size, that does not
# grow with -ffunction-sections' per-function section headers and
# relocations, and unlike the .so file size it does not include the padding
# to the target's maximum page size (64 KiB on aarch64).
# Where the target has no liburing (riscv64 on bookworm, or liburing-dev
# missing) the build is epoll-only (-DRINGSOCK_WITH_URING=OFF); the table says
# which backends each row has. liburing itself is not in the numbers: the .so
# links it dynamically, and static users link -luring themselves.
set -euo pipefail
cd "$(dirname "$0")/.."

# What to measure -- the one line to change:
#   c       the C ABI libraries: ringsock_c_static (libringsock.a) and ringsock_c_shared (libringsock.so.0.x)
#   engine  the C++ engine's static library only: ringsock_engine (engine/libringsock_engine.a)
LIBS="${RINGSOCK_FOOTPRINT_LIBS:-c}"

jobs="${RINGSOCK_JOBS:-2}"
profiles=(release embedded)
archs=("$@")
if [[ ${#archs[@]} -eq 0 ]]; then
  archs=(x86_64 aarch64 armhf riscv64)
fi

case "$LIBS" in
  c)      targets=(ringsock_c_static ringsock_c_shared); static_name=libringsock.a; shared_glob='libringsock.so.*.*' ;;
  engine) targets=(ringsock_engine); static_name=libringsock_engine.a; shared_glob='' ;;
  *) echo "footprint: LIBS must be c or engine" >&2; exit 2 ;;
esac

log() { printf 'footprint: %s\n' "$*" >&2; }

# ARCH -> "triplet dpkg-arch" ("" for the build machine).
triplet_of() {
  case "$1" in
    x86_64|native) echo "" ;;
    aarch64|arm64) echo "aarch64-linux-gnu arm64" ;;
    armhf)         echo "arm-linux-gnueabihf armhf" ;;
    riscv64)       echo "riscv64-linux-gnu riscv64" ;;
    *) return 1 ;;
  esac
}

# Install the cross toolchains that are missing (one apt run for all of them).
deps=()
for arch in "${archs[@]}"; do
  if ! spec="$(triplet_of "$arch")"; then
    log "unknown architecture '$arch' (expected x86_64, aarch64, armhf or riscv64)"
    exit 2
  fi
  [[ -n "$spec" ]] && deps+=("${spec#* }")
done
if [[ ${#deps[@]} -gt 0 ]]; then
  bash scripts/cross-deps.sh "${deps[@]}" >&2
fi

rows=()
for arch in "${archs[@]}"; do
  spec="$(triplet_of "$arch")"
  triplet="${spec%% *}"
  cmake_args=(-DCMAKE_BUILD_TYPE=Release -DRINGSOCK_BUILD_TESTS=OFF -DRINGSOCK_BUILD_TOOLS=OFF -DRINGSOCK_BUILD_BENCH=OFF)
  if [[ -n "$triplet" ]]; then
    cmake_args+=(-DCMAKE_TOOLCHAIN_FILE="$PWD/toolchains/$triplet.cmake")
    strip="$triplet-strip"
    size="$triplet-size"
    uring_ok="$(PKG_CONFIG_PATH='' PKG_CONFIG_LIBDIR="/usr/lib/$triplet/pkgconfig" \
      pkg-config --exists 'liburing >= 2.3' && echo 1 || echo 0)"
  else
    arch=x86_64
    strip="strip"
    size="size"
    uring_ok="$(pkg-config --exists 'liburing >= 2.3' && echo 1 || echo 0)"
  fi
  if [[ "$uring_ok" == 1 ]]; then
    backends="io_uring + epoll"
  else
    backends="epoll only (RINGSOCK_WITH_URING=OFF)"
    cmake_args+=(-DRINGSOCK_WITH_URING=OFF)
  fi
  for profile in "${profiles[@]}"; do
    dir="build-footprint/$arch-$profile"
    extra=()
    [[ "$profile" == embedded ]] && extra+=(-DRINGSOCK_EMBEDDED=ON)
    log "$arch $profile: building ${targets[*]} in $dir"
    cmake -S . -B "$dir" -G Ninja "${cmake_args[@]}" "${extra[@]}" >/dev/null
    if ! ninja -C "$dir" -j "$jobs" "${targets[@]}" >&2; then
      log "$arch $profile: building ${targets[*]} failed (with LIBS=c the C library targets must exist; LIBS=engine measures the engine alone)"
      exit 1
    fi
    out="$dir/stripped"
    rm -rf "$out" && mkdir -p "$out"
    static="$(find "$dir" -path "$out" -prune -o -type f -name "$static_name" -print | head -n1)"
    [[ -n "$static" ]] || { log "$arch $profile: $static_name not found in $dir"; exit 1; }
    cp "$static" "$out/" && "$strip" --strip-unneeded "$out/$static_name"
    static_bytes="$(stat -c %s "$out/$static_name")"
    # text + data of all members: what a program linking the whole archive
    # would carry, before its own --gc-sections (the file size above also
    # counts section headers and relocations, which -ffunction-sections adds).
    static_code="$("$size" -t "$out/$static_name" | awk 'END { print $1 + $2 }')"
    shared_bytes="—"
    shared_code="—"
    if [[ -n "$shared_glob" ]]; then
      # The newest match: a build dir may still hold the library of an older
      # ABI version (libringsock.so.0.1.0 next to .0.2.0).
      shared="$(find "$dir" -path "$out" -prune -o -type f -name "$shared_glob" -printf '%T@ %p\n' |
        sort -n | tail -n1 | cut -d' ' -f2-)"
      [[ -n "$shared" ]] || { log "$arch $profile: $shared_glob not found in $dir"; exit 1; }
      cp "$shared" "$out/" && "$strip" --strip-unneeded "$out/$(basename "$shared")"
      shared_name="$(basename "$shared")"
      shared_bytes="$(stat -c %s "$out/$shared_name")"
      shared_code="$("$size" "$out/$shared_name" | awk 'END { print $1 + $2 }')"
    fi
    rows+=("| $arch | $profile | $backends | $static_bytes | $static_code | $shared_bytes | $shared_code |")
  done
done

if [[ "$LIBS" == c ]]; then
  echo "Stripped (--strip-unneeded) sizes in bytes of the C libraries, libringsock.a and ${shared_name:-libringsock.so}:"
else
  echo "Stripped (--strip-unneeded) sizes in bytes of the engine library, engine/libringsock_engine.a (no shared library):"
fi
echo
echo "| arch | profile | backends | static .a bytes | .a text+data | shared .so bytes | .so text+data |"
echo "|---|---|---|--:|--:|--:|--:|"
printf '%s\n' "${rows[@]}"
