"""A canary API key: it reaches the server and nothing else.

The LLM rules of tests/config/llm.yaml run against ``guiding serve`` on 127.0.0.1, which requires
the key; the key lives only in the environment variable the endpoint names (``api_key_env``).
Afterwards no file of the run (results, logs, lineage records, .snakemake, the response cache and
its WAL, the Snakemake report, the RO-Crate) and nothing Snakemake printed holds the key, in
plain text or base64.
"""

import base64
import hashlib
import os
import secrets
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, small_study_command

from guiding import artifacts as A
from guiding.llm.serve import ServeProcess

pytestmark = pytest.mark.workflow

CONFIG = ROOT / "tests" / "config" / "llm.yaml"
KEY_ENV = "GUIDING_CANARY_API_KEY"
SIMULATED = [
    "--backend",
    "simulated",
    "--option",
    "teachers={main: {step_error: 0.15, error_style: slip}}",
    "--option",
    "shuffle=false",
    "--option",
    "near_duplicate_fraction=0.8",
]
TARGETS = [A.fill(A.TABLE, table=A.COST_TABLE, ext="csv"), A.fill(A.SET, name=A.paraphrase_name("hard-main-er50"))]


def leaks(data: bytes, canary: str) -> bool:
    forms = (canary.encode(), base64.b64encode(canary.encode()), base64.b64encode(f"Bearer {canary}".encode()))
    return any(form in data for form in forms)


def files_holding(root: Path, canary: str) -> list[str]:
    """Every file under ``root`` (and every member of a zip there) that holds the canary."""
    found = []
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if leaks(data, canary):
            found.append(str(path.relative_to(root)))
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                found += [f"{path.name}:{n}" for n in archive.namelist() if leaks(archive.read(n), canary)]
    return found


@pytest.fixture(scope="module")
def canary_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("canary")
    canary = f"sk-canary-{secrets.token_hex(16)}"
    workdir = tmp / "run"
    config = yaml.safe_load(CONFIG.read_text())
    config["llm"]["cache"] = str(workdir / ".cache" / "llm" / "responses.sqlite")
    env = {k: v for k, v in os.environ.items() if not k.endswith("API_KEY")} | {KEY_ENV: canary}
    printed = []
    with ServeProcess(*SIMULATED, "--api-key-env", KEY_ENV, output=tmp / "server.out", env=env) as server:
        config["llm"]["endpoints"]["served"].update(base_url=server.base_url, api_key_env=KEY_ENV)
        configfile = tmp / "config.yaml"
        configfile.write_text(yaml.safe_dump(config))
        done = subprocess.run(
            small_study_command(workdir, "--cores", "2", *TARGETS, configfile=configfile),
            capture_output=True,
            text=True,
            timeout=900,
            env=env,
        )
        printed.append(done.stdout + done.stderr)
        assert done.returncode == 0, done.stderr[-4000:]
        stats = server.stats()
    report = subprocess.run(
        small_study_command(workdir, "--report", str(workdir / "report.html"), *TARGETS, configfile=configfile),
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    printed.append(report.stdout + report.stderr)
    assert report.returncode == 0, report.stderr[-4000:]
    crate = subprocess.run(
        [sys.executable, "-m", "guiding.cli", "crate", TARGETS[0], "-o", str(workdir / "crate.zip")],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
        env=env | {"PYTHONPATH": str(ROOT / "src")},
    )
    printed.append(crate.stdout + crate.stderr)
    assert crate.returncode == 0, crate.stderr[-4000:]
    return canary, workdir, stats, printed


def test_the_key_reached_the_server(canary_run):
    canary, _, stats, _ = canary_run
    sent = hashlib.sha256(f"Bearer {canary}".encode()).hexdigest()
    assert stats["answered"] > 0
    assert stats["authorization_sha256"] == {sent: stats["received"]}  # every request carried it


def test_the_key_is_in_no_file_of_the_run_and_nothing_printed(canary_run):
    canary, workdir, _, printed = canary_run
    for part in ("results", ".snakemake", ".cache", "report.html", "crate.zip"):
        assert (workdir / part).exists(), part  # each place the check covers was written
    assert (workdir / "results" / "provenance").is_dir() and (workdir / "results" / "logs").is_dir()
    assert files_holding(workdir, canary) == []
    assert not any(leaks(text.encode(), canary) for text in printed)
