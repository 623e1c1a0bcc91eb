"""The paraphraser behind the cached generation interface: problem and solution reworded separately."""

from __future__ import annotations

import logging
from collections import Counter

from ..llm.parsers import boxed_answer
from ..llm.roles import Question, RoleSpec, ask

log = logging.getLogger("guiding")


class LLMParaphraser:
    """Rewords a set item's problem and its solution with the ``paraphrase`` template, one request each."""

    def __init__(self, llm: dict, seed: int = 0):
        self.spec = RoleSpec.from_dict({**llm, "seed": seed})

    def paraphrase(self, item: dict) -> dict:
        (out,) = self.paraphrase_all([item])
        if out is None:
            raise ValueError(f"paraphrase of {item['task_id']!r} failed")
        return out

    def paraphrase_all(self, items: list[dict]) -> list[dict | None]:
        """New wording of each item's problem and solution, in order; None where either answer failed
        or the reworded solution boxes another final answer than the original (the math must stay)."""
        questions = [
            Question(f"{item['task_id']}:{part}", {"part": part, "text": item[part]})
            for item in items
            for part in ("problem", "solution")
        ]
        parsed = ask(self.spec, "paraphrase", questions).parsed
        out, kept_wording = [], Counter()
        for i, item in enumerate(items):
            problem, solution = parsed[2 * i], parsed[2 * i + 1]
            if not (problem.ok and solution.ok):
                kept_wording[problem.reason or solution.reason] += 1
                out.append(None)
            elif boxed_answer(solution.value) != boxed_answer(item["solution"]):
                kept_wording["changed_answer"] += 1
                out.append(None)
            else:
                out.append({"problem": problem.value, "solution": solution.value})
        if kept_wording:
            log.info("paraphrase: %d items keep their wording, by reason %s", sum(kept_wording.values()), kept_wording)
        return out
