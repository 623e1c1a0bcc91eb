"""The workflow on a real SLURM cluster: a single node on 127.0.0.1 (cluster/slurm-up.sh).

Skipped, with the reason, when not root, when SLURM is missing and apt-get cannot install it,
when another SLURM configuration owns /etc/slurm, without the executor plugin, or with
GUIDING_SKIP_SLURM=1. The cluster comes up once per module and always goes down again.
"""

import fcntl
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import ROOT, small_study_command

from guiding import artifacts as A
from guiding.report import layout

PROFILE = ROOT / "tests" / "cluster" / "profile"
STUDY = ROOT / "tests" / "config" / "cluster.yaml"
FAILING = ROOT / "tests" / "cluster" / "Snakefile"
UP, DOWN = ROOT / "cluster" / "slurm-up.sh", ROOT / "cluster" / "slurm-down.sh"
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
TABLES = [f"{name}.{ext}" for name in (*layout.DATA_TABLES, *A.EXPERIMENTS) for ext in ("csv", "md")]
# Hard limits (s): bring-up (40 s with installing the packages on a fresh machine), one run of
# the small study on the cluster beside a local one (12 min measured on 2 cores shared with
# two other workflow runs), the failing job (must be reported within 2 min), teardown.
UP_TIMEOUT, RUN_TIMEOUT, FAIL_TIMEOUT, DOWN_TIMEOUT = 300, 900, 120, 120
# The rules that go to compute nodes in the embedded default (training, generation by a local
# model); every other rule is a localrule, run on the head node (rules/common.smk).
COMPUTE_RULES = {"train_stage1", "train_stage2", "generate_predictions"}

pytestmark = pytest.mark.workflow


def skip_reason() -> str | None:
    if os.environ.get("GUIDING_SKIP_SLURM") == "1":
        return "GUIDING_SKIP_SLURM=1"
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        return "the single-node SLURM cluster needs root on Linux (it installs packages and starts daemons)"
    if not shutil.which("sbatch") and not shutil.which("apt-get"):
        return "SLURM is not installed and there is no apt-get to install it"
    conf = Path("/etc/slurm/slurm.conf")
    if conf.exists() and "managed by guiding cluster/slurm-up.sh" not in conf.read_text(errors="replace"):
        return f"{conf} belongs to another SLURM installation: not starting a test cluster beside it"
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        return "snakemake-executor-plugin-slurm is not installed (pip install -e '.[cluster]', or '.[test]')"
    return None


