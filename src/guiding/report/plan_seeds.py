"""How many training seeds each inconclusive comparison of the findings table would need.

For each comparison of results/tables/findings.csv it reads both settings' graded predictions
(results/eval/<model>/seed<s>/<bench>.graded.jsonl), pairs them by seed and item, and estimates the
variance components of the difference: the SD over seeds of the per-seed mean difference, its
seed-level part (item luck taken out) and the within-seed SD of the per-item differences. From them,
taking the observed spread (and, for power, the observed difference) as the truth: the fewest seeds
whose t interval over per-seed means (guiding.core.verdicts) is expected to be at most
``--half-width`` points on each side, and the fewest that decide the sign of the observed difference
with ``--power``. Each seed is a whole replicate (its own stage 1 and stage-2 runs), so the spread
includes stage 1's draw and a comparison with stage 1 is paired by seed like any other. A verdict of
a one-seed table ("inconclusive (items only)") counts as inconclusive.

    guiding plan-seeds [--results results] [--half-width 5] [--power 0.8] [--all]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..artifacts import BASELINE, EVAL_SEED, stage2_model
from ..config import load_config
from ..core.io import read_jsonl
from ..core.paths import CHECKOUT
from ..core.verdicts import INCONCLUSIVE, per_seed_t_interval, plan_seeds, sd_upper_bound_scale, unlabelled
from .scores import correctness_matrix, item_scores

MAX_SEEDS = 1000
SD_BOUND = 0.8  # the one-sided confidence of the seed SD's upper bound in the cautious count


def _count(seeds: int | None) -> str:
    return f"> {MAX_SEEDS}" if seeds is None else str(seeds)


def read_setting(results: Path, model: str, bench: str) -> dict[int, dict[str, float]]:
    """{training seed: {task_id: score}} of ``model`` on ``bench`` from its graded predictions."""
    by_seed = {}
    for path in sorted((results / "eval" / model).glob(f"seed*/{bench}.graded.jsonl")):
        by_eval_seed: dict[int | None, dict[str, bool]] = {}
        for row in read_jsonl(path):
            by_eval_seed.setdefault(row.get(EVAL_SEED), {})[row["task_id"]] = bool(row["correct"])
        by_seed[int(path.parent.name.removeprefix("seed"))] = by_eval_seed
    if not by_seed:
        raise FileNotFoundError(f"no graded predictions of {model} on {bench} under {results / 'eval' / model}")
    return item_scores(by_seed)


def comparison_matrix(results: Path, a: str, b: str, bench: str):
    """Seeds x items of the per-item differences a - b, paired by seed and item, and the seeds."""
    model = {name: name if name == BASELINE else stage2_model(name) for name in (a, b)}
    scores_a, scores_b = read_setting(results, model[a], bench), read_setting(results, model[b], bench)
    if sorted(scores_a) != sorted(scores_b):
        raise ValueError(
            f"{a} and {b} on {bench} were trained with different seeds: {sorted(scores_a)}, {sorted(scores_b)}"
        )
    seeds = sorted(scores_a)
    return correctness_matrix(scores_a, seeds) - correctness_matrix(scores_b, seeds), seeds


def plan_table(
    findings,
    results: Path,
    benches: dict[str, str],
    *,
    half_width: float,
    power: float,
    confidence: float,
    everything: bool = False,
):
    """One row per comparison of ``findings`` (the findings table; only the inconclusive ones unless
    ``everything``); ``benches`` maps the table's benchmark labels to benchmarks. Points throughout."""
    import pandas as pd

    family_size = findings["benchmark"].value_counts()  # Holm's families: the comparisons of a benchmark
    rows = []
    for _, row in findings.iterrows():
        if not everything and unlabelled(row["verdict"]) != INCONCLUSIVE:
            continue
        bench = benches[row["benchmark"]]
        diff, seeds = comparison_matrix(results, row["a"], row["b"], bench)
        interval = per_seed_t_interval(diff, confidence)
        out = {
            "finding": row["finding"],
            "benchmark": row["benchmark"],
            "a": row["a"],
            "b": row["b"],
            "verdict (table)": row["verdict"],
            "seeds": len(seeds),
            "diff_pts": 100 * interval.diff,
            "t_low": 100 * interval.low,
            "t_high": 100 * interval.high,
            "t_scope": interval.scope,
        }
        half_column, power_column = f"seeds_for_±{half_width:g}", f"seeds_for_{power:.0%}_power"
        family_column = f"{power_column}_in_family"
        bound_column = f"{family_column}_if_sd_at_upper_{SD_BOUND:.0%}"
        if len(seeds) < 2:  # no seed spread to estimate: one more seed first
            columns = (half_column, power_column, family_column, bound_column)
            out.update({column: "2 (to measure)" for column in columns})
        else:
            plan = plan_seeds(
                diff, half_width=half_width / 100, power=power, confidence=confidence, max_seeds=MAX_SEEDS
            )
            # The table decides at Holm's level within the benchmark's family of m comparisons, which
            # is never stricter than Bonferroni's, 1 - confidence over m: planned at that level, the
            # count is enough for the adjusted verdict too.
            family_alpha = (1 - confidence) / family_size[row["benchmark"]]
            in_family = plan_seeds(diff, half_width=1.0, power=power, confidence=1 - family_alpha, max_seeds=MAX_SEEDS)
            # The same if the seeds' spread is as large as its upper bound: an SD from few seeds is
            # itself uncertain (2 degrees of freedom at 3 seeds), and more seeds often show more.
            cautious = plan_seeds(
                diff,
                half_width=1.0,
                power=power,
                confidence=1 - family_alpha,
                max_seeds=MAX_SEEDS,
                sd_scale=sd_upper_bound_scale(len(seeds), SD_BOUND),
            )
            out.update(
                {
                    "seed_sd_pts": 100 * plan.seed_sd,
                    "seed_component_sd_pts": 100 * plan.seed_component_sd,
                    "item_sd_pts": 100 * plan.item_sd,
                    half_column: _count(plan.seeds_for_half_width),
                    power_column: _count(plan.seeds_for_power),
                    family_column: _count(in_family.seeds_for_power),
                    bound_column: _count(cautious.seeds_for_power),
                }
            )
        rows.append(out)
    return pd.DataFrame(rows)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--results", default="results", help="the built results folder (default results)")
    parser.add_argument("--configfile", default="config/config.yaml", help="the study's config")
    parser.add_argument("--half-width", type=float, default=5.0, help="target interval half-width in points")
    parser.add_argument("--power", type=float, default=0.8, help="target power to decide the observed sign")
    parser.add_argument("--all", action="store_true", help="every comparison, not only the inconclusive ones")


