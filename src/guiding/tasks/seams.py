"""What the task stage needs from a mode: a task source, a decomposer and a subtask filter.

A task is a dict with at least ``id``, ``kind``, ``problem``, ``solution`` (the reference) and
``answer``; a subtask also names its hard task in ``parent_id``.
"""

from __future__ import annotations

from typing import Protocol


class TaskSource(Protocol):
    def splits(self) -> dict[str, list[dict]]:
        """Every split of ``artifacts.SPLITS``, by name, as lists of tasks (disjoint)."""
        ...


class Decomposer(Protocol):
    def decompose(self, task: dict) -> list[dict]:
        """Self-contained subtasks with reference solutions derived from ``task``'s solution only."""
        ...


class SubtaskFilter(Protocol):
    def problems(self, subtask: dict, parent: dict) -> list[str]:
        """Reasons to drop ``subtask`` (e.g. ill_defined, too_few_steps, near_duplicate); [] keeps it."""
        ...
