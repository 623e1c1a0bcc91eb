"""Write sat_math.jsonl from AGIEval's sat-math.jsonl: ``python make_sat_math.py <sat-math.jsonl>``.

AGIEval holds each item as ``{passage, question, options: ["(A)...", ...], label, other: {solution}}``;
the benchmark reader takes a question, an options column appended to it, and a letter answer, as
in ``tests/test_benchmarks.py``: ``{id, question, options: "A) ... B) ...", Answer, solution}``.
The passage (empty for most items) goes before the question, as AGIEval's own prompts put it.
"""

import json
import re
import sys
from pathlib import Path

OPTION = re.compile(r"^\(([A-E])\)\s*(.*)$", re.S)


def convert(item: dict, index: int) -> dict:
    options = []
    for option in item["options"]:
        letter, text = OPTION.match(option.strip()).groups()
        options.append(f"{letter}) {text.strip()}")
    question = item["question"].strip()
    if item.get("passage"):
        question = f"{item['passage'].strip()}\n{question}"
    solution = (item.get("other") or {}).get("solution")
    return {
        "id": str(index),
        "question": question,
        "options": " ".join(options),
        "Answer": item["label"],
        "solution": solution,
    }


def main(source: str) -> None:
    lines = [line for line in Path(source).read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [convert(json.loads(line), i) for i, line in enumerate(lines)]
    out = Path(__file__).with_name("sat_math.jsonl")
    out.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    print(f"{len(rows)} items -> {out}")


if __name__ == "__main__":
    main(sys.argv[1])
