"""The pipeline's pairs and judged samples written in the authors' layout: the inverses of
``readers.pairs_from_records`` and ``readers.samples_from_records`` (an exported study imports
byte-identically)."""

from __future__ import annotations

from collections import defaultdict

from .layout import EXTENSION, SUBTASK_KEY


def export_pairs(hard: list[dict], subtasks: list[dict]) -> list[dict]:
    """Pair records in the authors' task_sol_pairs layout: one record per hard task, its subtasks
    numbered in file order; each pair carries what the layout has no key for under ``guiding``.

    A subtask whose hard task has no pair gets a record without ``original`` (the importer keeps
    its subtasks and counts the missing hard pair), so no pair is lost.
    """
    records: dict[str, dict] = {}

    def side(pair: dict, row: int) -> dict:
        ext = {
            "task_id": pair["task_id"],
            "answer": pair["answer"],
            "n_steps": pair["n_steps"],
            "row": row,
            "correct": {k: pair["correct"][k] for k in ("step_verdicts", "source")},
            "incorrect": {k: pair["incorrect"][k] for k in ("step_verdicts", "source")},
        }
        if pair["kind"] == "subtask":
            ext["parent_id"] = pair["parent_id"]
        return {
            "task": pair["problem"],
            "pos_ans": pair["correct"]["solution"],
            "neg_ans": pair["incorrect"]["solution"],
            EXTENSION: ext,
        }

    for row, pair in enumerate(hard):
        records[pair["task_id"]] = {"ori_id": pair["task_id"], "original": side(pair, row)}
    for row, pair in enumerate(subtasks):
        record = records.setdefault(pair["parent_id"], {"ori_id": pair["parent_id"]})
        number = sum(1 for key in record if SUBTASK_KEY.fullmatch(key)) + 1
        record[f"subtask_{number}"] = side(pair, row)
    return list(records.values())


def export_weaker_sampling(tasks: list[dict], judged: list[dict]) -> list[dict]:
    """Judged samples in the authors' weaker_sampling layout: per task, its samples and 1/0 labels."""
    by_task = defaultdict(list)
    for row in judged:
        by_task[row["task_id"]].append(row)
    out = []
    for task in tasks:
        rows = sorted(by_task.get(task["id"], []), key=lambda r: r["sample"])
        if not rows:
            continue
        record = {"ori_id": task["id"], "task": task["problem"], "ground_truth": task["solution"]}
        for number, row in enumerate(rows, 1):
            record[f"sample{number}"] = row["solution"]
            record[f"judge{number}"] = int(bool(row["correct"]))
        out.append(record)
    return out
