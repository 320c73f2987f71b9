#!/usr/bin/env bash
# Installs what cross-building ringsock needs on Debian bookworm, and only what
# is missing:  bash scripts/cross-deps.sh [ARCH...]   (default: arm64 armhf riscv64)
#
#   arm64, armhf  Debian release architectures: the cross compiler, the target's
#                 liburing-dev, libgtest-dev and zlib1g-dev from multiarch (dpkg
#                 --add-architecture), and qemu-user-static to run the tests.
#   riscv64       not a bookworm release architecture: only the cross compiler
#                 exists, no multiarch libraries. The build is epoll-only (no
#                 liburing), without zlib (no .hlog), and GoogleTest is compiled
#                 from the googletest sources (/usr/src/googletest) by
#                 scripts/cross.sh.
#
# When every package is installed, apt and dpkg are not touched (no root, no
# network needed). Idempotent. Exits 77 when apt finds no installable plan
# for the packages (what the indices offer does not fit together), 1 on other
# failures.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

log() { printf 'cross-deps: %s\n' "$*"; }
# shellcheck source=scripts/apt_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt_common.sh"

archs=("$@")
if [[ ${#archs[@]} -eq 0 ]]; then
  archs=(arm64 armhf riscv64)
fi

packages=(cmake ninja-build pkg-config)
foreign=()  # dpkg architectures the packages need
for arch in "${archs[@]}"; do
  case "$arch" in
    arm64|armhf)
      foreign+=("$arch")
      packages+=("crossbuild-essential-$arch" "liburing-dev:$arch" "libgtest-dev:$arch" "zlib1g-dev:$arch"
                qemu-user-static)
      ;;
    riscv64)
      packages+=(g++-riscv64-linux-gnu binutils-riscv64-linux-gnu googletest)
      ;;
    *)
      log "unknown architecture '$arch' (expected arm64, armhf or riscv64)"
      exit 2
      ;;
  esac
done