def run(args: argparse.Namespace) -> None:
    import pandas as pd

    config = load_config(args.configfile, CHECKOUT)
    results = Path(args.results)
    findings_csv = results / "tables" / "findings.csv"
    if not findings_csv.exists():
        raise SystemExit(f"{findings_csv} is missing: build the findings table first (snakemake {findings_csv})")
    findings = pd.read_csv(findings_csv)
    missing = {"finding", "a", "b", "benchmark", "verdict"} - set(findings.columns)
    if missing:
        raise SystemExit(f"{findings_csv} lacks the columns {sorted(missing)}")
    benches = {spec["label"]: bench for bench, spec in config["evaluation"]["benchmarks"].items()}
    unknown = set(findings["benchmark"]) - set(benches)
    if unknown:
        raise SystemExit(f"{findings_csv}: benchmarks {sorted(unknown)} are not in {args.configfile}")
    table = plan_table(
        findings,
        results,
        benches,
        half_width=args.half_width,
        power=args.power,
        confidence=config["evaluation"]["confidence"],
        everything=args.all,
    )
    if table.empty:
        print("No inconclusive comparison: every verdict is decided (--all lists them all).")
        return
    print(table.to_markdown(index=False, floatfmt=".1f"))
    print(
        f"\nt interval over per-seed mean differences ({config['evaluation']['confidence']:.0%}); "
        f"seeds_for_±{args.half_width:g}: fewest seeds whose expected half-width is at most {args.half_width:g} "
        f"points; seeds_for_{args.power:.0%}_power: fewest seeds that decide the observed difference's sign with "
        f"{args.power:.0%} power if it were true (> 1000: more than 1000, or no difference observed), at the "
        "interval's own level; _in_family: the same at the level of the benchmark's family (1 - confidence over "
        "its comparisons, Bonferroni's, which Holm's adjusted verdict never needs more than); _if_sd_at_upper_80%: "
        "the same if the seed SD were at its one-sided 80% upper confidence bound. The seed "
        "spread is estimated from the seeds built, each a whole replicate (stage 1 included)."
    )
