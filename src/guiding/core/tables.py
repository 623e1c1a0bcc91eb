"""Writing a table as CSV and Markdown from one DataFrame, so both always agree."""

from __future__ import annotations

from pathlib import Path

from .io import write_text


def write_table(df, csv_path: str | Path, md_path: str | Path, title: str, float_digits: int = 2) -> None:
    write_text(csv_path, df.to_csv(index=False, float_format=f"%.{float_digits + 2}f", lineterminator="\n"))
    write_text(md_path, f"# {title}\n\n" + df.to_markdown(index=False, floatfmt=f".{float_digits}f") + "\n")
