#!/usr/bin/env bash
# A single-node Slurm cluster on this host for the sharded-load tests:
# munged, slurmctld and slurmd started directly (no systemd), with every file
# they write under one directory, and stopped again by the same script.
#
#   bash scripts/slurm-node.sh start DIR [TASKS]   configure, start, wait for the node
#   bash scripts/slurm-node.sh stop DIR            stop what start started
#
# After start, `SLURM_CONF=DIR/slurm.conf srun -n TASKS ...` runs TASKS tasks
# here (the node declares TASKS CPUs, at least the real count, so no
# --overcommit is needed). State lives in DIR/state, made fresh by each start,
# so a node drained by an earlier run does not stay drained. Needs root and
# the packages of scripts/slurm-deps.sh.
set -euo pipefail

log() { printf 'slurm-node: %s\n' "$*" >&2; }

write_config() {
  local dir="$1" tasks="$2" host="$3"
  cat >"$dir/slurm.conf" <<EOF
ClusterName=ringsock-test
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
NodeName=$host CPUs=$tasks State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE
EOF
}

start_munge() {
  local dir="$1"
  mkdir -p "$dir/munge"
  chown munge:munge "$dir/munge"
  chmod 0755 "$dir/munge"  # clients must reach the socket
  # munged refuses to run as root: it runs as the munge user, which owns the key.
  runuser -u munge -- /usr/sbin/munged --socket="$dir/munge/munge.socket" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" \
    --seed-file="$dir/munge/munged.seed"
}

wait_idle() {
  local dir="$1" host="$2" i state
  for ((i = 0; i < 60; i++)); do
    state=$(SLURM_CONF="$dir/slurm.conf" sinfo -h -n "$host" -o %T 2>/dev/null || true)
    if [[ "$state" == idle* ]]; then
      log "node $host is idle"
      return 0
    fi
    sleep 0.5
  done
  log "node $host did not become idle (state '${state:-none}'); see $dir/*.log"
  return 1
}

start() {
  local dir="$1" tasks="${2:-4}" host
  host=$(hostname -s)
  (( tasks < $(nproc) )) && tasks=$(nproc)
  mkdir -p "$dir"
  chmod 0755 "$dir"  # munged runs as the munge user and must reach its files
  dir=$(cd "$dir" && pwd)
  rm -rf "$dir/state" "$dir/spool"
  mkdir -p "$dir/state" "$dir/spool"
  write_config "$dir" "$tasks" "$host"
  start_munge "$dir"
  slurmctld -f "$dir/slurm.conf" -i
  slurmd -f "$dir/slurm.conf"
  wait_idle "$dir" "$host"
}

stop_pid() {
  local file="$1" pid
  [[ -s "$file" ]] || return 0
  pid=$(cat "$file")
  kill "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}

stop() {
  local dir="$1"
  stop_pid "$dir/slurmd.pid"
  stop_pid "$dir/slurmctld.pid"
  stop_pid "$dir/munge/munged.pid"
}

case "${1:-}" in
  start) start "${2:?DIR}" "${3:-4}" ;;
  stop) stop "${2:?DIR}" ;;
  *) log "usage: $0 start DIR [TASKS] | stop DIR"; exit 2 ;;
esac
