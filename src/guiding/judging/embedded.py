"""The exact step judge of the synthetic world (the ground truth for step-wise error rates)."""

from __future__ import annotations

from ..world.program import Program, check_steps


class ExactStepJudge:
    def judge_steps(self, task: dict, solution: str) -> list[bool | None]:
        return check_steps(Program.from_dict(task["program"]), solution)
