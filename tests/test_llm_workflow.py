"""The LLM rules through Snakemake against a real OpenAI-compatible server on 127.0.0.1.

``guiding serve --backend simulated`` answers the study's prompts over HTTP with 20% injected
faults (429 with retry-after, 500, timeouts, dropped connections): the run completes, every fault
is retried, nothing is empty. Replay (no server, no key) reproduces every output byte for byte.
The same study against an endpoint with structured outputs on (JSON schemas sent, JSON read back)
writes the same outputs. A sampling job killed midway and rerun re-sends no committed request.
Counts come from the server.
"""

import json
import os
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import ROOT, SIMULATED_SERVER, run_snakemake, small_study_command, wait_until_committed

from guiding import artifacts as A
from guiding.core.io import read_jsonl
from guiding.llm import ResponseCache, cost
from guiding.llm.serve import ServeProcess
from guiding.report.steps import costs_table

pytestmark = pytest.mark.workflow

CONFIG = ROOT / "tests" / "config" / "llm.yaml"
# Every output that an LLM role writes (decomposer, filter, teacher, judges, paraphraser).
OUTPUTS = [
    A.DECOMPOSED_SUBTASKS,
    A.DECOMPOSE_REPORT,
    A.FILTERED_SUBTASKS,
    A.SUBTASK_FILTER_REPORT,
    *(A.fill(t, teacher="main", kind=k) for t in (A.SAMPLES, A.SAMPLE_REPORT, A.JUDGED) for k in A.KINDS),
    A.fill(A.SET, name=A.paraphrase_name("hard-main-er50")),
]


def config_file(
    tmp_path: Path, cache: Path, base_url: str = "http://127.0.0.1:1/v1", structured: bool = False, **llm
) -> Path:
    config = yaml.safe_load(CONFIG.read_text())
    config["llm"].update(cache=str(cache), **llm)
    config["llm"]["endpoints"]["served"]["base_url"] = base_url
    if structured:  # JSON-schema outputs for every role whose answer has a shape
        config["llm"]["endpoints"]["served"]["structured_outputs"] = "json_schema"
    path = tmp_path / f"config-{len(list(tmp_path.glob('config-*')))}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def environment() -> dict:
    """No API key of any kind: the served endpoint needs none, and replay must not read one."""
    return {k: v for k, v in os.environ.items() if not k.endswith("API_KEY")}


def snakemake(workdir: Path, config: Path, *targets: str, extra=()) -> None:
    run_snakemake(workdir, "--cores", "2", *extra, *targets, configfile=config, env=environment(), timeout=600)


def server_events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def faulty_run(tmp_path_factory):
    """The LLM rules against the simulated server with 20% faults."""
    tmp = tmp_path_factory.mktemp("llm-faults")
    cache, log = tmp / "cache" / "responses.sqlite", tmp / "server.jsonl"
    faults = ["--fault-rate", "0.2", "--faults", "429,500,timeout,drop", "--retry-after", "0.05", "--hang", "3"]
    with ServeProcess(*SIMULATED_SERVER, *faults, "--log", str(log), output=tmp / "server.out") as server:
        snakemake(tmp / "run", config_file(tmp, cache, server.base_url), *OUTPUTS)
        stats = server.stats()
    return tmp, cache, log, stats


def test_with_20_percent_faults_the_llm_rules_complete_and_nothing_is_empty(faulty_run):
    tmp, cache, log, stats = faulty_run
    run = tmp / "run"
    faults = sum(stats["faults"].values())
    print(f"server: {stats['received']} received, {stats['answered']} answered, faults {stats['faults']}")
    assert set(stats["faults"]) == {"429", "500", "timeout", "drop"} and faults >= 0.15 * stats["received"]
    events = server_events(log)
    answered = {e["key"] for e in events if e["event"] == "answered"}
    with ResponseCache(cache) as responses:
        assert responses.failures() == []  # every fault was retried to an answer, none given up
        assert responses.keys() == answered  # each answer the server gave is committed, once
    assert stats["answered"] == len(answered)  # no request was answered twice
    for kind in A.KINDS:
        report = json.loads((run / A.fill(A.SAMPLE_REPORT, teacher="main", kind=kind)).read_text())
        assert report["samples"] == report["asked"] > 0 and report["dropped_by_reason"] == {}
        samples = read_jsonl(run / A.fill(A.SAMPLES, teacher="main", kind=kind))
        assert len(samples) == report["asked"] and all(s["solution"].strip() for s in samples)  # 0 empty
        judged = read_jsonl(run / A.fill(A.JUDGED, teacher="main", kind=kind))
        assert all(j["judge_correct"] == j["correct"] for j in judged)
        assert all(j["check_step_verdicts"] == j["step_verdicts"] for j in judged)
    decomposition = json.loads((run / A.DECOMPOSE_REPORT).read_text())
    assert decomposition["decomposed"] == decomposition["tasks"] == 20 and decomposition["dropped_by_reason"] == {}
    para = read_jsonl(run / A.fill(A.SET, name=A.paraphrase_name("hard-main-er50")))
    assert len(para) == 10 and all(i["paraphrased"] for i in para)


