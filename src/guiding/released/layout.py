"""What the released data's readers, importer and exporters share: the dataset's folders and keys,
the tally of what could not be read, reading a file's records, and the checks of a record's fields."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..llm.parsers import written_steps

DATASET = "hexuan21/weak-to-strong"
FOLDERS = ("task_sol_pairs", "weaker_sampling", "paraphrase", "test_data")
DATA_SUFFIXES = (".json", ".jsonl")
EXTENSION = "guiding"  # our key inside an exported pair: what the authors' layout has no key for
RELEASED_SOURCE = "released"  # a pair side's ``source`` when the released data gave no other
SUBTASK_KEY = re.compile(r"subtask_(\d+)")
SAMPLE_KEY = re.compile(r"sample(\d+)")
JUDGE_KEY = re.compile(r"judge(\d+)")
JUDGE_LABELS = ("authors", "graded")  # which verdict decides a weaker-teacher sample's side


class ReleasedDataError(ValueError):
    """A released file that cannot be imported at all (named with its first bad record)."""


@dataclass
class Tally:
    """What the import could not read (``dropped``) or read with a caveat (``noted``), by file and reason."""

    dropped: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    noted: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    first_dropped: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Per file, where its first dropped record is and why (a file that fits no layout names it)."""

    def drop(self, file: str, reason: str, where: str | None = None) -> None:
        self.dropped[file][reason] += 1
        if where is not None:
            self.first_dropped.setdefault(file, (where, reason))

    def note(self, file: str, reason: str) -> None:
        self.noted[file][reason] += 1

    def summary(self) -> dict:
        def totals(by_file):
            return dict(sorted(sum(by_file.values(), Counter()).items()))

        return {
            "dropped": totals(self.dropped),
            "dropped_by_file": {f: dict(sorted(c.items())) for f, c in sorted(self.dropped.items()) if c},
            "noted": totals(self.noted),
            "noted_by_file": {f: dict(sorted(c.items())) for f, c in sorted(self.noted.items()) if c},
        }


def read_records(path: Path, name: str, tally: Tally) -> list[tuple[str, object]]:
    """The records of a JSON list or JSONL file, each with where it is (``record i`` / ``line n``).

    A JSONL line that is not UTF-8 or not JSON is counted and skipped; a JSON list must parse whole.
    """
    data = path.read_bytes()
    if data.lstrip()[:1] == b"[":
        try:
            rows = json.loads(data.decode("utf-8"))
        except UnicodeDecodeError as e:
            raise ReleasedDataError(f"{name}: not UTF-8 at byte {e.start}") from None
        except json.JSONDecodeError as e:
            raise ReleasedDataError(f"{name}: not a JSON list ({e})") from None
        return [(f"record {i}", row) for i, row in enumerate(rows)]
    records = []
    for number, raw in enumerate(data.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            records.append((f"line {number}", json.loads(raw.decode("utf-8"))))
        except UnicodeDecodeError:
            tally.drop(name, "not_utf8")
        except json.JSONDecodeError:
            tally.drop(name, "not_json")
    return records


def data_files(root: Path, folder: str, subfolders: list[str] | None = None) -> list[Path]:
    """The data files of ``root/folder`` (of the given subfolders only, when named), sorted."""
    base = root / folder
    if not base.is_dir():
        return []
    if subfolders is None:
        return sorted(p for p in base.rglob("*") if p.is_file() and p.suffix in DATA_SUFFIXES)
    return sorted(p for sub in subfolders for p in (base / sub).rglob("*") if p.is_file() and p.suffix in DATA_SUFFIXES)


def check_file(name: str, records: list, kept: int, first_bad: tuple[str, str] | None) -> None:
    """A file with records of which none fits its layout is no file of that layout: refuse it."""
    if records and not kept:
        where, reason = first_bad or ("record 0", "unknown")
        raise ReleasedDataError(
            f"{name}: no record fits the layout of its folder; the first bad one is {where}: {reason}"
        )


def text(obj: dict, key: str) -> tuple[str | None, str | None]:
    """``obj[key]`` when it is a non-empty text, else None and why."""
    if key not in obj:
        return None, f"missing_{key}"
    value = obj[key]
    if not isinstance(value, str):
        return None, f"{key}_not_text"
    if not value.strip():
        return None, f"empty_{key}"
    return value, None


def ori_id(record: dict) -> tuple[str | None, str | None]:
    value = record.get("ori_id")
    if value is None:
        return None, "missing_ori_id"
    if not isinstance(value, str | int) or isinstance(value, bool) or str(value) == "":
        return None, "bad_ori_id"
    return str(value), None


def unknown_steps(solution: str) -> list[None]:
    """A released solution's step verdicts: one None per written step (no step was judged)."""
    return [None] * written_steps(solution)


class UnknownStepJudge:
    """The released data judged no step: one None per written step (the reference included)."""

    def judge_steps(self, task: dict, solution: str) -> list[None]:
        return unknown_steps(solution)
