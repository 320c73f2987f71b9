#!/usr/bin/env bash
# Installs what the fuzz pass (scripts/fuzz.sh) needs beyond the build and
# test dependencies, and only what is missing: clang and its runtime
# libraries (libFuzzer, ASan, UBSan), Debian's own, so the harnesses build
# with the same compiler on every machine. The build and test dependencies
# come from scripts/deps.sh, which runs first. When everything is there, apt
# is not touched at all (no root, no network needed). Idempotent.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

packages=(clang libclang-rt-14-dev)
commands=(clang clang++)

log() { printf 'fuzz-deps: %s\n' "$*"; }
# shellcheck source=scripts/apt_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt_common.sh"

# libFuzzer's archive is what libclang-rt-14-dev adds to clang.
fuzzer_runtime_present() {
  local dir
  dir="$(clang -print-resource-dir 2>/dev/null)" || return 1
  compgen -G "$dir/lib/linux/libclang_rt.fuzzer-*.a" >/dev/null
}

all_present() {
  local item
  for item in "${commands[@]}"; do
    command -v "$item" >/dev/null 2>&1 || return 1
  done
  fuzzer_runtime_present
}

main() {
  bash "$(dirname "${BASH_SOURCE[0]}")/deps.sh"
  install_missing "fuzzing dependencies" "commands ${commands[*]} and libclang_rt.fuzzer in clang -print-resource-dir"
}

main "$@"
