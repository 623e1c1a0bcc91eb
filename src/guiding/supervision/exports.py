"""Every supervision set in the formats that common trainers read.

- TRL: JSONL rows ``{"prompt", "completion"}`` (TRL's standard prompt-completion type), the prompt
  written in the student's template (``guiding.core.prompt_format``: "Problem:" ... "Solution:")
  and the completion the set's solution. No special tokens: the trainer adds its tokenizer's BOS
  and EOS, so completion-only loss falls on exactly the solution.
- LLaMA-Factory: the alpaca format, a JSON list of ``{"instruction", "input", "output"}`` (the
  problem, "", the solution; LLaMA-Factory's own ``template`` setting adds the chat markup), and
  one ``dataset_info.json`` in the same folder with an entry per set naming its file and columns.
"""

from __future__ import annotations

from pathlib import Path

from ..core.io import file_digest, write_json, write_jsonl
from ..core.prompt_format import prompt_and_completion

ALPACA_COLUMNS = {"prompt": "instruction", "query": "input", "response": "output"}


def trl_rows(items: list[dict]) -> list[dict]:
    rows = []
    for item in items:
        prompt, completion = prompt_and_completion(item["problem"], item["solution"])
        rows.append({"prompt": prompt, "completion": completion})
    return rows


def alpaca_rows(items: list[dict]) -> list[dict]:
    columns = ALPACA_COLUMNS
    return [{columns["prompt"]: i["problem"], columns["query"]: "", columns["response"]: i["solution"]} for i in items]


def dataset_info_entry(file: str | Path) -> dict:
    """LLaMA-Factory's description of one alpaca file; ``file_name`` is relative to dataset_info.json's
    folder (LLaMA-Factory's ``dataset_dir``), which holds every export."""
    return {
        "file_name": Path(file).name,
        "file_sha1": file_digest(file, "sha1"),
        "formatting": "alpaca",
        "columns": dict(ALPACA_COLUMNS),
    }


def write_trl(path: str | Path, items: list[dict]) -> None:
    write_jsonl(path, trl_rows(items))


def write_alpaca(path: str | Path, items: list[dict]) -> None:
    write_json(path, alpaca_rows(items))


def write_dataset_info(path: str | Path, exports: dict[str, str]) -> None:
    """``dataset_info.json`` with an entry per set (name -> its alpaca file, in the same folder)."""
    folder = Path(path).parent.resolve()
    for name, file in exports.items():
        if Path(file).parent.resolve() != folder:
            raise ValueError(f"export of set {name!r} at {file} is not beside {path} (LLaMA-Factory's dataset_dir)")
    write_json(path, {name: dataset_info_entry(file) for name, file in sorted(exports.items())})
