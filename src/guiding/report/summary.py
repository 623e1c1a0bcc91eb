"""Print where a finished study's tables and figures are (the last thing `make run` does)."""

from __future__ import annotations

import sys
from pathlib import Path


def main(results: str = "results") -> int:
    root = Path(results)
    found = sorted([*root.glob("tables/*.md"), *root.glob("tables/*.csv"), *root.glob("figures/*.png")])
    if not found:
        print(f"no tables or figures under {root}/ yet: run `make run` first", file=sys.stderr)
        return 1
    print("Results (each table has a .provenance.json sidecar naming its inputs, config, code and packages):")
    for path in found:
        print(f"  {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
