"""A teacher behind the cached generation interface: k sampled solutions per task, one batch."""

from __future__ import annotations

from collections import Counter

from ..llm.prompts import length_hint
from ..llm.roles import Question, RoleSpec, ask


class LLMTeacher:
    """Solves with the ``solve`` template (detailed steps, a boxed answer, a length hint of 0.5-1.5x
    the reference); sample ``i`` of a task is request ``i`` with its own seed."""

    def __init__(self, name: str, llm: dict, seed: int = 0):
        self.name = name
        self.spec = RoleSpec.from_dict({**llm, "seed": seed})

    def solve(self, task: dict, sample: int) -> str:
        samples, drops = self.solve_all([task], sample + 1)
        mine = [s for s in samples if s["sample"] == sample]
        if not mine:
            raise ValueError(f"teacher {self.name}: no solution for task {task['id']!r} sample {sample}: {drops}")
        return mine[0]["solution"]

    def solve_all(self, tasks: list[dict], k: int) -> tuple[list[dict], dict[str, int]]:
        """``k`` samples per task in task order, and the drops by reason (failed or unreadable answers)."""
        questions = [
            Question(task["id"], {"problem": task["problem"], **length_hint(task["solution"])}, sample=i)
            for task in tasks
            for i in range(k)
        ]
        answers = ask(self.spec, "solve", questions)
        samples, drops = [], Counter()
        for q, parsed, finish in zip(questions, answers.parsed, answers.finish_reasons):
            if not parsed.ok:
                drops[parsed.reason] += 1
                continue
            samples.append(
                {
                    "task_id": q.item_id,
                    "teacher": self.name,
                    "sample": q.sample,
                    "solution": parsed.value,
                    "finish_reason": finish,
                }
            )
        return samples, dict(sorted(drops.items()))
