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
