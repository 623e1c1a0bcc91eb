"""What the teacher stage needs from a mode: a teacher that writes a solution to a task."""

from __future__ import annotations

from typing import Protocol


class Teacher(Protocol):
    name: str

    def solve(self, task: dict, sample: int) -> str:
        """Solution number ``sample`` of ``task``: steps, then the final answer in ``\\boxed{}``.

        Samples are reproducible: the same (teacher, task, sample) gives the same text.
        """
        ...


def solve_all(teacher: Teacher, tasks: list[dict], k: int) -> tuple[list[dict], dict[str, int]]:
    """``k`` samples per task in task order and the drops by reason: the teacher's own batch
    (``solve_all``, e.g. concurrent LLM requests) when it has one, else one ``solve`` at a time."""
    batch = getattr(teacher, "solve_all", None)
    if batch is not None:
        return batch(tasks, k)
    samples = [
        {"task_id": task["id"], "teacher": teacher.name, "sample": i, "solution": teacher.solve(task, i)}
        for task in tasks
        for i in range(k)
    ]
    return samples, {}
