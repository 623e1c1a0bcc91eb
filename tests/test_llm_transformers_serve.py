"""The LLM rules through Snakemake against ``transformers serve``: a real OpenAI-compatible server
on 127.0.0.1 hosting a tiny random Llama built here (no hub download).

Its answers are nonsense by construction: its vocabulary is a few dozen whole phrases that the
parsers look for ("Verdict: 1", "Step 2: 0", "[[SUBTASK 1]]", "\\boxed{7}", chatter, line breaks),
sampled at random, so some answers read and most do not, and some are empty. Every request must
be answered (the server accepts every request body the client sends), and every answer parsed or
dropped with a reason: the rules' reports account for each item, and no output holds an empty or
unread sample.

What the server makes of the body the client sends (transformers 5.24, cli/serving): it accepts
model, messages, temperature, top_p, max_tokens and seed; it ignores ``n`` with a warning (the
client always sends 1); it refuses top_k, min_p and repetition_penalty with a 422 (no role sends
them: they are None unless set); and it answers only for the model it is pinned to, so every
role's model is the model's path here. Its ``seed`` sets the process-wide torch seed, so two
sampled requests in flight at once may swap draws: a rerun reproduces through the cache, not the seed.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, small_study_command

from guiding import artifacts as A
from guiding.answers import grade
from guiding.core.io import read_jsonl
from guiding.llm import ResponseCache, cost
from guiding.llm.parsers import boxed_answer, written_steps

pytestmark = pytest.mark.workflow

CONFIG = ROOT / "tests" / "config" / "llm.yaml"
# Whole phrases, each one token: what the parsers look for, and chatter around it.
PHRASES = [
    "Verdict: 1",
    "Verdict: 0",
    "Verdict: N/A",
    "Answer: 1",
    "Answer: 0",
    "Steps: 3",
    "Steps: 1",
    "Step 1: 1",
    "Step 2: 0",
    "Step 3: 1",
    "[[SUBTASK 1]]",
    "[[SUBTASK 2]]",
    "Problem: Let a = 3. Find a + 4.",
    "Solution: a + 4 = 7.",
    "The answer is \\boxed{7}.",
    "[[END]]",
    "[[TEXT]]",
    "**",
    "```",
    "Sure, here it is:",
    "\n",
    "hmm",
    "so",
    # The prompts' numbers and signs, so that different prompts read differently to the model.
    *(str(n) for n in range(21)),
    *"=+-*.",
]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
TEACHER = "main"
# Task-level reasons of the decomposition report (the others are parts of an answer left out).
PART_REASONS = {"no_problem", "no_solution", "no_boxed_answer"}
# The targets: every rule that asks the model something (a paraphrased set needs a set).
PARAPHRASED = A.fill(A.SET, name=A.paraphrase_name(f"hard-{TEACHER}-er50"))
OUTPUTS = [
    A.DECOMPOSE_REPORT,
    A.SUBTASK_FILTER_REPORT,
    *(A.fill(t, teacher=TEACHER, kind=k) for t in (A.SAMPLE_REPORT, A.JUDGED, A.PAIR_STATS) for k in A.KINDS),
    PARAPHRASED,
]


def build_tiny_model(path: Path) -> None:
    """A tokenizer whose words are PHRASES and a randomly initialised Llama over it, saved as a
    hub model is (its generation config samples, as chat models' do)."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    vocab = {"<|unk|>": 0, "<|pad|>": 1, "<|eos|>": 2}
    for phrase in PHRASES:
        vocab.setdefault(phrase, len(vocab))
    words = Tokenizer(models.WordLevel(vocab, unk_token="<|unk|>"))
    words.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=words, unk_token="<|unk|>", pad_token="<|pad|>", eos_token="<|eos|>"
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        pad_token_id=1,
        eos_token_id=2,
        bos_token_id=None,
    )
    model = LlamaForCausalLM(config)
    model.generation_config.do_sample = True
    model.generation_config.pad_token_id, model.generation_config.eos_token_id = 1, 2
    tokenizer.save_pretrained(path)
    model.save_pretrained(path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TransformersServe:
    """``transformers serve`` pinned to one local model, on the CPU, without continuous batching."""

    def __init__(self, model: Path, output: Path, start_s: float = 120):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        command = [
            sys.executable,
            "-m",
            "transformers.cli.transformers",
            "serve",
            str(model),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--device",
            "cpu",
            "--dtype",
            "float32",
            "--no-continuous-batching",
        ]
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
        self._out = open(output, "wb")
        self.proc = subprocess.Popen(command, stdout=self._out, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + start_s
        while not self.healthy():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"transformers serve did not start:\n{output.read_text()[-3000:]}")
            time.sleep(0.2)

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as answer:
                return answer.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()


def study_config(tmp: Path, model: Path, base_url: str) -> Path:
    """The LLM test config, smaller (6 hard tasks, 2 samples each), every role at the served model."""
    config = yaml.safe_load(CONFIG.read_text())
    config["world"]["sizes"] = {"train_easy": 4, "train_hard": 6, "eval_easy": 2, "eval_hard": 2}
    config["sampling"]["samples_per_task"] = 2
    config["sets"].update(hard_size=2, subtask_size=2)
    config["teachers"][TEACHER]["model"] = str(model)  # the server answers only for the model it hosts
    llm = config["llm"]
    llm.update(cache=str(tmp / "cache" / "responses.sqlite"))
    llm["client"] = {"concurrency": 4, "timeout_s": 60, "max_attempts": 2, "backoff_s": 0.1}
    llm["endpoints"]["served"]["base_url"] = base_url
    for role in llm["roles"].values():
        role.update(model=str(model), max_tokens=24)
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="module")
def served_run(tmp_path_factory):
    if not all(_importable(m) for m in ("fastapi", "uvicorn", "pydantic", "starlette", "rich")):
        pytest.skip("transformers serve needs its serving extras (fastapi, uvicorn, ...): pip install -e '.[test]'")
    tmp = tmp_path_factory.mktemp("transformers-serve")
    model = tmp / "tiny"
    build_tiny_model(model)
    server = TransformersServe(model, tmp / "server.out")
    try:
        config = study_config(tmp, model, server.base_url)
        run = tmp / "run"
        cmd = small_study_command(run, "--cores", "2", *OUTPUTS, configfile=config)
        env = {k: v for k, v in os.environ.items() if not k.endswith("API_KEY")}
        started = time.monotonic()
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
        seconds = time.monotonic() - started
    finally:
        server.stop()
    if done.returncode != 0:
        logs = "\n".join(f"== {p}\n{p.read_text()[-2000:]}" for p in (run / "results" / "logs").rglob("*.log"))
        raise AssertionError(f"snakemake failed:\n{done.stderr[-3000:]}\n{logs[-6000:]}")
    print(f"the LLM rules against transformers serve: {seconds:.1f} s")
    return tmp, run


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def test_the_server_answered_every_request_the_jobs_sent(served_run):
    tmp, run = served_run
    manifests = sorted(str(p) for p in (run / Path(A.LLM_REQUESTS).parent).glob("*.jsonl"))
    listed = cost.read_manifests(manifests)
    with ResponseCache(tmp / "cache" / "responses.sqlite") as responses:
        assert responses.failures() == []  # no request body refused, no answer that is not a chat completion
        assert responses.keys() == set(listed)
    roles = Counter(cost.role_of(r["template"]) for r in _rows(tmp))
    judged = [j for k in A.KINDS for j in read_jsonl(run / A.fill(A.JUDGED, teacher=TEACHER, kind=k))]
    distinct = {(j["task_id"], j["solution"]) for j in judged}  # a solution given twice is judged once
    assert roles["decomposer"] == 6 and roles["teacher"] >= 12
    assert roles["final_judge"] == roles["step_judge"] == len(distinct) > 0
    assert roles["paraphraser"] == 4  # problem and solution of the 2 items of the set


