"""MATH train as one JSON Lines file with a ``level`` column, as config/paper.yaml reads it.

The MATH release (Hendrycks et al. 2021, github.com/hendrycks/math, MIT licence) unpacks to
``MATH/train/<subject>/<n>.json``, one problem per file with the fields ``problem``, ``level``
("Level 1" ... "Level 5"), ``type`` and ``solution``. Paper mode reads MATH train from one local
file, ``data/math_train.jsonl``: levels 4-5 are a hard-task pool (``hub_tasks.sources``), levels
1-3 part of stage 1's data (``training.stage1_data``), both selected by ``level``.

    guiding prepare-math-train MATH/train data/math_train.jsonl

writes one row per problem, ``{"id", "subject", "problem", "solution", "level", "type"}``, in a
fixed order (subject, then problem number), and prints the rows per level. A file without a
``problem``, ``solution`` or ``level`` stops it, naming the file. Rows whose level is not one of
"Level 1" ... "Level 5" (the release has a few "Level ?") are kept: neither selection takes them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from ..core.io import write_jsonl

FIELDS = ("problem", "solution", "level")


def _number(path: Path) -> tuple[int, str]:
    return (int(path.stem), path.stem) if path.stem.isdigit() else (sys.maxsize, path.stem)


def read_release(train_dir: Path) -> list[dict]:
    """Every problem under ``train_dir`` (``<subject>/<n>.json``) as a row, in a fixed order."""
    if not train_dir.is_dir():
        raise FileNotFoundError(f"{train_dir}: no such directory (the release's train/ folder)")
    rows = []
    for subject in sorted(p for p in train_dir.iterdir() if p.is_dir()):
        for path in sorted(subject.glob("*.json"), key=_number):
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except (UnicodeDecodeError, ValueError) as e:
                raise ValueError(f"{path}: not a JSON problem ({e})") from None
            missing = [f for f in FIELDS if not isinstance(record.get(f), str)]
            if missing:
                raise ValueError(f"{path}: no {', '.join(missing)}")
            rows.append(
                {
                    "id": f"{subject.name}/{path.stem}",
                    "subject": subject.name,
                    "problem": record["problem"],
                    "solution": record["solution"],
                    "level": record["level"],
                    "type": record.get("type", ""),
                }
            )
    if not rows:
        raise ValueError(f"{train_dir}: no <subject>/<n>.json problem files")
    return rows


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("train_dir", type=Path, help="the release's train/ folder (MATH/train)")
    parser.add_argument("out", type=Path, nargs="?", default=Path("data/math_train.jsonl"), help="the JSONL to write")


def run(args: argparse.Namespace) -> int:
    rows = read_release(args.train_dir)
    write_jsonl(args.out, rows)
    levels = Counter(row["level"] for row in rows)
    print(f"{args.out}: {len(rows)} problems")
    for level, count in sorted(levels.items()):
        print(f"  {level}: {count}")
    return 0
