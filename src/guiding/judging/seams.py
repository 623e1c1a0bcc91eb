"""What the judging stage needs from a mode: a step judge.

Final answers are judged by ``guiding.answers`` in every mode; steps need a judge that knows
the task: exact in the synthetic world, an LLM in paper mode. A verdict is True (the step is
right), False (wrong) or None (the judge could not tell); None counts in neither the wrong
steps nor the steps of a step-wise error rate.
"""

from __future__ import annotations

from typing import Protocol


class StepJudge(Protocol):
    def judge_steps(self, task: dict, solution: str) -> list[bool | None]:
        """One verdict per written step of ``solution`` (missing steps count as wrong)."""
        ...


class FinalJudge(Protocol):
    def judge_all(self, items: list[tuple[dict, str]]) -> list[bool | None]:
        """For each (task, solution): does its final result agree with the task's reference (None: cannot tell)?"""
        ...


class Rewriter(Protocol):
    def rewrite_all(self, tasks: list[dict]) -> list[str | None]:
        """Each task's reference solution rewritten in the teacher's own words (None where it failed)."""
        ...


def judge_steps_all(step_judge: StepJudge, items: list[tuple[dict, str]]) -> list[list[bool | None]]:
    """Each (task, solution)'s step verdicts, in order: the judge's own batch (``judge_steps_all``,
    e.g. concurrent LLM requests) when it has one, else one solution at a time."""
    batch = getattr(step_judge, "judge_steps_all", None)
    if batch is not None:
        return batch(items)
    return [step_judge.judge_steps(task, solution) for task, solution in items]
