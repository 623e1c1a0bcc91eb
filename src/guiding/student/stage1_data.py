"""Stage 1's easy-problem set, built from its sources with the benchmarks' problems removed.

Sources are a list (config ``training.stage1_data.sources``): ``world`` (the synthetic world's
``train_easy`` split, the embedded default) or a local file / hub dataset read with
``datasets``, with a column mapping and an optional row filter (NuminaMath-CoT's ``source`` ==
``orca_math``; MATH's ``level`` in Levels 1-3). Decontamination removes every training problem
that equals a benchmark problem after normalisation (case, spacing, punctuation other than
operators) and, with
``ngram`` > 0, every one that shares an ``ngram``-word sequence with a benchmark problem; the
report counts the removed items per source and reason.
"""

from __future__ import annotations

import re

from ..core.datasets import column, load_rows, select_where

# Words and numbers, and the operators between them: "x + 4" and "x - 4" are different problems.
_TOKEN = re.compile(r"[0-9a-z]+|[-+*/=<>^]")


def normalize(text: str) -> str:
    """``text`` as its lower-case words, numbers and operators, one space apart (case, spacing and
    other punctuation, such as ``$`` and ``?``, do not make two problems differ)."""
    return " ".join(_TOKEN.findall(text.lower()))


def ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    words = normalize(text).split()
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def _rows_of(source: dict) -> tuple[list[dict], int]:
    """The source's rows that its ``where`` keeps, in our fields; and the rows read."""
    path = source["source"]
    read = load_rows(path, source.get("subset"), source.get("split", "train"))
    rows = select_where(read, source.get("where"), path)
    columns = source.get("columns", {})
    problem, solution = columns.get("problem", "problem"), columns.get("solution", "solution")
    name = source.get("name", path)
    return [
        {
            "id": f"{name}-{i:06d}",
            "problem": str(column(r, problem)),
            "solution": str(column(r, solution)),
            "source": name,
        }
        for i, r in enumerate(rows)
    ], len(read)


def decontaminate(rows: list[dict], benchmark_problems: list[str], ngram: int) -> tuple[list[dict], dict]:
    """``rows`` without the benchmarks' problems; counts of what was removed, by reason."""
    exact = {normalize(p) for p in benchmark_problems}
    grams = set().union(*(ngrams(p, ngram) for p in benchmark_problems)) if ngram else set()
    kept, removed = [], {"same_problem": 0, f"shared_{ngram}gram": 0} if ngram else {"same_problem": 0}
    for row in rows:
        if normalize(row["problem"]) in exact:
            removed["same_problem"] += 1
        elif ngram and ngrams(row["problem"], ngram) & grams:
            removed[f"shared_{ngram}gram"] += 1
        else:
            kept.append(row)
    return kept, removed


def build(sources: list[dict], world_rows: list[dict] | None, benchmark_problems: list[str], ngram: int):
    """The stage-1 rows from every source in order, decontaminated; and the report."""
    rows, report = [], {"sources": {}, "benchmark_problems": len(benchmark_problems)}
    for source in sources:
        got, read = (list(world_rows or []), None) if source["source"] == "world" else _rows_of(source)
        kept, removed = decontaminate(got, benchmark_problems, ngram)
        counts = {"read": len(got), "kept": len(kept)}
        if source.get("where"):  # rows read, before the filter; those it leaves out
            counts = {"read": read, "kept": len(kept), "where": read - len(got)}
        report["sources"][source.get("name", source["source"])] = {**counts, **removed}
        rows += kept
    if not rows:
        raise ValueError(f"training.stage1_data: no training item left ({report})")
    report["items"] = len(rows)
    return rows, report
