#!/usr/bin/env bash
# Tear down the single-node SLURM cluster of cluster/slurm-up.sh: cancel its jobs, stop the
# daemons it started (by their pid files), remove its config files and state directory.
# Idempotent: with nothing up it does nothing and exits 0. Installed packages stay.
#
#   sudo cluster/slurm-down.sh
#   SLURM_LOCAL_KEEP_STATE=1 cluster/slurm-down.sh   # keep logs and the accounting database
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=cluster/common.sh
source "$HERE/common.sh"

[[ $(id -u) -eq 0 ]] || die "must run as root"

# Cancel queued and running jobs first, so that no job step outlives slurmd.
if is_ours "$SLURM_CONF_DIR/slurm.conf" && pid_alive "$PIDS/slurmctld.pid"; then
    if [[ -n $(timeout 10 squeue -h -o %i 2>/dev/null) ]]; then
        log "cancelling jobs"
        timeout 10 scancel --full --user=root 2>/dev/null || true
        timeout 10 scancel --full --state=PENDING 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            [[ -z $(timeout 10 squeue -h -o %i 2>/dev/null) ]] && break
            sleep 0.2
        done
    fi
fi

# munged.pid exists only if slurm-up.sh started munged (it reuses a running one).
stop_pidfiles "$PIDS"/{slurmd,slurmctld,slurmdbd,mariadbd,munged}.pid

for f in slurm.conf slurmdbd.conf; do
    if is_ours "$SLURM_CONF_DIR/$f"; then
        rm -f "$SLURM_CONF_DIR/$f"
    fi
done
if [[ -d $SLURM_LOCAL_STATE && -z ${SLURM_LOCAL_KEEP_STATE:-} ]]; then
    rm -rf "$SLURM_LOCAL_STATE"
fi
log "down"
