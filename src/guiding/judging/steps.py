"""Step functions of rules/judging.smk."""

from __future__ import annotations

import logging

from .. import backends
from ..answers import grade_many
from ..core.io import read_jsonl, write_json, write_jsonl
from .pairs import build_pairs
from .seams import FinalJudge, StepJudge, judge_steps_all

log = logging.getLogger("guiding")


def judge_samples(
    tasks: list[dict],
    samples: list[dict],
    step_judge: StepJudge,
    workers: int = 1,
    final_judge: FinalJudge | None = None,
    step_judge_check: StepJudge | None = None,
) -> list[dict]:
    """Each sample with its final answer graded against the reference and its step verdicts.

    ``correct`` and ``step_verdicts`` come from the answer module and ``step_judge``; a second
    opinion, where configured, is stored beside them (``judge_correct`` from the final-result judge,
    ``check_step_verdicts`` from a second step judge) for the judge agreement table.
    """
    by_id = {t["id"]: t for t in tasks}
    unknown = [s["task_id"] for s in samples if s["task_id"] not in by_id]
    if unknown:
        raise ValueError(f"{len(unknown)} samples name unknown tasks, e.g. {unknown[0]!r}")
    verdicts, report = grade_many([(by_id[s["task_id"]]["answer"], s["solution"]) for s in samples], workers=workers)
    log.info("grading: %s", report)
    items = [(by_id[s["task_id"]], s["solution"]) for s in samples]
    judged = [
        {**s, **verdict, "step_verdicts": steps}
        for s, verdict, steps in zip(samples, verdicts, judge_steps_all(step_judge, items))
    ]
    if final_judge is not None:
        for row, agrees in zip(judged, final_judge.judge_all(items)):
            row["judge_correct"] = agrees
    if step_judge_check is not None:
        for row, steps in zip(judged, judge_steps_all(step_judge_check, items)):
            row["check_step_verdicts"] = steps
    return judged


def judge_solutions(
    *, tasks: str, samples: str, judged: str, step_judge: str, second_opinions: dict | None = None, threads: int = 1
) -> None:
    """``second_opinions`` names the final-result judge and the second step judge, each as
    {"backend": ..., "settings": {...}}, when they are configured."""
    others = {
        role: backends.create(role if role == "final_judge" else "step_judge", spec["backend"], **spec["settings"])
        for role, spec in (second_opinions or {}).items()
    }
    made = judge_samples(
        read_jsonl(tasks),
        read_jsonl(samples),
        backends.create("step_judge", step_judge),
        threads,
        final_judge=others.get("final_judge"),
        step_judge_check=others.get("step_judge_check"),
    )
    write_jsonl(judged, made)
    log.info("%d judged, %d correct", len(made), sum(j["correct"] for j in made))


def make_pairs(
    *,
    tasks: str,
    judged: str,
    pairs: str,
    pair_stats: str,
    seed: int,
    step_judge: str,
    rewriter: dict | None = None,
) -> None:
    """``rewriter``: {"backend": ..., "settings": {...}} of the teacher that rewrites the reference of a
    task with no correct sample; None keeps the reference as it is."""
    rewrite = backends.create("rewriter", rewriter["backend"], **rewriter["settings"]) if rewriter else None
    made, stats = build_pairs(
        read_jsonl(tasks), read_jsonl(judged), seed, backends.create("step_judge", step_judge), rewrite
    )
    write_jsonl(pairs, made)
    write_json(pair_stats, stats)
    log.info("%s", stats)
