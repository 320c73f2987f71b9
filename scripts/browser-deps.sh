#!/usr/bin/env bash
# Installs what the report's browser test needs beyond the build and test
# dependencies, and only what is missing: Debian's chromium, in which the
# test opens the pages `ringsock report` writes (headless, from files, no
# network). When it is there, apt is not touched at all. Idempotent.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

packages=(chromium)
commands=(chromium)

log() { printf 'browser-deps: %s\n' "$*"; }
# shellcheck source=scripts/apt_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt_common.sh"

all_present() {
  local item
  for item in "${commands[@]}"; do
    command -v "$item" >/dev/null 2>&1 || return 1
  done
}

main() {
  install_missing "browser test dependencies" "commands ${commands[*]}"
}

main "$@"
