"""The set builder: supervision sets at an exact outcome error rate, and their combinations.

A set at error rate x% over n tasks uses the incorrect solution for exactly n*x/100 of them.
Choices are seeded and nested: the tasks of a set, and the order in which tasks switch to
their incorrect solution, do not depend on x, so sets along an error-rate grid differ only
in the solutions they switch (less noise between grid points).
"""

from __future__ import annotations

import math
import random

from .seams import Paraphraser, paraphrase_all


class SetBuildError(ValueError):
    """A set that cannot be built as asked (never silently replaced by a different set)."""


def _seeded_order(ids: list[str], seed: int, salt: str) -> list[str]:
    order = sorted(ids)
    random.Random(f"{seed}:{salt}").shuffle(order)
    return order


def incorrect_count(size: int, error_rate: int, name: str) -> int:
    """How many of ``size`` tasks get their incorrect solution; refuses a rate that is no whole count."""
    if not 0 <= error_rate <= 100:
        raise SetBuildError(f"set {name!r}: error rate {error_rate}% is outside 0..100")
    if (size * error_rate) % 100:
        step = 100 // math.gcd(error_rate, 100)
        raise SetBuildError(
            f"set {name!r}: {error_rate}% of {size} tasks is {size * error_rate / 100:g} tasks, not a whole "
            f"number, so this rate cannot be built exactly; use a set size that is a multiple of {step}"
        )
    return size * error_rate // 100


def select_hard_tasks(hard_pairs: list[dict], size: int, seed: int, name: str) -> list[str]:
    """The hard tasks a teacher's sets are built on: the same for every error rate."""
    if size > len(hard_pairs):
        raise SetBuildError(
            f"set {name!r}: asked for {size} hard tasks but only {len(hard_pairs)} have both a correct "
            "and an incorrect solution; lower sets.hard_size or generate more tasks (world.sizes.train_hard)"
        )
    return _seeded_order([p["task_id"] for p in hard_pairs], seed, "hard-tasks")[:size]


def select_subtasks(subtask_pairs: list[dict], hard_ids: list[str], size: int, seed: int, name: str) -> list[str]:
    """Subtasks of the selected hard tasks only, so that both kinds of set rest on the same hard tasks."""
    parents = set(hard_ids)
    pool = [p["task_id"] for p in subtask_pairs if p["parent_id"] in parents]
    if size > len(pool):
        raise SetBuildError(
            f"set {name!r}: asked for {size} subtasks but the {len(hard_ids)} selected hard tasks have only "
            f"{len(pool)} with both a correct and an incorrect solution; lower sets.subtask_size"
        )
    return _seeded_order(pool, seed, "subtasks")[:size]


def build_error_rate_items(pairs: list[dict], task_ids: list[str], error_rate: int, seed: int, name: str) -> list[dict]:
    """The tasks ``task_ids``, exactly ``error_rate``% of them with their incorrect solution."""
    n_incorrect = incorrect_count(len(task_ids), error_rate, name)
    by_id = {p["task_id"]: p for p in pairs}
    wrong = set(_seeded_order(task_ids, seed, "incorrect")[:n_incorrect])
    items = []
    for task_id in task_ids:
        pair = by_id[task_id]
        side = pair["incorrect"] if task_id in wrong else pair["correct"]
        items.append(
            {
                "id": f"{name}/{task_id}",
                "task_id": task_id,
                "kind": pair["kind"],
                "problem": pair["problem"],
                "solution": side["solution"],
                "answer": pair["answer"],
                "outcome_correct": task_id not in wrong,
                "step_verdicts": side["step_verdicts"],
                "solution_source": side["source"],
            }
        )
    return items


def paraphrase_items(items: list[dict], paraphraser: Paraphraser, name: str) -> list[dict]:
    """A paraphrased copy of a set: new wording of problem and solution, the same verdicts. An item
    whose paraphrase failed keeps its wording (``paraphrased`` false), so the set keeps its error rate."""
    return [
        {**item, "id": f"{name}/{item['task_id']}", **(new or {}), "paraphrased": new is not None}
        for item, new in zip(items, paraphrase_all(paraphraser, items))
    ]


def combine_items(parts: dict[str, list[dict]], name: str) -> list[dict]:
    """Union of whole sets, each item keeping which part it came from."""
    out = []
    for part_name, items in parts.items():
        out.extend({**item, "id": f"{name}/{part_name}/{item['task_id']}", "part": part_name} for item in items)
    return out


def describe_set(items: list[dict]) -> dict:
    """Size, incorrect solutions, outcome and step-wise error rate (wrong steps / judged steps), steps."""
    n = len(items)
    steps = sum(len(i["step_verdicts"]) for i in items)
    judged_steps = sum(v is not None for i in items for v in i["step_verdicts"])  # None: the judge could not tell
    wrong_steps = sum(v is False for i in items for v in i["step_verdicts"])
    incorrect = sum(not i["outcome_correct"] for i in items)
    return {
        "size": n,
        "incorrect": incorrect,
        "outcome_error_rate": 100 * incorrect / n if n else float("nan"),
        "stepwise_error_rate": 100 * wrong_steps / judged_steps if judged_steps else float("nan"),
        "mean_steps": steps / n if n else float("nan"),
    }
