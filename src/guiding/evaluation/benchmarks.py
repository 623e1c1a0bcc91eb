"""Benchmarks as artifacts: each one read from its source and written in one shape.

Every benchmark file holds rows ``{id, problem, answer, form}``: the question as the student
sees it, the gold answer, and the answer form that grading normalises (``answers.FORMS``:
plain, letter, multi_blank, gsm8k). Sources:

- ``world``: a held-out split of the synthetic world (the embedded default), from the task
  source's output.
- a local file (``.jsonl``, ``.json``, ``.parquet``) or a hub dataset id (with ``subset`` and
  ``split``), read with ``datasets``; ``columns`` maps our fields to the source's, and
  ``options`` names a column of answer options to append to the question (multiple choice).

``where`` keeps the source's rows whose column holds one of the listed values (JEE-Bench's
subject). A benchmark with ``convert`` is first converted by an LLM (``conversion``); its rows
are then read from the conversion's output. ``drop_if_contains`` drops items whose question
mentions any of the given strings (figures, ``[asy]``, URLs); ``limit`` keeps the first n items
(tests, quick runs). What was dropped is counted in the benchmark's report.
"""

from __future__ import annotations

import hashlib

from ..answers import FORMS, normalize_gold
from ..core.datasets import load_rows, select_where


def _stable_id(bench: str, index: int, problem: str) -> str:
    return f"{bench}-{index:05d}-{hashlib.sha256(problem.encode()).hexdigest()[:8]}"


def standardize(
    rows: list[dict],
    bench: str,
    form: str,
    columns: dict[str, str],
    options: str | None = None,
    drop_if_contains: list[str] | None = None,
    limit: int | None = None,
) -> tuple[list[dict], dict]:
    """Rows of a source as benchmark rows, and a report of what was kept and dropped."""
    if form not in FORMS:
        raise ValueError(f"benchmark {bench!r}: unknown answer form {form!r} (known: {FORMS})")
    problem_col, answer_col = columns.get("problem", "problem"), columns.get("answer", "answer")
    kept, dropped = [], {}
    for index, row in enumerate(rows):
        for col in (problem_col, answer_col):
            if col not in row:
                raise KeyError(f"benchmark {bench!r}: the source has no column {col!r} (it has {sorted(row)})")
        problem = str(row[problem_col])
        if options and row.get(options):
            problem = f"{problem}\n{row[options]}"
        hit = next((s for s in drop_if_contains or [] if s in problem), None)
        if hit is not None:
            dropped[f"contains {hit!r}"] = dropped.get(f"contains {hit!r}", 0) + 1
            continue
        answer = str(row[answer_col])
        try:
            normalize_gold(answer, form)
        except ValueError:
            dropped[f"gold not in form {form}"] = dropped.get(f"gold not in form {form}", 0) + 1
            continue
        kept.append({"id": _stable_id(bench, index, problem), "problem": problem, "answer": answer, "form": form})
    if limit is not None:
        dropped["beyond limit"] = max(len(kept) - limit, 0)
        kept = kept[:limit]
    if not kept:
        raise ValueError(f"benchmark {bench!r}: no item left (dropped: {dropped})")
    return kept, {"source_items": len(rows), "kept": len(kept), "dropped_by_reason": dropped}


def from_world(tasks: list[dict], limit: int | None = None) -> tuple[list[dict], dict]:
    """A held-out split of the synthetic world: its answers are plain numbers."""
    rows = [{"id": t["id"], "problem": t["problem"], "answer": t["answer"], "form": "plain"} for t in tasks]
    kept = rows[:limit] if limit is not None else rows
    return kept, {"source_items": len(rows), "kept": len(kept), "dropped_by_reason": {}}


def load_benchmark(bench: str, spec: dict) -> tuple[list[dict], dict]:
    """A benchmark from a local file or the hub, by its config entry."""
    read = load_rows(spec["source"], spec.get("subset"), spec.get("split", "test"))
    rows = select_where(read, spec.get("where"), spec["source"])
    kept, report = standardize(
        rows,
        bench,
        spec.get("form", "plain"),
        spec.get("columns", {}),
        spec.get("options"),
        spec.get("drop_if_contains"),
        spec.get("limit"),
    )
    if spec.get("where"):  # the rows read, before the filter; those it leaves out
        report = {**report, "source_items": len(read)}
        report["dropped_by_reason"] = {"where": len(read) - len(rows), **report["dropped_by_reason"]}
    return kept, report
