"""Judging sampled solutions: outcome by final answer (as in the paper), every step exactly."""

from __future__ import annotations

from .grading import grade_solution
from .world import Program, check_steps


def judge_samples(tasks: list[dict], samples: list[dict]) -> list[dict]:
    by_id = {t["id"]: t for t in tasks}
    judged = []
    for s in samples:
        try:
            task = by_id[s["task_id"]]
        except KeyError:
            raise ValueError(f"sample of teacher {s.get('teacher')!r} names unknown task {s['task_id']!r}") from None
        verdicts = check_steps(Program.from_dict(task["program"]), s["solution"])
        judged.append({**s, **grade_solution(task["answer"], s["solution"]), "step_verdicts": verdicts})
    return judged