def _rows(tmp: Path) -> list[dict]:
    import sqlite3

    with sqlite3.connect(tmp / "cache" / "responses.sqlite") as db:
        return [json.loads(c) for (c,) in db.execute("SELECT request FROM responses")]


def test_every_decomposition_is_read_or_dropped_with_a_reason(served_run):
    _, run = served_run
    report = json.loads((run / A.DECOMPOSE_REPORT).read_text())
    drops = report["dropped_by_reason"]
    task_drops = sum(n for reason, n in drops.items() if reason not in PART_REASONS)
    assert report["tasks"] == 6 and report["tasks"] - report["decomposed"] == task_drops
    subtasks = read_jsonl(run / A.DECOMPOSED_SUBTASKS)
    assert len(subtasks) == report["subtasks"]
    for sub in subtasks:
        assert sub["problem"].strip() and sub["solution"].strip() and sub["answer"].strip()
        assert "[[" not in sub["problem"] + sub["solution"] and boxed_answer(sub["solution"]) == sub["answer"]
    kept = read_jsonl(run / A.FILTERED_SUBTASKS)
    filtered = json.loads((run / A.SUBTASK_FILTER_REPORT).read_text())
    assert filtered["kept"] == len(kept) and {s["id"] for s in kept} <= {s["id"] for s in subtasks}
    assert len(subtasks) == len(kept) or filtered["dropped_by_reason"]  # each dropped subtask has a reason


