"""Rows of a dataset, from a local file or the hub, the one loader that every stage uses.

A source is a local ``.jsonl``/``.json``/``.parquet``/``.csv`` file or a hub dataset id (with an
optional configuration ``subset`` and a ``split``), read with ``datasets``. ``where`` keeps rows
whose column holds one of the listed values (NuminaMath-CoT's ``source``, MATH's ``level``);
``column`` reads a field by a dotted path, so nested records (PRM800K's ``question.problem``)
map like flat ones.

A local file is checked before ``datasets`` reads it, so a bad file is named with its 1-based line
(an empty file, bytes that are not UTF-8, a JSON line that does not parse), and it is read through
a ``datasets`` cache keyed by its content (sha256): ``datasets`` keys local files by path and
modification time, so a file rewritten with its old time kept (``cp -p``, ``rsync -a``, ``tar``)
would otherwise be served as its old rows.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

# Local file suffix -> the datasets builder that reads it: a source with one of these is a local file.
LOCAL_SUFFIXES = {".jsonl": "json", ".json": "json", ".parquet": "parquet", ".csv": "csv"}


def is_local(source: str) -> bool:
    return Path(source).suffix in LOCAL_SUFFIXES


class DataFileError(ValueError):
    """A local data file that cannot be read as rows; the message names the file and the line."""


def fingerprint(path: str | Path) -> str:
    """The sha256 of a file's content."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_json_lines(path: Path) -> int:
    """Rows of a JSON Lines file; DataFileError naming the 1-based line of the first bad one."""
    rows = 0
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                where = f"{path}, line {number}"
                raise DataFileError(f"{where}: not UTF-8 (byte {raw[e.start]:#04x} at column {e.start + 1})") from None
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as e:
                raise DataFileError(f"{path}, line {number}: not a JSON line ({e})") from None
            if not isinstance(row, dict):
                raise DataFileError(f"{path}, line {number}: a JSON {type(row).__name__}, not an object (a row)")
            rows += 1
    return rows


def check_local_file(path: str | Path) -> None:
    """Refuse a local data file that is empty, not UTF-8 (text formats) or not well-formed JSON
    (JSON Lines, and .json that is no JSON document), naming the file and the 1-based line."""
    path = Path(path)
    if path.stat().st_size == 0:
        raise DataFileError(f"{path}: the file is empty (no rows)")
    if path.suffix == ".parquet":
        return
    data = path.read_bytes() if path.suffix != ".jsonl" else b""
    if path.suffix == ".json":
        try:
            json.loads(data.decode("utf-8"))
            return
        except (UnicodeDecodeError, ValueError):
            pass  # datasets reads a .json of JSON lines too: check it line by line
    if path.suffix in (".jsonl", ".json"):
        if not _check_json_lines(path):
            raise DataFileError(f"{path}: the file has no rows")
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise DataFileError(f"{path}, line {line}: not UTF-8 (byte {data[e.start]:#04x})") from None
    if not text.strip():
        raise DataFileError(f"{path}: the file has no rows")


def load_rows(source: str, subset: str | None = None, split: str = "train") -> list[dict]:
    """Every row of ``source``: a local file (its one split) or a hub dataset's ``split``."""
    if is_local(source):
        if not Path(source).is_file():
            raise FileNotFoundError(f"source {source!r}: no such file")
        check_local_file(source)
    import datasets
    from datasets import load_dataset

    if is_local(source):
        # datasets keys a local file's cache by path and mtime: a cache of its own per content instead.
        cache_dir = Path(datasets.config.HF_DATASETS_CACHE) / "guiding-local" / fingerprint(source)[:32]
        builder = LOCAL_SUFFIXES[Path(source).suffix]
        dataset = load_dataset(builder, data_files=str(source), split="train", cache_dir=str(cache_dir))
        if len(dataset) == 0:
            raise DataFileError(f"{source}: the file has no rows")
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


def select_where(rows: list[dict], where: dict | None, source: str) -> list[dict]:
    """``keep_where``, but a ``where`` column that no row has is an error naming the column and
    the columns the rows have (a typo would otherwise keep nothing, silently)."""
    if where and rows and not any(_has(r, where["column"]) for r in rows):
        have = sorted({key for r in rows for key in r})
        raise DataFileError(f"{source}: where.column {where['column']!r} is a column of no row (the rows have {have})")
    return keep_where(rows, where)


def _has(row: dict, path: str) -> bool:
    try:
        column(row, path)
    except KeyError:
        return False
    return True


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
