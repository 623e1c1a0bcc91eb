"""Lineage records and ``guiding audit`` on the small study (one run, shared by the module).

Tampering happens on copies of the run's ``results/`` and response cache, so every test starts
from the finished study.
"""

import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, SMALL

from guiding import artifacts as A
from guiding.cli import main as guiding
from guiding.core.provenance.lineage import RECORDS, directory_digest, directory_files, record_path
from guiding.report import layout

pytestmark = pytest.mark.workflow

# What a job writes that is no artifact of the study: Snakemake's logs and benchmarks, the
# records themselves, and the checkpoints a finished training removes.
# Not made by a job as its output: logs, benchmarks, records, checkpoints, and the LLM jobs' answered
# ledgers (guiding.llm.ledger: bookkeeping of paid answers that outlives reruns).
NOT_ARTIFACTS = (
    "results/logs",
    "results/benchmarks",
    RECORDS,
    "results/checkpoints",
    "results/data/requests/answered",
)


@pytest.fixture(scope="module")
def run(small_study):
    return small_study


def audit(capsys, workdir: Path, *args: str) -> tuple[int, str]:
    """``guiding audit`` in this process: its exit status and what it printed."""
    with pytest.raises(SystemExit) as done:
        guiding(["audit", "--directory", str(workdir), *args])
    return done.value.code, capsys.readouterr().out


def copy_study(run: Path, tmp_path: Path) -> Path:
    """The run's results and response cache, copied (the fixture stays untouched)."""
    copy = tmp_path / "copy"
    shutil.copytree(run / "results", copy / "results")
    shutil.copytree(run / ".cache", copy / ".cache")
    return copy


def flip_one_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def job_record(workdir: Path, artifact: str) -> dict:
    record = load(workdir / record_path(artifact))
    return load(workdir / record["job_record"]) if "job_record" in record else record


def test_every_artifact_has_a_record_that_hashes_it(run):
    artifacts = set()
    for path in (run / "results").rglob("*"):
        rel = path.relative_to(run).as_posix()
        if not path.is_file() or rel.startswith(NOT_ARTIFACTS):
            continue
        model = next((m for m in (run / "results" / "models").rglob("*") if m.is_dir() and path.parent == m), None)
        artifacts.add(model.relative_to(run).as_posix() if model and (model / "config.json").exists() else rel)
    assert len(artifacts) > 100
    for artifact in sorted(artifacts):
        record = job_record(run, artifact)
        (entry,) = [o for o in record["outputs"] if o["path"] == artifact]
        if (run / artifact).is_dir():
            files = {p.relative_to(run / artifact).as_posix() for p in directory_files(run / artifact)}
            assert set(entry["files"]) == files and entry["sha256"] == directory_digest(entry["files"])
        else:
            assert entry["sha256"] == hashlib.sha256((run / artifact).read_bytes()).hexdigest()


def test_a_record_holds_code_environment_seeds_and_times(run):
    record = job_record(run, A.fill(A.SET, name="hard-main-er50"))
    assert record["job"]["rule"] == "build_error_rate_set"
    assert record["job"]["wildcards"] == {"kind": "hard", "teacher": "main", "error_rate": "50"}
    assert record["seeds"] == {"params.seed": 1}
    assert record["code"]["script"]["path"] == "scripts/build_error_rate_set.py"
    assert (
        "guiding/core/steps.py" in record["code"]["modules"]
        and "guiding/supervision/sets.py" in record["code"]["modules"]
    )
    assert record["code"]["commit"] and record["code"]["dirty"] in (True, False)
    env = record["environment"]
    assert env["python"] and env["cpu"] and env["packages"]["snakemake"] and env["gpus"] == []
    assert record["started_at"] <= record["ended_at"]
    assert {i["name"] for i in record["inputs"]} == {"pairs"}