def run(cmd: list, timeout: float, cwd: Path | None = None) -> tuple[subprocess.CompletedProcess, float]:
    """Run cmd in its own process group; past the timeout interrupt it (Snakemake then cancels
    its SLURM jobs), kill the group 30 s later, cancel what is left of its jobs, and fail."""
    start = time.monotonic()
    proc = subprocess.Popen(
        cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
        if m := re.search(r"SLURM run ID: (\S+)", out):
            subprocess.run(["scancel", "--name", m[1]], capture_output=True, timeout=30)
        pytest.fail(f"timed out after {timeout} s: {' '.join(map(str, cmd))}\n{out[-5000:]}")
    return subprocess.CompletedProcess(cmd, proc.returncode, out), time.monotonic() - start


@pytest.fixture(scope="module")
def cluster():
    """A single-node SLURM cluster on 127.0.0.1, torn down after the module whatever happens."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    # One test session at a time owns the machine's test cluster (the lock goes with the fd).
    lock = open(
        "/run/lock/guiding-slurm-test.lock" if Path("/run/lock").is_dir() else "/tmp/guiding-slurm-test.lock", "w"
    )
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        pytest.skip("another test session is using the single-node SLURM cluster of this machine")
    try:
        done, seconds = run(["bash", str(UP)], UP_TIMEOUT)
        assert done.returncode == 0, f"cluster/slurm-up.sh failed:\n{done.stdout}"
        print(f"\ncluster up in {seconds:.1f} s")
        yield
    finally:
        try:
            done, seconds = run(["bash", str(DOWN)], DOWN_TIMEOUT)
            print(f"\ncluster down in {seconds:.1f} s")
            assert done.returncode == 0, f"cluster/slurm-down.sh failed:\n{done.stdout}"
        finally:
            lock.close()


def snakemake_cmd(workdir: Path, *args: str) -> list[str]:
    return small_study_command(workdir, *args, configfile=STUDY)


def on_cluster(*args) -> list[str]:
    """Only the test profile: --workflow-profile none leaves out profiles/default."""
    return ["--profile", str(PROFILE), "--workflow-profile", "none", *args]


def job_stats(output: str) -> Counter:
    """The first 'Job stats' table of a run, as {rule: count}."""
    table = output.split("Job stats:", 1)[1]
    jobs = Counter()
    for line in table.splitlines()[3:]:
        m = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if not m or m[1] == "total":
            break
        jobs[m[1]] = int(m[2])
    return jobs


def jobs_in_log(text: str, kind: str) -> Counter:
    """The jobs that a Snakemake log announces as `kind` ("rule": scheduled by this process,
    "localrule": run by this process), as {(rule, outputs): count}."""
    jobs, rule = Counter(), None
    for line in text.splitlines():
        m = re.match(r"^\s*(localrule|rule) (\w+):$", line)
        if m:
            rule = m[2] if m[1] == kind else None
            continue
        m = re.match(r"^\s*output: (.+)$", line)
        if m and rule:
            jobs[(rule, m[1])] += 1
            rule = None
    return jobs


def sacct_jobs(run_id: str, expected: int, wait: float = 30) -> list[dict]:
    """The SLURM jobs of one Snakemake run (the plugin names every job after the run id), from
    the accounting database; waits up to `wait` s for `expected` finished jobs (slurmctld
    sends job records to slurmdbd asynchronously)."""
    deadline = time.monotonic() + wait
    while True:
        out = subprocess.run(
            [
                "sacct",
                "-X",
                "-n",
                "--parsable2",
                "--name",
                run_id,
                "--starttime",
                "now-1days",
                "-o",
                "JobIDRaw,State,ExitCode,Comment",
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
        jobs = [dict(zip(("id", "state", "exit", "comment"), line.split("|"))) for line in out.splitlines() if line]
        finished = [j for j in jobs if j["state"] not in ("PENDING", "RUNNING", "COMPLETING")]
        if len(finished) >= expected or time.monotonic() > deadline:
            return jobs
        time.sleep(1)


def run_id_of(output: str) -> str:
    m = re.search(r"SLURM run ID: (\S+)", output)
    assert m, f"no SLURM run ID in the output:\n{output[-3000:]}"
    return m[1]


def test_the_small_study_on_slurm_equals_a_local_run(cluster, tmp_path):
    local, remote = tmp_path / "local", tmp_path / "slurm"
    local.mkdir()
    remote.mkdir()
    # The local reference run goes on beside the cluster run: the cluster run spends much of
    # its time waiting for SLURM, and the test's wall time is what counts.
    reference = subprocess.Popen(
        snakemake_cmd(local, "--cores", "2"),
        cwd=local,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        done, seconds = run(snakemake_cmd(remote, *on_cluster()), RUN_TIMEOUT, cwd=remote)
        print(f"\nsmall study on SLURM in {seconds:.1f} s")
        assert done.returncode == 0, f"snakemake on SLURM failed:\n{done.stdout[-8000:]}"
        local_out, _ = reference.communicate(timeout=RUN_TIMEOUT)
        assert reference.returncode == 0, f"local snakemake failed:\n{local_out[-5000:]}"
    finally:
        if reference.poll() is None:
            os.killpg(reference.pid, signal.SIGKILL)
            reference.communicate()

    # Training and generation ran inside SLURM jobs and the rest on the head node: the jobs
    # that Snakemake submitted (rule and outputs) are those of the compute rules, the jobs that
    # the SLURM jobs' own logs (kept by the test profile) show running; each went through
    # sbatch (one submission line per job) and is COMPLETED in the accounting database.
    planned = job_stats(done.stdout)
    remote_jobs = {rule: n for rule, n in planned.items() if rule in COMPUTE_RULES}
    assert set(remote_jobs) == COMPUTE_RULES, planned
    scheduled = jobs_in_log(done.stdout, "rule")
    assert Counter(rule for rule, _ in scheduled.elements()) == remote_jobs
    on_head_node = jobs_in_log(done.stdout, "localrule")
    assert sum(on_head_node.values()) + sum(remote_jobs.values()) == planned.total() - planned["all"]
    logs = sorted((remote / ".snakemake" / "slurm_logs").rglob("*.log"))
    ran_in_slurm = sum((jobs_in_log(p.read_text(), "localrule") for p in logs), Counter())
    assert ran_in_slurm == scheduled, (scheduled - ran_in_slurm, ran_in_slurm - scheduled)
    submitted = re.findall(r"has been submitted with SLURM jobid (\d+)", done.stdout)
    assert len(submitted) == len(set(submitted)) == len(logs)
    assert sorted(p.stem for p in logs) == sorted(submitted)
    jobs = sacct_jobs(run_id_of(done.stdout), len(submitted))
    assert sorted(j["id"] for j in jobs) == sorted(submitted)
    assert {j["state"] for j in jobs} == {"COMPLETED"}, [j for j in jobs if j["state"] != "COMPLETED"]
    print(f"{sum(remote_jobs.values())} jobs in {len(submitted)} SLURM jobs")

    for name in TABLES:
        ours, theirs = remote / "results" / "tables" / name, local / "results" / "tables" / name
        assert ours.read_bytes() == theirs.read_bytes(), name


def test_a_failing_job_is_reported_as_failed(cluster, tmp_path):
    done, seconds = run(
        [*SNAKEMAKE, "-s", str(FAILING), "--directory", str(tmp_path), *on_cluster()], FAIL_TIMEOUT, cwd=tmp_path
    )
    print(f"\nfailing job reported in {seconds:.1f} s")
    assert done.returncode != 0, done.stdout[-3000:]
    assert seconds < FAIL_TIMEOUT
    assert "Error in rule fail_on_purpose" in done.stdout, done.stdout[-3000:]
    submitted = re.findall(r"Job \d+ has been submitted with SLURM jobid (\d+)", done.stdout)
    assert len(submitted) == 1, done.stdout[-3000:]
    jobs = sacct_jobs(run_id_of(done.stdout), 1)
    assert [(j["id"], j["state"], j["exit"]) for j in jobs] == [(submitted[0], "FAILED", "1:0")]
    assert (
        "failing on purpose"
        in (tmp_path / ".snakemake" / "slurm_logs" / "rule_fail_on_purpose" / f"{submitted[0]}.log").read_text()
    )
    assert not (tmp_path / "never-written.txt").exists()
