"""Whether the findings survive a second machine: two runs of one study compared verdict by verdict.

A second machine is emulated on one machine by running the study again under other CPU numerics
(``make verdict-stability``: ``ATEN_CPU_CAPABILITY=default`` selects PyTorch's non-vectorised
kernels, which round differently from the AVX2/AVX-512 ones). This command reads both runs'
``tables/findings.csv`` and, per comparison, prints both verdicts and intervals, whether they
contradict (one holds, the other is refuted) and whether each run's estimate lies inside the other
run's interval. It also reports, per training seed, whether the two runs' stage-1 weights differ:
if they do not, the second run repeated the first and says nothing about another machine.

    guiding verdict-stability results runs/second-numerics/results [--json]

Exit status 1 when a comparison holds in one run and is refuted in the other.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..artifacts import STAGE1_MODEL, fill
from ..core.io import sha256_file
from ..core.verdicts import HOLDS, REFUTED, unlabelled

KEY = ["finding", "benchmark", "a", "b"]
# The findings table's intervals: the unadjusted one and, where the table has it, the family-wise one.
INTERVALS = {"unadjusted": ("ci_low", "ci_high"), "family-wise": ("adj_ci_low", "adj_ci_high")}


def read_findings(results: Path):
    import pandas as pd

    path = results / "tables" / "findings.csv"
    if not path.exists():
        raise SystemExit(f"{path} is missing: build the findings table of that run first")
    table = pd.read_csv(path)
    missing = {*KEY, "diff_pts", "ci_low", "ci_high", "verdict"} - set(table.columns)
    if missing:
        raise SystemExit(f"{path} lacks the columns {sorted(missing)}")
    return table


def _rows(table) -> dict:
    """The table's rows keyed by (finding, benchmark, the pair in either order)."""
    return {(r["finding"], r["benchmark"], *sorted((r["a"], r["b"]))): r for r in table.to_dict(orient="records")}


def _flipped(row: dict) -> dict:
    """``row`` as b against a: finding 2 orients each pair by the step-wise ERs measured in its own
    run, so the other run may state the same pair the other way round."""
    row = {**row, "a": row["b"], "b": row["a"], "diff_pts": -row["diff_pts"]}
    for low, high in INTERVALS.values():
        if low in row:
            row[low], row[high] = -row[high], -row[low]
    word = unlabelled(row["verdict"])
    if word in (HOLDS, REFUTED):
        row["verdict"] = row["verdict"].replace(word, {HOLDS: REFUTED, REFUTED: HOLDS}[word], 1)
    return row


def compare_findings(first, second):
    """One row per comparison present in both tables: both runs' estimate, interval and verdict,
    whether they contradict and whether each estimate lies inside the other run's interval(s)."""
    import pandas as pd

    one, two = _rows(first), _rows(second)
    if set(one) != set(two):
        raise SystemExit(f"the runs compare different settings: only in one run {sorted(set(one) ^ set(two))}")
    rows = []
    for key, x in one.items():  # the first run's order and orientation: the headline benchmark first
        y = two[key] if two[key]["a"] == x["a"] else _flipped(two[key])
        row = {k: x[k] for k in KEY}
        row.update(
            {
                "diff_1": x["diff_pts"],
                "interval_1": f"[{x['ci_low']:+.1f}, {x['ci_high']:+.1f}]",
                "verdict_1": x["verdict"],
                "diff_2": y["diff_pts"],
                "interval_2": f"[{y['ci_low']:+.1f}, {y['ci_high']:+.1f}]",
                "verdict_2": y["verdict"],
                "same_verdict": x["verdict"] == y["verdict"],
                "contradiction": {unlabelled(x["verdict"]), unlabelled(y["verdict"])} == {HOLDS, REFUTED},
            }
        )
        if "adj_ci_low" in x and "adj_ci_low" in y:
            row["adjusted_1"] = f"[{x['adj_ci_low']:+.1f}, {x['adj_ci_high']:+.1f}]"
            row["adjusted_2"] = f"[{y['adj_ci_low']:+.1f}, {y['adj_ci_high']:+.1f}]"
        for name, (low, high) in INTERVALS.items():
            if low in x and low in y:
                row[f"each_inside_other_{name}"] = bool(
                    y[low] <= x["diff_pts"] <= y[high] and x[low] <= y["diff_pts"] <= x[high]
                )
        rows.append(row)
    return pd.DataFrame(rows)


def stage1_weights_differ(first: Path, second: Path) -> dict[int, bool]:
    """{training seed: whether the two runs' stage-1 weight files differ}, for the seeds both built."""
    stage1 = Path(fill(STAGE1_MODEL, seed=0)).parent.relative_to("results")  # models/stage1
    out = {}
    for model in sorted((first / stage1).glob("seed*")):
        other = second / stage1 / model.name
        weights = sorted(p.name for p in model.glob("*.safetensors"))
        if weights and other.is_dir():
            out[int(model.name.removeprefix("seed"))] = any(
                not (other / w).exists() or sha256_file(model / w) != sha256_file(other / w) for w in weights
            )
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("first", help="the first run's results folder (e.g. results)")
    parser.add_argument("second", help="the second run's results folder (e.g. runs/second-numerics/results)")
    parser.add_argument("--json", action="store_true", help="print the comparison as JSON")


def run(args: argparse.Namespace) -> int:
    first, second = Path(args.first), Path(args.second)
    table = compare_findings(read_findings(first), read_findings(second))
    weights = stage1_weights_differ(first, second)
    headline = table[table["benchmark"] == table["benchmark"].iloc[0]]
    summary = {
        "comparisons": len(table),
        "headline_benchmark": table["benchmark"].iloc[0],
        "headline_comparisons": len(headline),
        "headline_same_verdict": int(headline["same_verdict"].sum()),
        "contradictions": int(table["contradiction"].sum()),
        **{
            f"headline_each_inside_other_{name}": int(headline[f"each_inside_other_{name}"].sum())
            for name in INTERVALS
            if f"each_inside_other_{name}" in headline
        },
        "stage1_weights_differ": {str(seed): differ for seed, differ in weights.items()},
    }
    if args.json:
        print(json.dumps({"summary": summary, "comparisons": table.to_dict(orient="records")}, indent=1))
    else:
        print(table.to_markdown(index=False, floatfmt="+.1f"))
        print()
        for key, value in summary.items():
            print(f"{key}: {value}")
        if weights and not any(weights.values()):
            print("The stage-1 weights are identical: the second run repeated the first, not another machine.")
    return 1 if summary["contradictions"] else 0
