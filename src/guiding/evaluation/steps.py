"""Step functions of rules/evaluation.smk."""

from __future__ import annotations

import logging

from .. import backends
from ..answers import grade_many
from ..artifacts import WORLD_SOURCE
from ..core.gpus import preflight
from ..core.io import read_jsonl, write_json, write_jsonl
from .benchmarks import from_world, load_benchmark

log = logging.getLogger("guiding")


def prepare_benchmark(
    *, benchmark: str, report: str, bench: str, spec: dict, tasks: str | None = None, source_file: str | None = None
) -> None:
    """One benchmark, read from its source, as rows {id, problem, answer, form}."""
    if spec["source"] == WORLD_SOURCE:
        rows, facts = from_world(read_jsonl(tasks), spec.get("limit"))
    else:
        rows, facts = load_benchmark(bench, spec)
    write_jsonl(benchmark, rows)
    write_json(report, facts)
    log.info("%s: %s", bench, facts)


def generate_predictions(
    *, model: str, tasks: str, predictions: str, backend: str, generation: dict, gpu: int = 0, threads: int = 1
) -> None:
    preflight(gpu, "generate_predictions")
    problems = read_jsonl(tasks)
    generator = backends.create("generator", backend, threads=threads, gpus=gpu, **generation)
    outputs = generator.generate(model, [t["problem"] for t in problems])
    write_jsonl(predictions, ({"task_id": t["id"], "output": o} for t, o in zip(problems, outputs)))


def grade(tasks: list[dict], predictions: list[dict], workers: int = 1) -> tuple[list[dict], dict]:
    """Each prediction with its extracted answer and verdict against its task's reference answer,
    and the grading report (items, correct, timed out, no answer)."""
    by_id = {t["id"]: t for t in tasks}
    golds = [by_id[p["task_id"]] for p in predictions]
    verdicts, report = grade_many(
        [(g["answer"], p["output"]) for g, p in zip(golds, predictions)],
        workers=workers,
        forms=[g.get("form", "plain") for g in golds],
    )
    return [{**p, **v} for p, v in zip(predictions, verdicts)], report


def grade_predictions(*, tasks: str, predictions: str, graded: str, grading_report: str, threads: int = 1) -> None:
    made, report = grade(read_jsonl(tasks), read_jsonl(predictions), threads)
    write_jsonl(graded, made)
    write_json(grading_report, report)
    log.info("grading: %s", report)
