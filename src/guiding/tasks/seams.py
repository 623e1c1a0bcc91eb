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


def decompose_all(decomposer: Decomposer, tasks: list[dict]) -> tuple[list[dict], dict[str, int]]:
    """Every task's subtasks in task order and the drops by reason: the decomposer's own batch
    (``decompose_all``, e.g. concurrent LLM requests) when it has one, else one task at a time."""
    batch = getattr(decomposer, "decompose_all", None)
    if batch is not None:
        return batch(tasks)
    return [sub for task in tasks for sub in decomposer.decompose(task)], {}


def problems_all(check: SubtaskFilter, pairs: list[tuple[dict, dict]]) -> list[list[str]]:
    """Each (subtask, parent)'s reasons to drop, in order: the filter's batch when it has one."""
    batch = getattr(check, "problems_all", None)
    if batch is not None:
        return batch(pairs)
    return [check.problems(sub, parent) for sub, parent in pairs]
