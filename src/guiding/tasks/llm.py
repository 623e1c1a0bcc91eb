"""Decomposition and the subtask filters behind the cached generation interface.

The decomposer asks for 2 or 3 self-contained subtasks with solutions derived from the reference
only; the filter asks the paper's three questions (is the subtask well defined, how many steps
does its solution take, is it a near copy of its task). Every question of a stage goes out in one
batch; an answer that fails or cannot be read drops its item and is counted by reason.
"""

from __future__ import annotations

from collections import Counter

from ..llm.parsers import written_steps
from ..llm.roles import Question, RoleSpec, ask, ask_together


class LLMDecomposer:
    """Asks for 2 subtasks of a task whose reference has up to ``two_parts_up_to`` steps, else 3
    (a task may name its own number in ``subtasks``, as a source that measures reference length does)."""

    def __init__(self, llm: dict, two_parts_up_to: int, seed: int = 0):
        self.spec = RoleSpec.from_dict({**llm, "seed": seed})
        self.two_parts_up_to = two_parts_up_to

    def parts(self, task: dict) -> int:
        if "subtasks" in task:
            return int(task["subtasks"])
        return 2 if written_steps(task["solution"]) <= self.two_parts_up_to else 3

    def decompose(self, task: dict) -> list[dict]:
        return self.decompose_all([task])[0]

    def decompose_all(self, tasks: list[dict]) -> tuple[list[dict], dict[str, int]]:
        """The subtasks of every task, in task order, and the drops by reason."""
        questions = [
            Question(
                task["id"],
                {"problem": task["problem"], "reference": task["solution"], "parts": self.parts(task)},
                parse_args=(self.parts(task),),
            )
            for task in tasks
        ]
        answers = ask(self.spec, "decompose", questions)
        subtasks, drops = [], Counter()
        for task, parsed in zip(tasks, answers.parsed):
            drops.update(parsed.dropped)
            if not parsed.ok:
                drops[parsed.reason] += 1
                continue
            for j, sub in enumerate(parsed.value):
                subtasks.append(
                    {
                        "id": f"{task['id']}-s{j}",
                        "kind": "subtask",
                        "n_steps": written_steps(sub["solution"]),
                        "problem": sub["problem"],
                        "solution": sub["solution"],
                        "answer": sub["answer"],
                        "parent_id": task["id"],
                    }
                )
        return subtasks, dict(sorted(drops.items()))


class LLMSubtaskFilter:
    """The paper's three LLM checks; a check whose answer cannot be read drops the subtask too."""

    CHECKS = ("filter_ill_defined", "filter_too_few_steps", "filter_near_duplicate")

    def __init__(self, llm: dict, min_steps: int):
        self.spec = RoleSpec.from_dict(llm)
        self.min_steps = min_steps

    def problems(self, subtask: dict, parent: dict) -> list[str]:
        return self.problems_all([(subtask, parent)])[0]

    def problems_all(self, pairs: list[tuple[dict, dict]]) -> list[list[str]]:
        """Reasons to drop each subtask, in order ([] keeps it)."""
        fields = {
            "filter_ill_defined": lambda sub, parent: {"problem": sub["problem"], "solution": sub["solution"]},
            "filter_too_few_steps": lambda sub, parent: {"problem": sub["problem"], "solution": sub["solution"]},
            "filter_near_duplicate": lambda sub, parent: {
                "problem": sub["problem"],
                "parent_problem": parent["problem"],
            },
        }
        # The three checks go out in one batch (each request keeps the key it has when asked alone).
        groups = [
            (check, [Question(sub["id"], fields[check](sub, parent)) for sub, parent in pairs], None)
            for check in self.CHECKS
        ]
        verdicts = dict(zip(self.CHECKS, ask_together(self.spec, groups)))
        reasons = []
        for i in range(len(pairs)):
            mine = []
            well_defined = verdicts["filter_ill_defined"].parsed[i]
            steps = verdicts["filter_too_few_steps"].parsed[i]
            duplicate = verdicts["filter_near_duplicate"].parsed[i]
            if not well_defined.ok or not well_defined.value:
                mine.append("ill_defined" if well_defined.ok else f"ill_defined_unread_{well_defined.reason}")
            if not steps.ok or steps.value < self.min_steps:
                mine.append("too_few_steps" if steps.ok else f"too_few_steps_unread_{steps.reason}")
            if not duplicate.ok or duplicate.value:
                mine.append("near_duplicate" if duplicate.ok else f"near_duplicate_unread_{duplicate.reason}")
            reasons.append(mine)
        return reasons
