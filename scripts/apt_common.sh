# shellcheck shell=bash
# shellcheck disable=SC2154  # packages: defined by the script that sources this
# Sourced by deps.sh, bench-deps.sh, browser-deps.sh and cross-deps.sh: running as root, the
# dpkg state of packages, and the one flow "install only what is missing".
# The caller defines log(), the array `packages` and the function
# all_present (true when every command/header/module it needs is there).

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

# The packages of `packages` that dpkg does not have installed, one per line.
missing_packages() {
  local package
  for package in "${packages[@]}"; do
    # db:Status-Abbrev is "ii " for an installed package.
    if [[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$package" 2>/dev/null)" != ii* ]]; then
      printf '%s\n' "$package"
    fi
  done
}

# install_missing WHAT HINT: when all_present fails, apt-get update and
# install the missing packages, then check again. WHAT names the set in
# messages ("build and test dependencies"); HINT says what to check when the
# packages are there but something is still missing.
install_missing() {
  local what="$1" hint="$2"
  if all_present; then
    log "all $what present; skipping apt"
    return 0
  fi
  if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    log "$what are missing and this is not a Debian-like system; install by hand:"
    log "  ${packages[*]}"
    exit 1
  fi
  local missing
  mapfile -t missing < <(missing_packages)
  if [[ ${#missing[@]} -eq 0 ]]; then
    log "every package is installed, yet something is missing (a broken install?)"
    log "check: $hint"
    exit 1
  fi
  log "installing: ${missing[*]}"
  # One bad index (a mirror mid-sync, often a foreign architecture's that
  # cross-deps.sh added) fails the whole update though the lists we need
  # came through; the install below says so if they did not.
  if ! as_root apt-get update; then
    log "apt-get update failed for some index; trying the install anyway"
  fi
  as_root apt-get install -y --no-install-recommends "${missing[@]}"
  if ! all_present; then
    log "installed ${missing[*]}, but the $what are still incomplete"
    exit 1
  fi
  log "done"
}
