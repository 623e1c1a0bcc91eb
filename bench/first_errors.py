"""What the embedded student's wrong answers get wrong: each wrong held-out answer classified by
its first wrong step (guiding.world.program.first_error), per model and training seed.

    python bench/first_errors.py [--results results] [--bench eval_hard] MODEL [MODEL ...]
    python bench/first_errors.py --results runs/variance/baseline/results stage1 stage2-hard-main-er0

A kind is suffixed with the step's true operation where it matters (`operation copied wrong (*)`:
the student wrote another operation where the problem states a product). Variable names are not
checked: they never reach the answer.
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from guiding.core.io import read_jsonl  # noqa: E402
from guiding.world.program import Program, first_error  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+", help="evaluated models, e.g. stage1 stage2-hard-main-er0")
    parser.add_argument("--results", default="results")
    parser.add_argument("--bench", default="eval_hard")
    args = parser.parse_args()
    results = Path(args.results)
    task_file = results / "data" / "tasks" / f"{args.bench}.jsonl"
    tasks = {t["id"]: Program.from_dict(t["program"]) for t in read_jsonl(task_file)}
    for model in args.models:
        for graded in sorted((results / "eval" / model).glob(f"seed*/{args.bench}.graded.jsonl")):
            kinds: collections.Counter = collections.Counter()
            rows = read_jsonl(graded)
            for row in rows:
                if row["correct"]:
                    continue
                kind, op = first_error(tasks[row["task_id"]], row["output"])
                kinds[f"{kind} ({op})" if op else kind] += 1
            right = sum(r["correct"] for r in rows)
            print(f"{model} {graded.parent.name}: {right}/{len(rows)} right; wrong: {dict(kinds.most_common())}")


if __name__ == "__main__":
    main()
