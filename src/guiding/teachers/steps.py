"""Step functions of rules/teachers.smk."""

from __future__ import annotations

import logging

from .. import backends
from ..core.io import read_jsonl, write_jsonl
from .seams import Teacher

log = logging.getLogger("guiding")


def solve_tasks(teacher: Teacher, tasks: list[dict], k: int) -> list[dict]:
    """``k`` samples per task, in task order."""
    return [
        {"task_id": task["id"], "teacher": teacher.name, "sample": i, "solution": teacher.solve(task, i)}
        for task in tasks
        for i in range(k)
    ]


def sample_solutions(
    *, tasks: str, samples: str, backend: str, teacher: str, teacher_config: dict, sampling: dict
) -> None:
    solver = backends.create("teacher", backend, name=teacher, seed=sampling["seed"], **teacher_config)
    solved = solve_tasks(solver, read_jsonl(tasks), sampling["samples_per_task"])
    write_jsonl(samples, solved)
    log.info("teacher %s: %d samples", teacher, len(solved))
