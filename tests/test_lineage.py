"""Lineage records without a workflow run: which jobs write them, where, and what they hold."""

import base64
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import ROOT

from guiding.core.provenance import sidecar as provenance
from guiding.core.provenance.audit import run_audit
from guiding.core.provenance.lineage import job_record, note, record_path, split_template


def test_every_rule_runs_a_script_through_run_step():
    """No rule bypasses run_step (a ``run:`` or ``shell:`` rule would write no record)."""
    text = "\n".join(p.read_text() for p in sorted((ROOT / "rules").glob("*.smk")))
    assert not re.search(r"^\s+(run|shell):", text, flags=re.M)
    scripts = re.findall(r"^\s+script:\s*\n\s+\"\.\./(scripts/\w+\.py)\"", text, flags=re.M)
    rules = re.findall(r"^\s*rule (\w+):", text, flags=re.M)  # some rules sit under an `if`
    assert len(scripts) == len(rules)
    for script in scripts:
        assert "run_step(snakemake, " in (ROOT / script).read_text(), script


@pytest.mark.parametrize(
    "artifact, record",
    [
        ("results/sets/a.jsonl", "results/provenance/sets/a.jsonl.json"),
        ("results/models/stage1/seed42", "results/provenance/models/stage1/seed42.json"),
        ("results/models/stage2/r/seed1", "results/provenance/models/stage2/r/seed1.json"),
        ("data/source.jsonl", "results/provenance/_outside/data/source.jsonl.json"),
    ],
)
def test_records_mirror_the_artifact_paths(artifact, record):
    assert str(record_path(artifact)) == record


def test_template_labels_split_into_name_and_version():
    assert split_template("solve/v1") == ("solve", 1)
    assert split_template("judge_steps.v12") == ("judge_steps", 12)
    assert split_template("custom") == ("custom", None)


class Files(list):
    """A Snakemake Namedlist, as far as records read it: a list with ``items()`` of its names."""

    def __init__(self, **named):
        super().__init__(v for value in named.values() for v in (value if isinstance(value, list) else [value]))
        self._named = named

    def items(self):
        return self._named.items()


def fake_job(tmp_path: Path, **extra) -> SimpleNamespace:
    defaults = dict(
        input=Files(tasks="results/data/tasks.jsonl"),
        output=Files(out="results/sets/x.jsonl", stats="results/data/x.stats.json"),
        params=Files(settings={"seed": 7, "size": 3}),
        wildcards=Files(name="x"),
        resources=Files(gpu=0, _cores=1),
        log=["results/logs/x.log"],
        threads=1,
        rule="make_x",
        config={},
        scriptdir=str(ROOT / "scripts"),
    )
    return SimpleNamespace(**(defaults | extra))


