"""Judges behind the cached generation interface: the paper's final-result judge and a step judge.

The final-result judge compares a solution's final result with the reference's (tolerating
rounding, other constants and other methods) and answers 1, 0 or N/A. The step judge labels each
written step (a solution's non-empty lines before its boxed answer) right or wrong; where the
exact checker exists (the synthetic world) its labels are measured against the truth.
"""

from __future__ import annotations

import hashlib

from ..llm.parsers import written_steps
from ..llm.roles import Question, RoleSpec, ask


def _item_id(task: dict, solution: str) -> str:
    """A judged solution's name: its task and a digest of its text (the same solution, the same request)."""
    return f"{task['id']}:{hashlib.sha256(solution.encode()).hexdigest()[:12]}"


class LLMStepJudge:
    """One verdict per written step; a step the judge skipped, or an unreadable answer, is None."""

    def __init__(self, llm: dict):
        self.spec = RoleSpec.from_dict(llm)

    def judge_steps(self, task: dict, solution: str) -> list[bool | None]:
        return self.judge_steps_all([(task, solution)])[0]

    def judge_steps_all(self, items: list[tuple[dict, str]]) -> list[list[bool | None]]:
        questions = [
            Question(
                _item_id(task, solution),
                {"problem": task["problem"], "solution": solution},
                parse_args=(written_steps(solution),),
            )
            for task, solution in items
        ]
        parsed = ask(self.spec, "judge_steps", questions).parsed
        return [p.value if p.ok else [None] * written_steps(s) for p, (_, s) in zip(parsed, items)]


class LLMFinalJudge:
    """True (the final results agree), False, or None (N/A, or an answer that could not be read)."""

    def __init__(self, llm: dict):
        self.spec = RoleSpec.from_dict(llm)

    def judge_all(self, items: list[tuple[dict, str]]) -> list[bool | None]:
        questions = [
            Question(
                _item_id(task, solution),
                {"problem": task["problem"], "reference": task["solution"], "solution": solution},
            )
            for task, solution in items
        ]
        return [p.value if p.ok else None for p in ask(self.spec, "judge_final", questions).parsed]


class LLMRewriter:
    """The teacher writes its own solution of a task after reading the reference (``rewrite`` template)."""

    def __init__(self, llm: dict, seed: int = 0):
        self.spec = RoleSpec.from_dict({**llm, "seed": seed})

    def rewrite_all(self, tasks: list[dict]) -> list[str | None]:
        questions = [Question(t["id"], {"problem": t["problem"], "reference": t["solution"]}) for t in tasks]
        return [p.value if p.ok else None for p in ask(self.spec, "rewrite", questions).parsed]
