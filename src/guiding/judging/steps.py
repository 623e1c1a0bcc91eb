"""Step functions of rules/judging.smk."""

from __future__ import annotations

import logging

from .. import backends
from ..answers import grade_many
from ..core.io import read_jsonl, write_json, write_jsonl
from .pairs import build_pairs
from .seams import StepJudge

log = logging.getLogger("guiding")


def judge_samples(tasks: list[dict], samples: list[dict], step_judge: StepJudge, workers: int = 1) -> list[dict]:
    """Each sample with its final answer graded against the reference and its step verdicts."""
    by_id = {t["id"]: t for t in tasks}
    unknown = [s["task_id"] for s in samples if s["task_id"] not in by_id]
    if unknown:
        raise ValueError(f"{len(unknown)} samples name unknown tasks, e.g. {unknown[0]!r}")
    verdicts, report = grade_many([(by_id[s["task_id"]]["answer"], s["solution"]) for s in samples], workers=workers)
    log.info("grading: %s", report)
    return [
        {**s, **verdict, "step_verdicts": step_judge.judge_steps(by_id[s["task_id"]], s["solution"])}
        for s, verdict in zip(samples, verdicts)
    ]


def judge_solutions(*, tasks: str, samples: str, judged: str, step_judge: str, threads: int = 1) -> None:
    made = judge_samples(read_jsonl(tasks), read_jsonl(samples), backends.create("step_judge", step_judge), threads)
    write_jsonl(judged, made)
    log.info("%d judged, %d correct", len(made), sum(j["correct"] for j in made))


def make_pairs(*, tasks: str, judged: str, pairs: str, pair_stats: str, seed: int, step_judge: str) -> None:
    made, stats = build_pairs(read_jsonl(tasks), read_jsonl(judged), seed, backends.create("step_judge", step_judge))
    write_jsonl(pairs, made)
    write_json(pair_stats, stats)
    log.info("%s", stats)
