"""Step functions of rules/tasks.smk."""

from __future__ import annotations

import logging
from collections import defaultdict

from .. import implementations
from ..core.io import read_jsonl, write_json, write_jsonl
from .seams import decompose_all, problems_all

log = logging.getLogger("guiding")


def generate_tasks(
    *,
    train_easy: str,
    train_hard: str,
    eval_easy: str,
    eval_hard: str,
    report: str,
    backend: str,
    settings: dict,
    source_files: list[str] = (),
) -> None:
    """Every split, each to the output of its own name; the report counts the tasks per split and,
    for a source with pre-filters, what they dropped by reason. ``source_files`` (the local files
    that ``settings`` names) are the rule's inputs only so that editing one reruns the job."""
    paths = {"train_easy": train_easy, "train_hard": train_hard, "eval_easy": eval_easy, "eval_hard": eval_hard}
    source = implementations.create("task_source", backend, **settings)
    splits = source.splits()
    if set(splits) != set(paths):
        raise ValueError(f"task source {backend!r} gave splits {sorted(splits)}, the rule wants {sorted(paths)}")
    for split, path in paths.items():
        write_jsonl(path, splits[split])
        log.info("%s: %d tasks", split, len(splits[split]))
    write_json(
        report,
        {
            "tasks": {split: len(tasks) for split, tasks in splits.items()},
            "prefilter": getattr(source, "filter_report", None),
        },
    )


def decompose_tasks(*, hard_tasks: str, decomposed: str, report: str, backend: str, decomposition: dict) -> None:
    """The subtasks, and a report of the tasks decomposed and the answers dropped (by reason)."""
    decomposer = implementations.create("decomposer", backend, **decomposition)
    tasks = read_jsonl(hard_tasks)
    subtasks, drops = decompose_all(decomposer, tasks)
    write_jsonl(decomposed, subtasks)
    decomposed_tasks = len({s["parent_id"] for s in subtasks})
    write_json(
        report,
        {"tasks": len(tasks), "decomposed": decomposed_tasks, "subtasks": len(subtasks), "dropped_by_reason": drops},
    )
    log.info("%d subtasks of %d tasks, dropped %s", len(subtasks), decomposed_tasks, drops)


def filter_subtasks(
    *, decomposed: str, hard_tasks: str, kept: str, report: str, backend: str, subtask_filter: dict
) -> None:
    """Keeps the subtasks that pass every filter; the report counts the drops by reason."""
    check = implementations.create("subtask_filter", backend, **subtask_filter)
    parents = {t["id"]: t for t in read_jsonl(hard_tasks)}
    passed, dropped = [], defaultdict(int)
    subtasks = read_jsonl(decomposed)
    for sub, reasons in zip(subtasks, problems_all(check, [(s, parents[s["parent_id"]]) for s in subtasks])):
        for reason in reasons:
            dropped[reason] += 1
        if not reasons:
            passed.append(sub)
    write_jsonl(kept, passed)
    write_json(report, {"kept": len(passed), "dropped_by_reason": dict(sorted(dropped.items()))})
    log.info("kept %d subtasks, dropped %s", len(passed), dict(dropped))