def test_a_job_writes_one_record_and_pointers_and_no_environment_value(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOME_API_KEY", "sk-canary-in-the-environment")
    Path("results/data").mkdir(parents=True)
    Path("results/data/tasks.jsonl").write_text('{"id": 1}\n')

    with job_record(fake_job(tmp_path)):  # what run_step wraps around the step
        Path("results/sets").mkdir(parents=True)
        Path("results/sets/x.jsonl").write_text(Path("results/data/tasks.jsonl").read_text())
        Path("results/data/x.stats.json").write_text("{}\n")
        note("training", {"sft_config": {"seed": 7}})
    record = json.loads(Path("results/provenance/sets/x.jsonl.json").read_text())
    pointer = json.loads(Path("results/provenance/data/x.stats.json.json").read_text())
    assert pointer["job_record"] == "results/provenance/sets/x.jsonl.json"
    assert record["job"]["rule"] == "make_x" and record["job"]["resources"] == {"gpu": 0}
    assert record["seeds"] == {"params.settings.seed": 7}
    sha = hashlib.sha256(b'{"id": 1}\n').hexdigest()
    assert record["inputs"] == [{"name": "tasks", "path": "results/data/tasks.jsonl", "sha256": sha}]
    assert [o["sha256"] for o in record["outputs"]] == [sha, hashlib.sha256(b"{}\n").hexdigest()]
    assert record["facts"] == {"training": {"sft_config": {"seed": 7}}}
    assert "guiding/core/provenance/lineage.py" in record["code"]["modules"]
    assert "sk-canary" not in Path("results/provenance/sets/x.jsonl.json").read_text()


def test_a_failed_job_writes_no_record(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    with pytest.raises(RuntimeError), job_record(fake_job(tmp_path, input=Files(), params=Files())):
        raise RuntimeError("the step failed")
    assert not Path("results/provenance").exists()


def test_an_llm_job_records_each_key_with_its_reply_hash(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cache = tmp_path / "responses.sqlite"
    with sqlite3.connect(cache) as db:  # the columns every cache schema has, and one more
        db.execute("CREATE TABLE responses (key TEXT, request TEXT, text TEXT, finish_reason TEXT, extra TEXT)")
        request = {"endpoint": "served", "model": "teacher", "template": "solve/v1"}
        db.execute("INSERT INTO responses VALUES ('k1', ?, 'an answer', 'stop', 'x')", (json.dumps(request),))
    manifest = Path("results/data/requests/job.jsonl")
    manifest.parent.mkdir(parents=True)
    manifest.write_text('{"key": "k1", "teacher": "main"}\n{"key": "k2", "teacher": "main"}\n')
    Path("out.txt").write_text("x")
    with job_record(
        fake_job(tmp_path, input=Files(), output=Files(out="out.txt")), manifest=str(manifest), cache=cache
    ):
        pass
    record = json.loads(Path("results/provenance/_outside/out.txt.json").read_text())
    first, failed = record["llm"]["requests"]
    assert first == {
        "key": "k1",
        "endpoint": "served",
        "model": "teacher",
        "template": "solve",
        "template_version": 1,
        "reply_sha256": hashlib.sha256(b"an answer").hexdigest(),
        "finish_reason": "stop",
    }
    assert failed["key"] == "k2" and failed["reply_sha256"] is None


def test_the_audit_warns_where_snakemakes_metadata_disagrees_and_fails_on_a_changed_input(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("results/data").mkdir(parents=True)
    Path("results/data/in.txt").write_text("in\n")
    with job_record(fake_job(tmp_path, input=Files(tasks="results/data/in.txt"), output=Files(out="results/out.txt"))):
        Path("results/out.txt").write_text("out\n")
    with job_record(fake_job(tmp_path, rule="make_in", input=Files(), output=Files(out="results/data/in.txt"))):
        pass
    meta = Path(".snakemake/metadata")
    meta.mkdir(parents=True)
    name = base64.urlsafe_b64encode(b"results/out.txt").decode()
    (meta / name).write_text(
        json.dumps(
            {
                "rule": "other",
                "input": ["results/data/in.txt"],
                "input_checksums": {"results/data/in.txt": "sha256:" + "0" * 64},
            }
        )
    )
    audit, _ = run_audit(["results/out.txt"], tmp_path)
    assert not audit.failed()
    assert [(p.cause, p.file, p.warning) for p in audit.problems if "Snakemake" in p.cause] == [
        ("Snakemake metadata disagrees", "results/out.txt", True),
        ("Snakemake metadata disagrees", "results/data/in.txt", True),
    ]
    Path("results/data/in.txt").write_text("changed\n")
    audit, _ = run_audit(["results/out.txt"], tmp_path)
    causes = {(p.cause, p.file, p.record) for p in audit.problems if not p.warning}
    assert causes == {
        ("file changed since produced", "results/data/in.txt", "results/provenance/data/in.txt.json"),
        ("file changed since used", "results/data/in.txt", "results/provenance/out.txt.json"),
    }


def _git(repo: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args]
    return subprocess.run(command, cwd=repo, capture_output=True, text=True, check=True).stdout.strip()


def test_the_record_has_the_commit_and_dirty_state_that_git_reports(tmp_path, monkeypatch):
    """code_version asks git once; it gives what rev-parse HEAD and status --porcelain give."""
    repo = tmp_path / "checkout"
    repo.mkdir()
    monkeypatch.setattr(provenance, "__file__", str(repo / "provenance.py"))  # the checkout git looks at
    assert provenance.code_version() == {"commit": None, "dirty": None}  # not a git checkout
    _git(repo, "init", "-q")
    (repo / "tracked.txt").write_text("a\n")
    assert provenance.code_version() == {"commit": None, "dirty": None}  # no commit yet
    _git(repo, "add", "tracked.txt")
    _git(repo, "commit", "-q", "-m", "first")
    head = _git(repo, "rev-parse", "HEAD")
    (repo / "untracked.txt").write_text("b\n")
    assert provenance.code_version() == {"commit": head, "dirty": False}  # untracked files do not count
    (repo / "tracked.txt").write_text("changed\n")
    assert provenance.code_version() == {"commit": head, "dirty": True}
    _git(repo, "checkout", "-q", "--detach", "HEAD")
    assert provenance.code_version() == {"commit": head, "dirty": True}


def test_the_package_versions_are_those_importlib_metadata_gives():
    versions = provenance.package_versions()
    assert set(versions) == {"python", *provenance.PACKAGES}
    for name in provenance.PACKAGES:
        try:
            expected = metadata.version(name)
        except metadata.PackageNotFoundError:
            expected = None
        assert versions[name] == expected, name
    assert versions["snakemake"] and versions["torch"]


# A job as Snakemake runs it: a script whose one call is run_step, in a process of its own.
SCRIPT = """
import gc, json, sys
from pathlib import Path
from types import SimpleNamespace
from guiding.core.steps import run_step
from guiding.supervision.steps import set_statistics

class Files(list):  # as tests/test_lineage.py's
    def __init__(self, **named):
        super().__init__(v for value in named.values() for v in (value if isinstance(value, list) else [value]))
        self._named = named

    def items(self):
        return self._named.items()

snakemake = SimpleNamespace(
    input=Files(supervision_set="results/sets/s.jsonl"), output=Files(stats="results/data/stats/s.json"),
    params=Files(), wildcards=Files(name="s"), resources=Files(_cores=1), log=["s.log"], threads=1,
    rule="set_statistics", config={{"llm": {{"cache": "cache.sqlite"}}}}, scriptdir={scripts!r},
)
frozen = gc.get_freeze_count()
run_step(snakemake, set_statistics)
llm = sorted(m for m in sys.modules if m.startswith("guiding.llm"))
seen = {{"llm": llm, "frozen": gc.get_freeze_count() > frozen}}
Path("seen.json").write_text(json.dumps(seen))  # stdout is the job's log now
"""


@pytest.mark.parametrize("run_name", ["__main__", "a_module"])
def test_a_job_without_a_request_manifest_starts_without_the_llm_interface(tmp_path, run_name):
    """Only a job that may ask a model imports guiding.llm; the record lists the modules the job ran.
    A script's last call (run as ``__main__``, as Snakemake runs it) leaves nothing to collect at exit."""
    (tmp_path / "results/sets").mkdir(parents=True)
    item = {"outcome_correct": False, "step_verdicts": [True, False]}
    (tmp_path / "results/sets/s.jsonl").write_text(json.dumps(item) + "\n")
    (tmp_path / "job.py").write_text(SCRIPT.format(scripts=str(ROOT / "scripts")))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    run = f"import runpy; runpy.run_path('job.py', run_name={run_name!r})"
    out = subprocess.run([sys.executable, "-c", run], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    seen = json.loads((tmp_path / "seen.json").read_text())
    assert seen == {"llm": [], "frozen": run_name == "__main__"}
    assert json.loads((tmp_path / "results/data/stats/s.json").read_text())["incorrect"] == 1
    record = json.loads((tmp_path / "results/provenance/data/stats/s.json.json").read_text())
    assert "guiding/supervision/steps.py" in record["code"]["modules"]
    assert not [m for m in record["code"]["modules"] if m.startswith("guiding/llm/")]


def test_the_evaluation_steps_import_the_grader_and_the_llm_interface_only_when_they_run():
    code = "import sys, guiding.evaluation.steps; print(sorted(m for m in sys.modules if m.startswith('guiding.')))"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    imported = eval(out.stdout)
    assert "guiding.evaluation.steps" in imported
    assert not [m for m in imported if m.startswith(("guiding.llm", "guiding.answers", "guiding.evaluation.conv"))]
