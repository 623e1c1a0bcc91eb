"""Step functions of rules/student.smk."""

from __future__ import annotations

import logging

from .. import implementations
from ..core.gpus import preflight
from ..core.io import read_jsonl, write_json, write_jsonl
from .stage1_data import build as build_stage1_rows
from .training import train_sft

log = logging.getLogger("guiding")


def build_student_base(*, tasks: list[str], base_model: str, backend: str, student: dict) -> None:
    # The corpus is the text the student will read and write: problems and solutions.
    texts = [f"{t['problem']}\n{t['solution']}" for path in tasks for t in read_jsonl(path)]
    log.info("%s", implementations.create("student_base", backend, **student).build(texts, base_model))


def build_stage1_data(
    *, benchmarks: list[str], data: str, report: str, stage1_data: dict, world_tasks: str | None = None
) -> None:
    """Stage 1's training set from its sources, without the benchmarks' problems."""
    problems = [row["problem"] for path in benchmarks for row in read_jsonl(path)]
    rows, facts = build_stage1_rows(
        stage1_data["sources"], read_jsonl(world_tasks) if world_tasks else None, problems, stage1_data["ngram"]
    )
    write_jsonl(data, rows)
    write_json(report, facts)
    log.info("%s", facts)


def _train(
    job: str, model: str, data: str, trained: str, recipe: dict, checkpoints: str, threads: int, gpu: int, launcher
) -> None:
    preflight(gpu, job)
    summary = train_sft(
        model_path=model,
        items=read_jsonl(data),
        out_dir=trained,
        recipe=recipe,
        scratch_dir=checkpoints,
        threads=threads,
        launcher=launcher,
        gpus=gpu,
    )
    log.info("%s", {k: v for k, v in summary.items() if k != "log_history"})


def train_stage1(
    *,
    model: str,
    data: str,
    trained: str,
    recipe: dict,
    checkpoints: str,
    launcher: str | None = None,
    gpu: int = 0,
    threads: int = 1,
) -> None:
    """SFT of the base model on the easy tasks."""
    _train("train_stage1", model, data, trained, recipe, checkpoints, threads, gpu, launcher)


def train_stage2(
    *,
    model: str,
    data: str,
    trained: str,
    recipe: dict,
    checkpoints: str,
    launcher: str | None = None,
    gpu: int = 0,
    threads: int = 1,
) -> None:
    """SFT of the stage-1 model on one supervision set."""
    _train("train_stage2", model, data, trained, recipe, checkpoints, threads, gpu, launcher)
