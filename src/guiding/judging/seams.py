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
