"""Step functions of rules/teachers.smk."""

from __future__ import annotations

import logging

from .. import implementations
from ..core.io import read_jsonl, write_json, write_jsonl
from .seams import Teacher, solve_all

log = logging.getLogger("guiding")


def solve_tasks(teacher: Teacher, tasks: list[dict], k: int) -> list[dict]:
    """``k`` samples per task, in task order (a dropped sample is missing)."""
    return solve_all(teacher, tasks, k)[0]


def sample_solutions(
    *, tasks: str, samples: str, report: str, backend: str, teacher: str, teacher_config: dict, sampling: dict
) -> None:
    """The samples, and a report of how many were asked for, written and dropped (by reason)."""
    solver = implementations.create("teacher", backend, name=teacher, seed=sampling["seed"], **teacher_config)
    todo = read_jsonl(tasks)
    solved, drops = solve_all(solver, todo, sampling["samples_per_task"])
    write_jsonl(samples, solved)
    asked = len(todo) * sampling["samples_per_task"]
    write_json(report, {"teacher": teacher, "asked": asked, "samples": len(solved), "dropped_by_reason": drops})
    log.info("teacher %s: %d samples of %d asked, dropped %s", teacher, len(solved), asked, drops)
