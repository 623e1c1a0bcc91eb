"""Writing a table as CSV and Markdown from one DataFrame, so both always agree."""

from __future__ import annotations

from pathlib import Path

from .io import write_text


def write_table(
    df, csv_path: str | Path, md_path: str | Path, title: str, float_digits: int = 2, caption: str = ""
) -> None:
    """The CSV holds the data alone; the Markdown a title, the ``caption`` (how to read the
    numbers) and the table."""
    write_text(csv_path, df.to_csv(index=False, float_format=f"%.{float_digits + 2}f", lineterminator="\n"))
    head = f"# {title}\n\n" + (f"{caption}\n\n" if caption else "")
    write_text(md_path, head + df.to_markdown(index=False, floatfmt=f".{float_digits}f") + "\n")
