"""The exact step judge of the synthetic world (the ground truth for step-wise error rates)."""

from __future__ import annotations

from ..world.program import Program, check_steps, read_problem


class ExactStepJudge:
    def judge_steps(self, task: dict, solution: str) -> list[bool | None]:
        """Exact verdicts; a task without its program (written by a decomposer model) is read from its text."""
        program = Program.from_dict(task["program"]) if "program" in task else read_problem(task["problem"])
        if program is None:
            raise ValueError(f"task {task['id']!r} states no well-defined problem of the world: {task['problem']!r}")
        return check_steps(program, solution)