def test_an_llm_job_records_each_reply_it_used_by_its_hash(run):
    record = job_record(run, A.fill(A.SAMPLES, teacher="main", kind="hard"))
    requests = record["llm"]["requests"]
    manifest = run / A.fill(A.LLM_REQUESTS, job="sample_solutions-main-hard")
    assert [r["key"] for r in requests] == list(
        dict.fromkeys(json.loads(x)["key"] for x in manifest.read_text().splitlines())
    )
    with sqlite3.connect(run / record["llm"]["cache"]) as db:
        texts = dict(db.execute("SELECT key, text FROM responses"))
    for r in requests:
        assert r["template"] == "solve" and r["template_version"] == 1 and r["model"] == "main"
        assert r["reply_sha256"] == hashlib.sha256(texts[r["key"]].encode()).hexdigest()


def test_a_training_job_records_its_start_its_sft_config_and_launcher(run):
    record = job_record(run, A.fill(A.STAGE2_MODEL, run="hard-main-er50", seed=42))
    training = record["facts"]["training"]
    recipe = yaml.safe_load(SMALL.read_text())["training"]["stage2"]
    assert training["starting_model"] == A.fill(A.STAGE1_MODEL, seed=42)
    assert training["sft_config"] == {
        "output_dir": A.fill(A.STAGE2_CHECKPOINTS, run="hard-main-er50", seed=42),
        "report_to": "none",
        "save_strategy": "steps",
        "disable_tqdm": False,
        **recipe,
    }
    assert training["accelerate"] is None and len(training["resume_fingerprint"]) == 64
    (model,) = [i for i in record["inputs"] if i["name"] == "model"]
    assert model["sha256"] == job_record(run, A.fill(A.STAGE1_MODEL, seed=42))["outputs"][0]["sha256"]


def test_audit_all_passes_and_every_table_reaches_the_world_seed_and_config(run, capsys):
    code, out = audit(capsys, run, "--all", "--json")
    assert code == 0, out[-3000:]
    data = json.loads(out)
    world = yaml.safe_load(SMALL.read_text())["world"]
    jobs = data["jobs"]
    tables = [t for t in data["tables"] if t["path"].endswith(".csv")]
    assert {Path(t["path"]).stem for t in tables} >= {*layout.DATA_TABLES, *A.EXPERIMENTS, A.FINDINGS, A.COST_TABLE}
    for table in tables:
        reached, todo = set(), [table["job"]]
        while todo:
            home = todo.pop()
            if home not in reached:
                reached.add(home)
                todo += [i["producer"] for i in jobs[home]["inputs"] if i["producer"]]
        roots = [jobs[h] for h in reached if jobs[h]["rule"] == "generate_tasks"]
        if Path(table["path"]).stem == A.COST_TABLE:
            continue  # the bill reads the request manifests, whose jobs read the world's tasks
        assert roots, f"{table['path']} does not reach the world generator"
        (root,) = roots
        assert root["params"]["settings"]["seed"] == world["seed"]
        assert {k: root["params"]["settings"][k] for k in world} == world
    assert not [p for p in data["problems"] if not p["warning"]]


def test_the_tree_names_rules_files_code_and_teachers(run, capsys):
    code, out = audit(capsys, run, "results/tables/teachers.csv")
    assert code == 0, out[-3000:]
    for expected in ("teachers_table", "sample_solutions kind=hard teacher=main", "generate_tasks", "seeds: "):
        assert expected in out
    assert "replies: " in out and "(solve/v1)" in out and "code: " in out and "scripts/sample_solutions.py" in out


@pytest.mark.parametrize(
    "tampered, table",
    [
        (A.fill(A.SET, name="hard-main-er50"), "error_rate_sweep"),
        (A.fill(A.SAMPLES, teacher="weak", kind="hard"), "teacher_comparison"),
        (f"{A.fill(A.STAGE1_MODEL, seed=42)}/model.safetensors", "findings"),
    ],
    ids=["supervision set", "sample file", "checkpoint file"],
)
def test_one_flipped_byte_fails_the_audit_naming_the_file_and_record(run, tmp_path, capsys, tampered, table):
    copy = copy_study(run, tmp_path)
    flip_one_byte(copy / tampered)
    code, out = audit(capsys, copy, f"results/tables/{table}.csv", "--quiet")
    assert code == 1
    (line,) = [x for x in out.splitlines() if x.startswith("FAIL file changed since produced")]
    assert tampered in line
    producer = tampered.split("/model.safetensors")[0]
    home = str(record_path(producer))
    pointer = load(copy / home)
    assert pointer.get("job_record", home) in line


