#!/usr/bin/env bash
# Bring up a single-node SLURM cluster (slurmctld + slurmd on 127.0.0.1, accounting through
# slurmdbd and a private MariaDB) on this machine, for the cluster test and for trying
# profiles/slurm. Debian/Ubuntu, as root, no systemd needed.
#
#   sudo cluster/slurm-up.sh      # installs the Debian packages if missing; idempotent
#   sbatch --wrap 'hostname'; squeue; sacct
#   sudo cluster/slurm-down.sh    # stops every daemon it started, removes its state
#
# Settings (environment): SLURM_LOCAL_STATE (default /var/lib/guiding-slurm),
# SLURM_LOCAL_{CTLD,SLURMD,DBD}_PORT (default 6817, 6818, 6819),
# SLURM_LOCAL_WAIT (seconds to wait for the node, default 60).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=cluster/common.sh
source "$HERE/common.sh"
START=$(date +%s%N)
WAIT=${SLURM_LOCAL_WAIT:-60}

[[ $(id -u) -eq 0 ]] || die "must run as root (it installs packages and starts daemons)"

# --- packages -------------------------------------------------------------------------------
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    command -v apt-get >/dev/null || die "packages missing (${missing[*]}) and no apt-get"
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Debian's post-install scripts would try to start the services: forbid it while we
    # install (we start them below, our way), unless a policy is already in place.
    policy=/usr/sbin/policy-rc.d
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod +x "$policy"
        trap 'rm -f "$policy"' EXIT
    fi
    if ! apt-get install -y -q "${missing[@]}" >/dev/null 2>&1; then
        log "apt-get install failed; apt-get update and retry"
        apt-get update -q >/dev/null
        apt-get install -y -q "${missing[@]}" >/dev/null
    fi
    if [[ $(trap -p EXIT) ]]; then rm -f "$policy"; trap - EXIT; fi
fi

# --- configuration --------------------------------------------------------------------------
for f in slurm.conf slurmdbd.conf; do
    if [[ -e $SLURM_CONF_DIR/$f ]] && ! is_ours "$SLURM_CONF_DIR/$f"; then
        die "$SLURM_CONF_DIR/$f exists and was not written by this script: not touching a real cluster"
    fi
