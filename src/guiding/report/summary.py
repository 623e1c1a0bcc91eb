"""Print where a finished study's tables and figures are, and the verdicts of its findings on the
headline benchmark (the last thing `make run` does)."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from ..artifacts import FINDINGS, TABLE, fill


def headline_findings(path: Path) -> list[str]:
    """One line per finding on the first benchmark of the findings table: the claim, the two
    settings, the difference with the interval that goes with its verdict (Holm-adjusted; a table
    built before the adjustment has only the one interval) and the verdict."""
    with open(path) as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return []
    headline = rows[0]["benchmark"]
    low, high = ("adj_ci_low", "adj_ci_high") if "adj_ci_low" in rows[0] else ("ci_low", "ci_high")
    return [
        f"  ({r['finding']}) {r['a']} vs {r['b']}: {float(r['diff_pts']):+.1f} points "
        f"[{float(r[low]):+.1f}, {float(r[high]):+.1f}] over {r['seeds']} seed(s): {r['verdict']}"
        for r in rows
        if r["benchmark"] == headline
    ]


def main(results: str = "results") -> int:
    root = Path(results)
    found = sorted([*root.glob("tables/*.md"), *root.glob("tables/*.csv"), *root.glob("figures/*.png")])
    if not found:
        print(f"no tables or figures under {root}/ yet: run `make run` first", file=sys.stderr)
        return 1
    print("Results (each table has a .provenance.json sidecar naming its inputs, config, code and packages):")
    for path in found:
        print(f"  {path}")
    findings = root / Path(fill(TABLE, table=FINDINGS, ext="csv")).relative_to("results")
    if findings.is_file() and (lines := headline_findings(findings)):
        print(
            "Findings on the headline benchmark (a vs b: a - b [interval, Holm-adjusted within the benchmark], "
            f"verdict; {findings.with_suffix('.md')}):"
        )
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:]))
