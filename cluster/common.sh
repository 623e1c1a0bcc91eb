# Shared settings of cluster/slurm-up.sh and cluster/slurm-down.sh (sourced, not run).
# Everything the local cluster writes lives under $SLURM_LOCAL_STATE, except the two config
# files that SLURM's commands look for in /etc/slurm (they carry $MARKER; files without it
# are never touched).

SLURM_LOCAL_STATE=${SLURM_LOCAL_STATE:-/var/lib/guiding-slurm}
SLURM_CONF_DIR=/etc/slurm
MARKER="managed by guiding cluster/slurm-up.sh"
PACKAGES=(munge slurm-client slurmctld slurmd slurmdbd mariadb-server)
CTLD_PORT=${SLURM_LOCAL_CTLD_PORT:-6817}
SLURMD_PORT=${SLURM_LOCAL_SLURMD_PORT:-6818}
DBD_PORT=${SLURM_LOCAL_DBD_PORT:-6819}
MYSQL_SOCKET=$SLURM_LOCAL_STATE/mysqld/mysqld.sock
PIDS=$SLURM_LOCAL_STATE/run

log() { printf '[%s %s] %s\n' "$(basename "$0")" "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# is_ours FILE: FILE exists and was written by slurm-up.sh
is_ours() { [[ -f $1 ]] && grep -qF "$MARKER" "$1"; }

# pid_alive PIDFILE: the process named in PIDFILE is running
pid_alive() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stop_pidfiles PIDFILE...: TERM every live process named in the pid files at once, wait for
# them all, KILL what is left after 15 s; dead or missing pid files are skipped and removed.
stop_pidfiles() {
    local file pid i pids=()
    for file in "$@"; do
        if pid_alive "$file"; then
            pid=$(cat "$file")
            log "stopping $(basename "$file" .pid) (pid $pid)"
            kill -TERM "$pid" 2>/dev/null || true
            pids+=("$pid")
        fi
    done
    for ((i = 0; i < 150; i++)); do
        local alive=()
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
        ((${#alive[@]})) || break
        sleep 0.1
    done
    for pid in "${pids[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            log "pid $pid ignored TERM for 15 s: KILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    rm -f "$@"
}