def test_a_deleted_record_fails_the_audit(run, tmp_path, capsys):
    copy = copy_study(run, tmp_path)
    record = record_path(A.fill(A.PAIRS, teacher="main", kind="hard"))
    home = load(copy / record).get("job_record", str(record))
    (copy / home).unlink()
    code, out = audit(capsys, copy, "results/tables/error_rate_sweep.csv", "--quiet")
    assert code == 1
    assert f"FAIL record missing: {A.fill(A.PAIRS, teacher='main', kind='hard')} (record {home})" in out


def test_a_changed_cached_reply_fails_the_audit(run, tmp_path, capsys):
    copy = copy_study(run, tmp_path)
    record = job_record(copy, A.fill(A.SAMPLES, teacher="main", kind="subtask"))
    key = record["llm"]["requests"][3]["key"]
    with sqlite3.connect(copy / record["llm"]["cache"]) as db:
        assert db.execute("UPDATE responses SET text = text || ' ' WHERE key = ?", (key,)).rowcount == 1
    code, out = audit(capsys, copy, "results/tables/data_sets.csv", "--quiet")
    assert code == 1
    (line,) = [x for x in out.splitlines() if x.startswith("FAIL cached reply changed")]
    assert key in line and record["llm"]["cache"] in line


def test_an_input_that_differs_from_its_producers_output_fails_the_audit(run, tmp_path, capsys):
    """A producer rerun (its record and file new) under a consumer that was not rerun."""
    copy = copy_study(run, tmp_path)
    artifact = A.fill(A.SET, name="subtask-main-er50")
    with open(copy / artifact, "a") as f:
        f.write("\n")
    home = copy / record_path(artifact)
    record = load(home)
    (entry,) = [o for o in record["outputs"] if o["path"] == artifact]
    entry["sha256"] = hashlib.sha256((copy / artifact).read_bytes()).hexdigest()
    home.write_text(json.dumps(record))
    code, out = audit(capsys, copy, "results/tables/error_rate_sweep.csv", "--quiet")
    assert code == 1
    assert f"FAIL input differs from its producer's output: {artifact}" in out


def test_changed_package_code_fails_the_audit_or_warns_with_allow_code_drift(run, tmp_path, capsys):
    checkout = tmp_path / "checkout"
    shutil.copytree(
        ROOT / "src" / "guiding", checkout / "src" / "guiding", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(ROOT / "scripts", checkout / "scripts")
    module = checkout / "src" / "guiding" / "supervision" / "sets.py"
    module.write_text(module.read_text() + "\n# changed\n")
    table = "results/tables/error_rate_sweep.csv"
    code, out = audit(capsys, run, table, "--checkout", str(checkout), "--quiet")
    assert code == 1
    drift = [x for x in out.splitlines() if x.startswith("FAIL code drift: guiding/supervision/sets.py")]
    assert drift and "results/provenance/sets/hard-main-er50.jsonl.json" in "".join(drift)
    assert "FAIL code drift: guiding/core" not in out  # only the changed module
    code, out = audit(capsys, run, table, "--checkout", str(checkout), "--quiet", "--allow-code-drift")
    assert code == 0 and "WARNING code drift: guiding/supervision/sets.py" in out


def test_audit_runs_as_a_command(run):
    done = subprocess.run(
        [sys.executable, "-m", "guiding.cli", "audit", "--all", "--quiet"],
        cwd=run,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "audit ok" in done.stdout
