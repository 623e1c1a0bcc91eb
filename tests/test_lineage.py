"""Lineage records without a workflow run: which jobs write them, where, and what they hold."""

import base64
import hashlib
import json
import re
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import ROOT

from guiding.audit import run_audit
from guiding.core.lineage import job_record, note, record_path, split_template


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
    assert "guiding/core/lineage.py" in record["code"]["modules"]
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
