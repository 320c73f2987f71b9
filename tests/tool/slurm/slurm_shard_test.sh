#!/usr/bin/env bash
# Description: under a real single-node Slurm (scripts/slurm-node.sh), the 4
# tasks of `srun -n 4` find their shards 0/4 .. 3/4 with --shard auto.
# Skips (77) without root or without Slurm's packages (scripts/slurm-deps.sh).
set -euo pipefail
probe="$1"
scripts="$2"

if [[ "$(id -u)" -ne 0 ]]; then
  echo "SKIP: starting Slurm's daemons needs root"
  exit 77
fi
for command in slurmctld slurmd srun sinfo munged; do
  if ! command -v "$command" >/dev/null 2>&1; then
    echo "SKIP: $command is not installed (bash scripts/slurm-deps.sh installs Slurm)"
    exit 77
  fi
done

dir=$(mktemp -d /tmp/ringsock-slurm.XXXXXX)
cleanup() {
  bash "$scripts/slurm-node.sh" stop "$dir" || true
  rm -rf "$dir"
}
trap cleanup EXIT

bash "$scripts/slurm-node.sh" start "$dir" 4
got=$(SLURM_CONF="$dir/slurm.conf" timeout 60 srun -n 4 "$probe" | sort)
expected=$'0/4\n1/4\n2/4\n3/4'
if [[ "$got" != "$expected" ]]; then
  echo "srun -n 4: expected the shards 0/4 .. 3/4, got:"
  echo "$got"
  exit 1
fi
echo "srun -n 4: each task found its shard"
