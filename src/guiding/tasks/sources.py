"""Paper mode's hard-task pool: problems with reference solutions from datasets, pre-filtered.

The paper's pools are MATH train levels 4-5, NuminaMath-CoT's cn_k12, synthetic_math and
synthetic_amc subsets, and PRM800K's problems; each is a source of config ``hub_tasks.sources``
(a hub id or a local file, with ``where`` and a column mapping; see ``guiding.core.datasets``).

Every row read is counted; a row that the source's ``where`` leaves out is counted as ``where``.
Every record then passes the paper's pre-filters, in this order, and a dropped record is counted
under the first reason that drops it (so the counts add up to the rows read):

- ``no_reference``: an empty problem or solution, or no answer (mapped column or last box);
- ``problem_too_long`` / ``solution_too_long``: more characters than ``max_problem_chars`` /
  ``max_solution_chars`` (null: no bound), before any other filter reads the text;
- ``duplicate``: the same problem as a record kept before (PRM800K lists a problem many times);
- ``mentions_figure``: the problem or solution names a figure word (``figure_words``, whole words,
  any case, plural too): the text refers to something the model cannot see;
- ``asy``: an ``[asy]`` drawing;
- ``url``: a web address;
- ``multi_part``: the problem asks several questions, marked (1)/(2), (a)/(b), (I)/(II) or a)/b);
- ``non_english``: more than ``max_foreign_letters`` of the problem's or the solution's letters
  are outside the Latin and Greek scripts;
- ``reference_too_short`` / ``reference_too_long``: the reference's length picks the number of
  subtasks (``subtasks``): under ``min_tokens`` skip, up to ``two_up_to`` 2, up to ``three_up_to``
  3, longer skip. Tokens are counted as characters / ``chars_per_token``.

The source fills the ``train_hard`` split; the other splits stay empty (paper mode's stage-1 data
and benchmarks have rules of their own).
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections import Counter

from ..answers import extract_answer
from ..artifacts import SPLITS
from ..core.datasets import column, load_rows, select_where

_URL = re.compile(r"https?://|www\.[a-z0-9-]+\.[a-z]", re.IGNORECASE)
_ASY = re.compile(r"\[asy\]", re.IGNORECASE)
# Two consecutive part markers of one style, each standing alone: (1) ... (2), (a) ... (b),
# (I) ... (II), full-width brackets too; a function value such as f(2) does not count.
_PART_STYLES = (("1", "2"), ("a", "b"), ("I", "II"), ("i", "ii"))
_OPEN, _CLOSE = r"[(（]", r"[)）]"
_LETTER = re.compile(r"[^\W\d_]")

REASONS = (
    "where",
    "no_reference",
    "problem_too_long",
    "solution_too_long",
    "duplicate",
    "mentions_figure",
    "asy",
    "url",
    "multi_part",
    "non_english",
    "reference_too_short",
    "reference_too_long",
)


def is_multi_part(problem: str) -> bool:
    """Whether ``problem`` has two consecutive part markers of one style: "(1) ... (2)" and the like,
    in brackets that stand alone, or "a)" / "b)" at the start of a line (a list "1." / "2." of
    conditions is one question)."""
    for first, second in _PART_STYLES:
        marks = [rf"(?<![\w)\]])\s*{_OPEN}\s*{m}\s*{_CLOSE}" for m in (first, second)]
        if all(re.search(mark, problem) for mark in marks):
            return True
        lines = [rf"(?m)^\s*{m}\)\s" for m in (first, second)]
        if all(re.search(line, problem) for line in lines):
            return True
    return False


def foreign_letter_share(text: str) -> float:
    """The share of ``text``'s letters outside the Latin and Greek scripts (Chinese, Cyrillic, ...):
    Greek letters are mathematics (an angle α), accented names (Erdős) are Latin."""
    letters = _LETTER.findall(text)
    foreign = sum(not (c.isascii() or unicodedata.name(c, "").startswith(("LATIN", "GREEK"))) for c in letters)
    return foreign / len(letters) if letters else 0.0


def subtask_count(reference: str, lengths: dict) -> tuple[int | None, int]:
    """(2, 3 or None to skip, the reference's tokens) by the reference's length."""
    tokens = math.ceil(len(reference) / lengths["chars_per_token"])
    if tokens < lengths["min_tokens"] or tokens > lengths["three_up_to"]:
        return None, tokens
    return (2 if tokens <= lengths["two_up_to"] else 3), tokens


def _figure_pattern(words: list[str]) -> re.Pattern | None:
    if not words:
        return None
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")(?:s|es)?\b", re.IGNORECASE)


def _normalized(text: str) -> str:
    return " ".join(text.lower().split())


def drop_reason(problem: str, solution: str, prefilter: dict, figure: re.Pattern | None) -> str | None:
    """The first pre-filter that drops the record (see the module's list), or None: it passes the
    content filters (the length and duplicate checks come after)."""
    text = f"{problem}\n{solution}"
    if figure is not None and figure.search(text):
        return "mentions_figure"
    if prefilter["drop_asy"] and _ASY.search(text):
        return "asy"
    if prefilter["drop_urls"] and _URL.search(text):
        return "url"
    if prefilter["drop_multi_part"] and is_multi_part(problem):
        return "multi_part"
    if max(foreign_letter_share(problem), foreign_letter_share(solution)) > prefilter["max_foreign_letters"]:
        return "non_english"
    return None


def prefilter_records(records: list[dict], prefilter: dict, seen: set[str]) -> tuple[list[dict], Counter]:
    """The records (``problem``, ``solution``, ``answer``) that pass every pre-filter, each with its
    ``n_subtasks`` and ``reference_tokens``; the dropped ones counted by reason. ``seen`` holds the
    normalized problems kept so far (across sources) and grows."""
    figure = _figure_pattern(prefilter["figure_words"])
    kept, dropped = [], Counter()
    for record in records:
        problem, solution, answer = record["problem"].strip(), record["solution"].strip(), record["answer"]
        if not problem or not solution or not answer:
            dropped["no_reference"] += 1
            continue
        if (longest := prefilter.get("max_problem_chars")) is not None and len(problem) > longest:
            dropped["problem_too_long"] += 1
            continue
        if (longest := prefilter.get("max_solution_chars")) is not None and len(solution) > longest:
            dropped["solution_too_long"] += 1
            continue
        if _normalized(problem) in seen:
            dropped["duplicate"] += 1
            continue
        reason = drop_reason(problem, solution, prefilter, figure)
        parts, tokens = subtask_count(solution, prefilter["reference_tokens"])
        if reason is None and parts is None:
            reason = (
                "reference_too_short" if tokens < prefilter["reference_tokens"]["min_tokens"] else "reference_too_long"
            )
        if reason is not None:
            dropped[reason] += 1
            continue
        seen.add(_normalized(problem))
        kept.append(
            {**record, "problem": problem, "solution": solution, "n_subtasks": parts, "reference_tokens": tokens}
        )
    return kept, dropped


def records_of(source: dict) -> tuple[list[dict], int]:
    """A source's rows as records ``problem``, ``solution``, ``answer`` (the mapped answer column,
    else the reference's last box; "" when neither), those its ``where`` keeps; and the rows read."""
    read = load_rows(source["source"], source.get("subset"), source.get("split", "train"))
    rows = select_where(read, source.get("where"), source["source"])
    columns = source.get("columns", {})
    problem_col, solution_col = columns.get("problem", "problem"), columns.get("solution", "solution")
    answer_col = columns.get("answer")
    records = []
    for row in rows:
        solution = column(row, solution_col)
        solution = "" if solution is None else str(solution)
        answer = column(row, answer_col) if answer_col else extract_answer(solution)
        problem = column(row, problem_col)
        records.append(
            {
                "problem": "" if problem is None else str(problem),
                "solution": solution,
                "answer": "" if answer is None else str(answer),
            }
        )
    return records, len(read)


def _task_id(source_name: str, problem: str) -> str:
    """Stable across reorderings of the source: a hash of the problem, prefixed by the source."""
    return f"{source_name}-{hashlib.sha256(_normalized(problem).encode()).hexdigest()[:12]}"


class HubTaskSource:
    """The hard-task pool from the configured sources (``hub_tasks``), pre-filtered.

    ``filter_report`` holds, after :meth:`splits`, per source: records read, kept, dropped by reason,
    and the kept tasks' numbers of subtasks.
    """

    def __init__(self, sources: list[dict], prefilter: dict):
        self.sources, self.prefilter = sources, prefilter
        self.filter_report: dict = {}

    def splits(self) -> dict[str, list[dict]]:
        pool, seen, report = [], set(), {}
        for source in self.sources:
            name = source.get("name", source["source"])
            records, read = records_of(source)
            kept, dropped = prefilter_records(records, self.prefilter, seen)
            dropped["where"] += read - len(records)
            limit = source.get("limit")
            if limit is not None and len(kept) > limit:
                dropped["beyond_limit"] += len(kept) - limit
                for extra in kept[limit:]:
                    seen.discard(_normalized(extra["problem"]))
                kept = kept[:limit]
            report[name] = {
                "read": read,
                "kept": len(kept),
                "dropped_by_reason": {r: dropped[r] for r in (*REASONS, "beyond_limit") if dropped[r]},
                "subtasks": {str(n): sum(t["n_subtasks"] == n for t in kept) for n in (2, 3)},
            }
            pool += [{"id": _task_id(name, t["problem"]), "kind": "hard", "source": name, **t} for t in kept]
        if not pool:
            raise ValueError(f"hub_tasks: no task passed the pre-filters ({report})")
        self.filter_report = {"sources": report, "tasks": len(pool)}
        return {split: pool if split == "train_hard" else [] for split in SPLITS}
