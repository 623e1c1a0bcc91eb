import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
SMALL = ROOT / "tests" / "config" / "small.yaml"


def workflow_command(workdir: Path, *args: str) -> list[str]:
    """Snakemake on this workflow, run in ``workdir``."""
    return [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--directory", str(workdir), *args]


def small_study_command(workdir: Path, *args: str, configfile: Path = SMALL) -> list[str]:
    """Snakemake on this workflow in ``workdir`` with ``configfile`` alone (the small study)."""
    return workflow_command(workdir, "--replace-workflow-config", "--configfile", str(configfile), *args)


def small_config() -> dict:
    """The small study's config, as written (a fresh copy to change)."""
    import yaml

    return yaml.safe_load(SMALL.read_text())


def run_snakemake(workdir: Path, *args: str, configfile: Path = SMALL, env=None, timeout: float = 900) -> str:
    """Snakemake on this workflow in ``workdir`` with ``configfile`` alone: what it printed; a failure
    fails the test with Snakemake's output and the logs of the jobs that failed."""
    done = subprocess.run(
        small_study_command(workdir, *args, configfile=configfile),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    if done.returncode != 0:
        logs = "\n".join(
            f"== {p}\n{p.read_text()[-3000:]}"
            for p in (workdir / "results" / "logs").rglob("*.log")
            if "Error" in p.read_text()
        )
        raise AssertionError(
            f"snakemake {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}\n{logs}"
        )
    return done.stdout + done.stderr


@pytest.fixture(scope="session")
def small_study(tmp_path_factory, worker_id) -> Path:
    """The small study, run once per test session and shared by every test process (pytest-xdist
    workers wait for the first one to finish it). Read it, never write into it: copy it first.
    A study that failed is not marked done, so the next test that asks runs it again and fails too."""
    from filelock import FileLock

    root = tmp_path_factory.getbasetemp()
    if worker_id != "master":  # every worker's base directory sits in one shared parent
        root = root.parent
    workdir, done = root / "small-study", root / "small-study.done"
    with FileLock(str(root / "small-study.lock")):
        if not done.exists():
            workdir.mkdir(exist_ok=True)
            run = subprocess.run(
                small_study_command(workdir, "--cores", "2"), capture_output=True, text=True, timeout=1200
            )
            assert run.returncode == 0, f"the small study failed:\n{run.stdout[-3000:]}\n{run.stderr[-5000:]}"
            done.touch()
    return workdir


# `guiding serve` options that put the simulated world behind the LLM tests' endpoint.
SIMULATED_SERVER = [
    "--backend",
    "simulated",
    "--option",
    "teachers={main: {step_error: 0.15, error_style: slip}}",
    "--option",
    "shuffle=false",
    "--option",
    "near_duplicate_fraction=0.8",
]


# The longest modules first: `make test` runs the suite in parallel processes (pytest-xdist,
# one module per process at a time, in this order), so the SLURM test, which spends most of its
# time waiting for the cluster, starts at once beside the workflow runs.
SLOWEST_FIRST = (
    "test_slurm.py",
    "test_workflow.py",
    "test_audit.py",
    "test_released.py",
    "test_llm_workflow.py",
    "test_crate.py",
    "test_paper_path.py",
)


def pytest_collection_modifyitems(config, items):
    def rank(item) -> int:
        name = item.path.name
        return SLOWEST_FIRST.index(name) if name in SLOWEST_FIRST else len(SLOWEST_FIRST)

    items.sort(key=rank)  # stable: the order within a module stays


def wait_until_committed(cache, count: int, child, timeout: float = 120) -> None:
    """Poll the response cache at ``cache`` until it holds ``count`` answers; fail if ``child``
    (the job to be killed) ends first or ``timeout`` passes."""
    import sqlite3
    import time

    deadline = time.monotonic() + timeout
    while True:
        assert time.monotonic() < deadline and child.poll() is None, "the job ended before it could be killed"
        try:
            with sqlite3.connect(cache) as peek:
                if peek.execute("SELECT COUNT(*) FROM responses").fetchone()[0] >= count:
                    return
        except sqlite3.OperationalError:  # not created yet
            pass
        time.sleep(0.02)
