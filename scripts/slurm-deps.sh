#!/usr/bin/env bash
# Installs what the single-node Slurm of the sharded-load tests needs
# (scripts/slurm-node.sh), and only what is missing: Slurm's controller, node
# daemon and client, and munge, its authentication. Their Debian packages
# enable systemd units; nothing here starts them: slurm-node.sh runs the
# daemons itself. When everything is there, apt is not touched (no root, no
# network needed). Idempotent.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

packages=(slurmctld slurmd slurm-client munge)
commands=(slurmctld slurmd srun sinfo munged runuser)

log() { printf 'slurm-deps: %s\n' "$*"; }
# shellcheck source=scripts/apt_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt_common.sh"

all_present() {
  local item
  for item in "${commands[@]}"; do
    command -v "$item" >/dev/null 2>&1 || return 1
  done
  [[ -s /etc/munge/munge.key ]]  # the munge package makes one at install
}

main() {
  install_missing "Slurm test dependencies" "commands ${commands[*]}; /etc/munge/munge.key"
}

main "$@"
