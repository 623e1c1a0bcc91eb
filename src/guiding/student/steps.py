"""Step functions of rules/student.smk."""

from __future__ import annotations

import logging

from .. import backends
from ..core.io import read_jsonl
from .training import train_sft

log = logging.getLogger("guiding")


def build_student_base(*, tasks: list[str], base_model: str, backend: str, student: dict) -> None:
    # The corpus is the text the student will read and write: problems and solutions.
    texts = [f"{t['problem']}\n{t['solution']}" for path in tasks for t in read_jsonl(path)]
    log.info("%s", backends.create("student_base", backend, **student).build(texts, base_model))


def _train(model: str, data: str, trained: str, recipe: dict, checkpoints: str, threads: int) -> None:
    summary = train_sft(
        model_path=model,
        items=read_jsonl(data),
        out_dir=trained,
        recipe=recipe,
        scratch_dir=checkpoints,
        threads=threads,
    )
    log.info("%s", {k: v for k, v in summary.items() if k != "log_history"})


def train_stage1(*, model: str, data: str, trained: str, recipe: dict, checkpoints: str, threads: int = 1) -> None:
    """SFT of the base model on the easy tasks."""
    _train(model, data, trained, recipe, checkpoints, threads)


def train_stage2(*, model: str, data: str, trained: str, recipe: dict, checkpoints: str, threads: int = 1) -> None:
    """SFT of the stage-1 model on one supervision set."""
    _train(model, data, trained, recipe, checkpoints, threads)
