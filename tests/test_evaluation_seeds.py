"""Evaluation seeds: sampled decoding answers every task once per seed, each row naming its seed,
and grading counts each seed; one run (greedy, or one seed) writes the rows it always wrote."""

import json

import pytest

from guiding import artifacts as A
from guiding import implementations
from guiding.core.io import read_jsonl, write_jsonl
from guiding.evaluation.steps import generate_predictions, grade_predictions

CREATED: list[dict] = []


class SeedEcho:
    """A generator that answers each problem's number plus its seed (so seeds give different answers)."""

    def __init__(self, max_new_tokens, batch_size, threads=None, gpus=0, **decoding):
        self.decoding = decoding
        CREATED.append(decoding)

    def generate(self, model_path, problems):
        seed = self.decoding.get("seed", 0)
        return [f"\\boxed{{{int(p.split()[-1]) + seed}}}" for p in problems]


@pytest.fixture
def tasks(tmp_path, monkeypatch):
    monkeypatch.setitem(implementations.IMPLEMENTATIONS["generator"], "seed_echo", f"{__name__}:SeedEcho")
    CREATED.clear()
    path = tmp_path / "tasks.jsonl"
    write_jsonl(
        path, [{"id": f"t{i}", "problem": f"What is {i}", "answer": str(i + 3), "form": "plain"} for i in range(4)]
    )
    return path


def run(tmp_path, tasks, generation):
    predictions, graded, report = (tmp_path / f"p.{x}" for x in ("jsonl", "graded.jsonl", "json"))
    generate_predictions(
        model="m", tasks=str(tasks), predictions=str(predictions), backend="seed_echo", generation=generation
    )
    grade_predictions(tasks=str(tasks), predictions=str(predictions), graded=str(graded), grading_report=str(report))
    return read_jsonl(predictions), read_jsonl(graded), json.loads(report.read_text())


def test_sampled_decoding_answers_once_per_evaluation_seed_and_grades_each(tmp_path, tasks):
    sampled = {"max_new_tokens": 8, "batch_size": 2, "temperature": 0.6, "top_p": 0.9, "top_k": 50, "seeds": [3, 5]}
    predictions, graded, report = run(tmp_path, tasks, sampled)
    assert [c["seed"] for c in CREATED] == [3, 5] and all("seeds" not in c for c in CREATED)
    assert [(p["task_id"], p[A.EVAL_SEED]) for p in predictions] == [(f"t{i}", s) for s in (3, 5) for i in range(4)]
    # The answer is the problem's number plus the seed: right at seed 3 only (the gold is number + 3).
    assert [g["correct"] for g in graded] == [True] * 4 + [False] * 4
    assert report["by_eval_seed"] == {"3": {"items": 4, "correct": 4}, "5": {"items": 4, "correct": 0}}


@pytest.mark.parametrize("seeds", [None, [3]], ids=["greedy", "one sampled seed"])
def test_one_run_writes_the_rows_it_always_wrote(tmp_path, tasks, seeds):
    generation = {"max_new_tokens": 8, "batch_size": 2}
    if seeds:
        generation.update(temperature=0.6, top_p=0.9, top_k=50, seeds=seeds)
    predictions, graded, report = run(tmp_path, tasks, generation)
    assert len(CREATED) == 1 and CREATED[0].get("seed") == (seeds[0] if seeds else None)
    assert all(set(p) == {"task_id", "output"} for p in predictions) and "by_eval_seed" not in report
    assert [g["correct"] for g in graded] == [bool(seeds)] * 4  # right at seed 3, wrong without one