done
mkdir -p "$SLURM_LOCAL_STATE"/{run,log,slurmctld,slurmd,mysql,mysqld} "$SLURM_CONF_DIR"
chmod 755 "$SLURM_LOCAL_STATE"
chown mysql:mysql "$SLURM_LOCAL_STATE/mysql" "$SLURM_LOCAL_STATE/mysqld"
[[ -s $SLURM_LOCAL_STATE/db.pass ]] || (umask 077; head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$SLURM_LOCAL_STATE/db.pass")
DB_PASS=$(cat "$SLURM_LOCAL_STATE/db.pass")
# The node's hardware as slurmd sees it (CPUs, sockets, cores, threads, memory), minus its name.
NODE_HW=$(slurmd -C | head -1 | sed -e 's/^NodeName=[^ ]* //')
render() {  # render TEMPLATE DEST MODE
    sed -e "s|@MARKER@|$MARKER|" -e "s|@STATE@|$SLURM_LOCAL_STATE|g" -e "s|@NODE_HW@|$NODE_HW|" \
        -e "s|@CTLD_PORT@|$CTLD_PORT|" -e "s|@SLURMD_PORT@|$SLURMD_PORT|" -e "s|@DBD_PORT@|$DBD_PORT|g" \
        -e "s|@DB_PASS@|$DB_PASS|" "$1" >"$2.tmp"
    chmod "$3" "$2.tmp"
    mv "$2.tmp" "$2"
}
render "$HERE/slurm.conf.in" "$SLURM_CONF_DIR/slurm.conf" 644
render "$HERE/slurmdbd.conf.in" "$SLURM_CONF_DIR/slurmdbd.conf" 600

# start_daemon NAME PIDFILE CMD...: run CMD detached (own session, no inherited stdio, so a
# caller that captures our output is not kept waiting), unless PIDFILE's process is alive.
start_daemon() {
    local name=$1 pidfile=$2
    shift 2
    if pid_alive "$pidfile"; then
        log "$name already running (pid $(cat "$pidfile"))"
        return 0
    fi
    log "starting $name"
    setsid "$@" </dev/null >>"$SLURM_LOCAL_STATE/log/$name.out" 2>&1 &
    echo $! >"$pidfile"
}

# wait_for WHAT SECONDS CMD...: poll CMD every 0.2 s until it succeeds
wait_for() {
    local what=$1 secs=$2 i
    shift 2
    for ((i = 0; i < secs * 5; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    die "$what not ready after $secs s (logs: $SLURM_LOCAL_STATE/log/)"
}

# --- munge: reuse a working munged, else start our own ----------------------------------------
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    log "munged already running"
else
    [[ -s /etc/munge/munge.key ]] || { mungekey --create 2>/dev/null || create-munge-key -f; }
    chown munge:munge /etc/munge/munge.key
    chmod 400 /etc/munge/munge.key
    mkdir -p /run/munge
    chown munge:munge /run/munge
    start_daemon munged "$PIDS/munged.pid" setpriv --reuid=munge --regid=munge --init-groups munged --foreground
    wait_for munged 20 bash -c 'munge -n | unmunge'
fi

# --- MariaDB (private datadir, unix socket only) ----------------------------------------------
if [[ ! -d $SLURM_LOCAL_STATE/mysql/mysql ]]; then
    log "initialising MariaDB in $SLURM_LOCAL_STATE/mysql"
    mariadb-install-db --datadir="$SLURM_LOCAL_STATE/mysql" --user=mysql --skip-test-db \
        --auth-root-authentication-method=socket --innodb-log-file-size=8M \
        >"$SLURM_LOCAL_STATE/log/mariadb-install-db.log" 2>&1
fi
start_daemon mariadbd "$PIDS/mariadbd.pid" mariadbd --no-defaults --user=mysql --skip-networking \
    --datadir="$SLURM_LOCAL_STATE/mysql" --socket="$MYSQL_SOCKET" --pid-file="$SLURM_LOCAL_STATE/mysqld/mariadbd.pid" \
    --innodb-log-file-size=8M --innodb-buffer-pool-size=32M --log-error="$SLURM_LOCAL_STATE/mysqld/mariadbd.log"
wait_for mariadbd 60 mariadb-admin --socket="$MYSQL_SOCKET" ping
mariadb --socket="$MYSQL_SOCKET" -u root <<SQL
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DB_PASS';
ALTER USER 'slurm'@'localhost' IDENTIFIED BY '$DB_PASS';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
SQL

# --- slurmdbd, slurmctld, slurmd --------------------------------------------------------------
# slurmdbd reaches MariaDB through its socket (the client library reads MYSQL_UNIX_PORT).
start_daemon slurmdbd "$PIDS/slurmdbd.pid" env MYSQL_UNIX_PORT="$MYSQL_SOCKET" slurmdbd -D
wait_for slurmdbd 60 sacctmgr -n list cluster
# The cluster, and an account `guiding` for root (so that `slurm_account: guiding` works and
# sacctmgr finds a default account); both already exist after the first start.
sacctmgr -i -Q add cluster guiding >/dev/null 2>&1 || true
sacctmgr -i -Q add account guiding Cluster=guiding Description=tests Organization=guiding >/dev/null 2>&1 || true
sacctmgr -i -Q add user root Account=guiding DefaultAccount=guiding Cluster=guiding >/dev/null 2>&1 || true
start_daemon slurmctld "$PIDS/slurmctld.pid" slurmctld -D
wait_for slurmctld 60 scontrol ping
start_daemon slurmd "$PIDS/slurmd.pid" slurmd -D -N localhost

node_ready() {
    local state
    state=$(sinfo -h -N -n localhost -o %T 2>/dev/null | head -1)
    case $state in
    idle | mixed | allocated | completing) return 0 ;;
    down* | drain* | unknown*) scontrol update nodename=localhost state=resume >/dev/null 2>&1 || true ;;
    esac
    return 1
}
wait_for "node localhost" "$WAIT" node_ready
ms=$((($(date +%s%N) - START) / 1000000))
log "up in $((ms / 1000)).$((ms % 1000 / 100)) s: $(sinfo -h -N -o '%N %T %c CPUs %m MB')"
