"""The RO-Crate of a table, and a canary API key that reaches the server and nothing else.

One run of the LLM rules of tests/config/llm.yaml (and the cost table) against ``guiding serve``
on 127.0.0.1, which requires a canary key; the key lives only in the environment variable the
endpoint names (``api_key_env``). Then the Snakemake report and ``guiding crate`` of the cost table.

- The crate validates with roc-validator at the Provenance Run Crate profile (REQUIRED level).
  The validator fetches the RO-Crate JSON-LD context over the network; offline it reads it from
  its HTTP cache, which the test fills with the 1.1 context from tests/data/.
- No file of the run (results, logs, lineage records, .snakemake, the response cache and its WAL,
  the report, the crate and each of its members) and nothing printed holds the key, in plain text
  or base64; every request the server received carried it.
"""

import base64
import hashlib
import io
import json
import os
import secrets
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, SIMULATED_SERVER, small_study_command

from guiding import artifacts as A
from guiding.core.provenance.lineage import record_path
from guiding.llm.serve import ServeProcess

pytestmark = pytest.mark.workflow

CONFIG = ROOT / "tests" / "config" / "llm.yaml"
KEY_ENV = "GUIDING_CANARY_API_KEY"
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
    with ServeProcess(*SIMULATED_SERVER, "--api-key-env", KEY_ENV, output=tmp / "server.out", env=env) as server:
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
        [
            sys.executable,
            "-m",
            "guiding.cli",
            "crate",
            TARGETS[0],
            "-o",
            str(workdir / "crate.zip"),
            "--configfile",
            str(configfile),
        ],
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


def validator_cache(tmp: Path) -> Path:
    """roc-validator's HTTP cache with the RO-Crate 1.1 context in it (the validator's offline mode)."""
    import requests
    import urllib3
    from requests_cache import CachedSession

    cache = tmp / "http-cache"
    url = "https://w3id.org/ro/crate/1.1/context"
    context = (ROOT / "tests" / "data" / "ro-crate-1.1-context.jsonld").read_bytes()
    assert json.loads(context)["@id"] == url
    session = CachedSession(cache_name=str(cache), backend="sqlite", expire_after=-1)
    # The validator asks with one of these Accept headers, each a key of its own.
    for accept in ("application/ld+json, application/json", "application/ld+json, application/json, */*;q=0.1"):
        response = requests.Response()
        response.status_code, response._content, response.url, response.encoding = 200, context, url, "utf-8"
        response.headers["Content-Type"] = "application/ld+json"
        response.raw = urllib3.HTTPResponse(
            body=io.BytesIO(b""), headers=dict(response.headers), status=200, preload_content=False, request_url=url
        )
        response.request = requests.Request("GET", url, headers={"Accept": accept}).prepare()
        session.cache.save_response(response)
    session.close()
    return cache


def test_the_crate_validates_as_a_provenance_run_crate(canary_run, tmp_path):
    pytest.importorskip("rocrate_validator", reason="roc-validator: `make install-test` installs it")
    from rocrate_validator import models, services

    _, workdir, _, _ = canary_run
    settings = services.ValidationSettings(
        rocrate_uri=str(workdir / "crate.zip"),
        profile_identifier="provenance-run-crate-0.5",
        requirement_severity=models.Severity.REQUIRED,
        cache_path=validator_cache(tmp_path),
        offline=True,
    )
    result = services.validate(settings)
    issues = [f"{i.check.identifier}: {i.message} ({i.violatingEntity})" for i in result.get_issues()]
    assert result.passed(), "\n".join(issues)


def test_the_crate_holds_the_table_its_records_the_workflow_and_the_environment(canary_run):
    _, workdir, _, _ = canary_run
    with zipfile.ZipFile(workdir / "crate.zip") as crate:
        names = set(crate.namelist())
        metadata = json.loads(crate.read("ro-crate-metadata.json"))
        environment = json.loads(crate.read("environment.json"))
    table = TARGETS[0]
    assert {table, "Snakefile", "rules/common.smk", "config/config.yaml", "scripts/sample_solutions.py"} <= names
    records = {n for n in names if n.startswith("results/provenance/")}
    assert str(record_path(table)) in records and len(records) >= 8
    assert all(env["packages"]["snakemake"] for env in environment.values())
    graph = {e["@id"]: e for e in metadata["@graph"]}
    assert {"@id": "https://w3id.org/ro/wfrun/provenance/0.5"} in graph["./"]["conformsTo"]
    jobs = [e for e in graph.values() if e.get("@type") == "CreateAction" and e["@id"].startswith("#job-")]
    rules = {e["name"].split()[0] for e in jobs}
    assert {"generate_tasks", "sample_solutions", "judge_solutions", "costs_table"} <= rules
