"""Simulated teachers of the synthetic world: they solve a task step by step and err at a configured per-step rate.

Error styles:
- ``slip``: the arithmetic result of the step is wrong; later steps carry the wrong value.
- ``wrong_op``: the step applies another operation of the world than the problem states (a
  misread, possibly of an operation the problem never uses), with right arithmetic; later steps
  carry the resulting value.
Every error changes the step's value, so the configured rate is the rate of wrong steps (among
the steps of ``error_ops``, the operations the teacher errs at: all by default).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ..artifacts import OPERATIONS
from ..world.program import OPERAND_RANGE, Program, apply_op, render_answer, render_step

ERROR_STYLES = ("slip", "wrong_op")


@dataclass(frozen=True)
class SimulatedTeacher:
    """A teacher that errs at ``step_error`` per step in ``error_style``; ``seed`` fixes its samples."""

    name: str
    step_error: float
    error_style: str
    seed: int = 0
    error_ops: tuple[str, ...] = OPERATIONS
    """The operations at whose steps the teacher errs; a step of another operation is always right."""

    def __post_init__(self):
        object.__setattr__(self, "error_ops", tuple(self.error_ops))  # from config: a list
        if self.error_style not in ERROR_STYLES:
            raise ValueError(
                f"teacher {self.name!r}: error_style must be one of {ERROR_STYLES}, got {self.error_style!r}"
            )
        if not set(self.error_ops) <= set(OPERATIONS):
            raise ValueError(f"teacher {self.name!r}: error_ops must be among {OPERATIONS}, got {self.error_ops!r}")
        if not 0.0 <= self.step_error <= 1.0:
            raise ValueError(f"teacher {self.name!r}: step_error must be in [0, 1], got {self.step_error}")

    def solve(self, task: dict, sample: int) -> str:
        """Sample ``sample`` of ``task``; its randomness depends only on (seed, teacher, task, sample)."""
        rng = random.Random(f"{self.seed}:{self.name}:{task['id']}:{sample}")
        return self.solve_program(Program.from_dict(task["program"]), rng)

    def solve_program(self, program: Program, rng: random.Random) -> str:
        lines, value = [], program.start_value
        for i, step in enumerate(program.steps, start=1):
            op, result = step.op, apply_op(step.op, value, step.operand)
            # The draw comes first, so that error_ops moves no other step's randomness.
            if rng.random() < self.step_error and step.op in self.error_ops:
                op, result = self._err(step.op, value, step.operand, result, rng)
            lines.append(render_step(i, step, value, result, op=op))
            value = result
        lines.append(render_answer(value))
        return "\n".join(lines)

    def _err(self, op: str, value: int, operand: int, result: int, rng: random.Random) -> tuple[str, int]:
        if self.error_style == "wrong_op":
            # Any operation of the world, also one the problem never states (a misread knows no better):
            # where easy tasks leave an operation out, a weak teacher's misreads still reach it.
            options = [o for o in OPERATIONS if o != op and apply_op(o, value, operand) != result]
            if options:
                other = rng.choice(options)
                return other, apply_op(other, value, operand)
        # A slip (also the fallback when no other operation changes the value).
        delta = rng.choice([d for d in range(-OPERAND_RANGE[1], OPERAND_RANGE[1] + 1) if d != 0])
        return op, result + delta
