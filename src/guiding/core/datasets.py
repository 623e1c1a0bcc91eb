"""Rows of a dataset, from a local file or the hub, the one loader that every stage uses.

A source is a local ``.jsonl``/``.json``/``.parquet``/``.csv`` file or a hub dataset id (with an
optional configuration ``subset`` and a ``split``), read with ``datasets``. ``where`` keeps rows
whose column holds one of the listed values (NuminaMath-CoT's ``source``, MATH's ``level``);
``column`` reads a field by a dotted path, so nested records (PRM800K's ``question.problem``)
map like flat ones.
"""

from __future__ import annotations

from pathlib import Path

# Local file suffix -> the datasets builder that reads it (artifacts.LOCAL_DATA_SUFFIXES, in order).
LOCAL_SUFFIXES = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv"}


def is_local(source: str) -> bool:
    return Path(source).suffix in LOCAL_SUFFIXES


def load_rows(source: str, subset: str | None = None, split: str = "train") -> list[dict]:
    """Every row of ``source``: a local file (its one split) or a hub dataset's ``split``."""
    from datasets import load_dataset

    if is_local(source):
        if not Path(source).is_file():
            raise FileNotFoundError(f"source {source!r}: no such file")
        dataset = load_dataset(LOCAL_SUFFIXES[Path(source).suffix], data_files=str(source), split="train")
    else:
        dataset = load_dataset(source, subset, split=split)
    return list(dataset)


def column(row: dict, path: str):
    """``row``'s field at a dotted ``path`` (``question.problem``); KeyError naming what the row has."""
    value = row
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            have = sorted(value) if isinstance(value, dict) else type(value).__name__
            raise KeyError(f"no column {path!r} (at {part!r} the row has {have})")
        value = value[part]
    return value


def keep_where(rows: list[dict], where: dict | None) -> list[dict]:
    """The rows whose ``where["column"]`` holds one of ``where["in"]`` (all rows without ``where``)."""
    if not where:
        return rows
    wanted = where["in"]
    return [r for r in rows if _get(r, where["column"]) in wanted]


def _get(row: dict, path: str):
    try:
        return column(row, path)
    except KeyError:
        return None