installed() {
  # db:Status-Abbrev is "ii " for an installed package; "pkg:arch" asks for that arch.
  [[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" == ii* ]]
}

# The versions of package $1 for architecture $2 that the indices offer.
versions_offered() {
  { apt-cache madison "$1:$2" 2>/dev/null || true; } | awk -F'|' '{gsub(/ /,"",$2); print $2}' | sort -u
}

# Newest version of package $1 that every architecture in $2.. can get from
# the package indices (empty when there is none).
common_version() {
  local name="$1" arch v ok best=""
  shift
  local -a candidates
  mapfile -t candidates < <(versions_offered "$name" "$1")
  for v in "${candidates[@]}"; do
    ok=1
    for arch in "${@:2}"; do
      [[ $'\n'"$(versions_offered "$name" "$arch")"$'\n' == *$'\n'"$v"$'\n'* ]] || { ok=0; break; }
    done
    if [[ $ok -eq 1 ]] && { [[ -z "$best" ]] || dpkg --compare-versions "$v" gt "$best"; }; then
      best="$v"
    fi
  done
  printf '%s' "$best"
}

# apt-get install, planned first with apt-get -s. Two problems are repaired:
#  - a Multi-Arch: same package (every architecture must have the same
#    version) installed on the host at a version the target's index does not
#    offer -- a host from another snapshot, or a foreign index that failed to
#    download: every architecture gets the newest version all of them can
#    get. When that is older than the host's, it is a downgrade of a host
#    package, done only with RINGSOCK_CROSS_ALLOW_DOWNGRADE=1;
#  - a host package the plan would remove because of that (libssl-dev when
#    libssl3 moves): it is moved along, to the same version when offered.
# Nothing is ever removed (--no-remove); anything else is left to apt's error.
install_aligned() {
  local -a want=("$@") pins=() new_pins=() names=() archs_for=()
  local out name host v arch native
  native="$(dpkg --print-architecture)"
  for _ in 1 2 3 4 5; do
    out="$(apt-get -s install --no-install-recommends --allow-downgrades "${want[@]}" "${pins[@]}" 2>&1 || true)"
    new_pins=()
    if [[ "$out" == *$'\nE: '* || "$out" == E:* ]]; then
      mapfile -t names < <(grep -oE 'Depends: [a-z0-9.+-]+:[a-z0-9]+ ' <<<"$out" | sed -E 's/^Depends: //; s/:.*//' | sort -u || true)
      for name in "${names[@]}"; do
        host="$(dpkg-query -W -f='${Version}' "$name:$native" 2>/dev/null || true)"
        [[ -n "$host" ]] || continue
        [[ "$(apt-cache show "$name:$native" 2>/dev/null || true)" == *$'\nMulti-Arch: same'* ]] || continue
        # The native arch, the requested foreign ones, and any other arch that has it installed.
        archs_for=("$native" "${foreign[@]}")
        for arch in $(dpkg --print-foreign-architectures); do
          if [[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$name:$arch" 2>/dev/null || true)" == ii* ]]; then
            archs_for+=("$arch")
          fi
        done
        mapfile -t archs_for < <(printf '%s\n' "${archs_for[@]}" | awk '!seen[$0]++')
        local skewed=0
        for arch in "${archs_for[@]:1}"; do
          [[ $'\n'"$(versions_offered "$name" "$arch")"$'\n' == *$'\n'"$host"$'\n'* ]] || skewed=1
        done
        [[ $skewed -eq 1 ]] || continue  # the host's version is offered: not a skew
        v="$(common_version "$name" "${archs_for[@]}")"
        if [[ -z "$v" ]]; then
          log "$name: no version is offered for all of ${archs_for[*]} (host has $host)"
          continue
        fi
        [[ " ${pins[*]} " != *" $name:$native=$v "* ]] || continue
        if dpkg --compare-versions "$v" lt "$host"; then
          if [[ "${RINGSOCK_CROSS_ALLOW_DOWNGRADE:-0}" != "1" ]]; then
            log "$name: the host has $host, which the ${archs_for[*]:1} index does not offer; the newest version all"
            log "  of ${archs_for[*]} can get is $v, older than the host's. Downgrading a host package is not done"
            log "  unasked: rerun with RINGSOCK_CROSS_ALLOW_DOWNGRADE=1 to allow it (or fix the mirror / apt-get upgrade)."
            return 1
          fi
          log "$name: the host has $host, which the ${archs_for[*]:1} index does not offer; DOWNGRADING it to $v on every architecture (RINGSOCK_CROSS_ALLOW_DOWNGRADE=1)"
        else
          log "$name: the host has $host, which the ${archs_for[*]:1} index does not offer; upgrading it to $v on every architecture"
        fi
        for arch in "${archs_for[@]}"; do
          new_pins+=("$name:$arch=$v")
        done
      done
      if [[ ${#new_pins[@]} -eq 0 ]]; then
        log "apt cannot install this, and it is not a version skew this script can align:"
        printf '%s\n' "$out" | grep -E '^ |^E:' >&2 || true
        return 1
      fi
    elif [[ "$out" == *$'\nRemv '* ]]; then
      mapfile -t names < <(grep -E '^Remv ' <<<"$out" | awk '{print $2}' || true)
      for name in "${names[@]}"; do
        v=""
        local pin offered
        offered=$'\n'"$(versions_offered "${name%%:*}" "${native}")"$'\n'
        for pin in "${pins[@]}"; do
          if [[ "$offered" == *$'\n'"${pin##*=}"$'\n'* ]]; then v="${pin##*=}"; break; fi
        done
        log "the plan would remove $name; moving it along${v:+ to $v} instead"
        new_pins+=("${name}${v:+=$v}")
      done
    else
      log "installing: ${want[*]} ${pins[*]}"
      as_root apt-get install -y --no-install-recommends --allow-downgrades --no-remove "${want[@]}" "${pins[@]}"
      return $?
    fi
    pins+=("${new_pins[@]}")
  done
  log "could not find an installable plan in 5 rounds"
  return 1
}

main() {
  if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    log "not a Debian-like system; install by hand the equivalents of:"
    log "  $(printf '%s ' "${packages[@]}" | tr ' ' '\n' | sort -u | tr '\n' ' ')"
    exit 1
  fi

  local missing=() seen=" " package
  for package in "${packages[@]}"; do
    [[ "$seen" == *" $package "* ]] && continue
    seen+="$package "
    installed "$package" || missing+=("$package")
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    log "all cross dependencies present for: ${archs[*]}; skipping apt"
    return 0
  fi

  local arch added=0
  local known
  known=" $(dpkg --print-architecture) $(dpkg --print-foreign-architectures | tr '\n' ' ') "
  for arch in "${foreign[@]}"; do
    if [[ "$known" != *" $arch "* ]]; then
      log "adding dpkg architecture $arch"
      as_root dpkg --add-architecture "$arch"
      known+="$arch "
      added=1
    fi
  done

  log "missing: ${missing[*]}"
  # One foreign index failing (a mirror without that architecture, a
  # transient error) must not stop the rest: the install below decides
  # whether what is needed could be found.
  if ! as_root apt-get update; then
    log "apt-get update failed for some index (architectures added: $added); trying the install anyway"
  fi
  # No installable plan (a mirror caught mid-sync, an index missing for an
  # architecture) is not a fault of the project: exit 77, which
  # scripts/cross.sh and scripts/test.sh report as the target skipped.
  if ! install_aligned "${missing[@]}"; then
    log "the packages for ${archs[*]} cannot be installed from this machine's package indices (above); exit 77"
    exit 77
  fi

  local still=()
  for package in "${missing[@]}"; do
    installed "$package" || still+=("$package")
  done
  if [[ ${#still[@]} -ne 0 ]]; then
    log "still missing after the install: ${still[*]}"
    exit 1
  fi
  log "done"
}

main