def test_every_sample_is_read_or_dropped_with_a_reason_and_none_is_empty(served_run):
    _, run = served_run
    dropped = Counter()
    for kind in A.KINDS:
        report = json.loads((run / A.fill(A.SAMPLE_REPORT, teacher=TEACHER, kind=kind)).read_text())
        assert report["asked"] == report["samples"] + sum(report["dropped_by_reason"].values())
        dropped.update(report["dropped_by_reason"])
        samples = read_jsonl(run / A.fill(A.SAMPLES, teacher=TEACHER, kind=kind))
        assert len(samples) == report["samples"] and all(s["solution"].strip() for s in samples)
        judged = read_jsonl(run / A.fill(A.JUDGED, teacher=TEACHER, kind=kind))
        assert [j["solution"] for j in judged] == [s["solution"] for s in samples]
        for j in judged:
            assert j["judge_correct"] in (True, False, None)  # None: N/A, or an answer not read
            assert len(j["check_step_verdicts"]) == written_steps(j["solution"])
    hard = json.loads((run / A.fill(A.SAMPLE_REPORT, teacher=TEACHER, kind="hard")).read_text())
    assert hard["asked"] == 12 and hard["samples"] > 0  # the nonsense holds text the parser reads
    print(f"samples dropped: {dict(dropped)}")


def test_a_rewrite_stands_in_for_the_reference_only_when_it_reaches_the_answer(served_run):
    _, run = served_run
    tasks = {t["id"]: t for t in read_jsonl(run / A.fill(A.TASKS, split="train_hard"))}
    stats = json.loads((run / A.fill(A.PAIR_STATS, teacher=TEACHER, kind="hard")).read_text())
    pairs = read_jsonl(run / A.fill(A.PAIRS, teacher=TEACHER, kind="hard"))
    sources = Counter(p["correct"]["source"] for p in pairs)
    assert stats["reference_rewritten"] == sources["rewritten"] + sources["reference"]
    assert sources["reference"] == stats["rewrite_failed"] + stats["rewrite_incorrect"]
    for pair in pairs:
        assert grade(tasks[pair["task_id"]]["answer"], pair["correct"]["solution"])["correct"]
    print(f"pairs: {stats}")


def test_a_paraphrase_that_changes_the_answer_keeps_the_original_wording(served_run):
    _, run = served_run
    base = {i["task_id"]: i for i in read_jsonl(run / A.fill(A.SET, name=f"hard-{TEACHER}-er50"))}
    for item in read_jsonl(run / PARAPHRASED):
        original = base[item["task_id"]]
        assert item["solution"].strip() and item["problem"].strip()
        assert boxed_answer(item["solution"]) == boxed_answer(original["solution"])
        if not item["paraphrased"]:
            assert (item["problem"], item["solution"]) == (original["problem"], original["solution"])
