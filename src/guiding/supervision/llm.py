"""The paraphraser behind the cached generation interface: problem and solution reworded separately."""

from __future__ import annotations

from ..llm.roles import Question, RoleSpec, ask


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
        """New wording of each item's problem and solution, in order; None where either answer failed."""
        questions = [
            Question(f"{item['task_id']}:{part}", {"part": part, "text": item[part]})
            for item in items
            for part in ("problem", "solution")
        ]
        parsed = ask(self.spec, "paraphrase", questions).parsed
        out = []
        for i in range(len(items)):
            problem, solution = parsed[2 * i], parsed[2 * i + 1]
            ok = problem.ok and solution.ok
            out.append({"problem": problem.value, "solution": solution.value} if ok else None)
        return out
