"""The released data's hard tasks as a task source (backends.task_source released).

With the authors' pairs imported (rule import_released), the hard-task pool is theirs: each
hard pair's problem, with its correct solution as the reference (the released data hold no other).
The other splits are empty: stage 1's data and the benchmarks come from their own sources.
"""

from __future__ import annotations

from ..artifacts import SPLITS
from ..core.io import read_jsonl


class ReleasedTaskSource:
    def __init__(self, pairs: str):
        self.pairs = pairs

    def splits(self) -> dict[str, list[dict]]:
        hard = [
            {
                "id": p["task_id"],
                "kind": "hard",
                "parent_id": None,
                "problem": p["problem"],
                "solution": p["correct"]["solution"],
                "answer": p["answer"],
                "n_steps": p["n_steps"],
            }
            for p in read_jsonl(self.pairs)
        ]
        return {split: hard if split == "train_hard" else [] for split in SPLITS}
