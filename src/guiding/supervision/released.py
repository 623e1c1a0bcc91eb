"""The authors' released paraphrases as a paraphraser (backends.paraphraser released).

The released data hold reworded hard-task pairs (``paraphrase/<pool>/``), imported by rule
import_released as ``{task_id, problem, correct, incorrect}``. A set item gets its task's reworded
problem and the reworded side it uses (correct or incorrect); an item whose task the authors did
not reword keeps its wording (``paraphrased`` false), as an item whose LLM paraphrase failed does.
"""

from __future__ import annotations

import logging

from ..core.io import read_jsonl

log = logging.getLogger("guiding")


class ReleasedParaphraser:
    def __init__(self, paraphrases: str, seed: int = 0):
        # The seed changes nothing: the paraphrases were written by the authors.
        self.by_task = {row["task_id"]: row for row in read_jsonl(paraphrases)}

    def paraphrase(self, item: dict) -> dict:
        (out,) = self.paraphrase_all([item])
        if out is None:
            raise ValueError(f"the released data hold no paraphrase of task {item['task_id']!r}")
        return out

    def paraphrase_all(self, items: list[dict]) -> list[dict | None]:
        out = []
        for item in items:
            row = self.by_task.get(item["task_id"])
            side = "correct" if item["outcome_correct"] else "incorrect"
            out.append(None if row is None else {"problem": row["problem"], "solution": row[side]})
        if missing := sum(o is None for o in out):
            log.info("released paraphrases: %d of %d items have none and keep their wording", missing, len(items))
        return out