def test_the_jobs_list_every_request_they_sent_and_the_cost_table_bills_them(faulty_run):
    tmp, cache, _, stats = faulty_run
    manifests = sorted(str(p) for p in (tmp / "run" / Path(A.LLM_REQUESTS).parent).glob("*.jsonl"))
    listed = cost.read_manifests(manifests)
    with ResponseCache(cache) as responses:
        assert set(listed) == responses.keys()  # each job listed what it asked, faults and retries aside
    table = tmp / "costs.csv"
    costs_table(
        requests=manifests,
        csv=str(table),
        md=str(tmp / "costs.md"),
        provenance_json=str(tmp / "costs.json"),
        prices={},
        response_cache=str(cache),
    )
    billed = pd.read_csv(table).set_index("role")
    assert billed.loc["total", "requests"] == billed["requests"].drop("total").sum() == len(listed) == stats["answered"]
    assert set(billed.index) >= {"decomposer", "subtask_filter", "teacher", "final_judge", "step_judge", "rewriter"}
    assert billed.loc["teacher", "teacher"] == "main" and billed.loc["teacher", "completion_tokens"] > 0


def test_replay_without_server_or_key_reproduces_every_output(faulty_run):
    tmp, cache, _, _ = faulty_run
    replayed = tmp / "replay"
    snakemake(replayed, config_file(tmp, cache, replay=True), *OUTPUTS)
    for output in OUTPUTS:
        assert (replayed / output).read_bytes() == (tmp / "run" / output).read_bytes(), output


def test_with_structured_outputs_the_llm_rules_write_the_same_outputs(faulty_run):
    """The same study with the endpoint's structured outputs on: every role whose answer has a shape
    sends its JSON schema and reads JSON back, and every output equals the free-text run's."""
    tmp, _, _, _ = faulty_run
    cache = tmp / "structured-cache" / "responses.sqlite"
    with ServeProcess(*SIMULATED_SERVER, output=tmp / "structured-server.out") as server:
        snakemake(tmp / "structured", config_file(tmp, cache, server.base_url, structured=True), *OUTPUTS)
    with ResponseCache(cache) as responses:
        requests = [responses.request_json(key) for key in responses.keys()]
    shaped = Counter(r["template"] for r in requests if "response_format" in r)
    free = Counter(r["template"] for r in requests if "response_format" not in r)
    print(f"structured requests {dict(shaped)}; free-text {dict(free)}")
    assert set(shaped) == {f"{t}/v1" for t in ("decompose", "filter_ill_defined", "filter_too_few_steps")} | {
        "filter_near_duplicate/v1",
        "judge_final/v1",
        "judge_steps/v1",
    }
    assert set(free) <= {"solve/v1", "rewrite/v1", "paraphrase/v1"} and "solve/v1" in free
    for output in OUTPUTS:
        assert (tmp / "structured" / output).read_bytes() == (tmp / "run" / output).read_bytes(), output


def test_a_killed_sampling_job_resends_nothing_committed(tmp_path):
    cache, target = tmp_path / "cache" / "responses.sqlite", A.fill(A.SAMPLES, teacher="main", kind="hard")
    config = None
    with ServeProcess(*SIMULATED_SERVER, "--latency", "0.2", output=tmp_path / "server.out") as server:
        config = config_file(tmp_path, cache, server.base_url, client={"concurrency": 4, "timeout_s": 30})
        snakemake(tmp_path / "run", config, A.fill(A.TASKS, split="train_hard"))  # no LLM request yet
        cmd = small_study_command(tmp_path / "run", "--cores", "1", target, configfile=config)
        child = subprocess.Popen(cmd, env=environment(), start_new_session=True, stdout=subprocess.DEVNULL)
        wait_until_committed(cache, 20, child)  # 60 requests at 4 in flight and 0.2 s each
        os.killpg(child.pid, signal.SIGKILL)  # snakemake and its job
        child.wait()
        time.sleep(0.5)  # let the server finish what it was answering
        before = server.stats()["by_key"]
        with ResponseCache(cache) as responses:
            committed = responses.keys()
            in_flight = {key for key, _, _ in responses.leases()}
        assert 20 <= len(committed) < 60
        snakemake(tmp_path / "run", config, target, extra=("--unlock",))  # the killed run's lock
        snakemake(tmp_path / "run", config, target, extra=("--rerun-incomplete",))
        after = server.stats()["by_key"]
    resent = {key for key in before if after[key] > before[key]}
    print(f"killed with {len(committed)} committed, {len(in_flight)} in flight; re-sent {len(resent)}")
    assert all(after[key] == 1 for key in committed)  # 0 of the committed requests re-sent
    assert resent <= in_flight and len(resent) <= 4  # at most what was in flight at the kill
    assert sum(after.values()) == 60 + len(resent)
    samples = read_jsonl(tmp_path / "run" / target)
    assert len(samples) == 60 and all(s["solution"].strip() for s in samples)
