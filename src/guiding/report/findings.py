"""The findings table: the paper's claims as comparisons fixed in advance (``claimed_comparisons``),
each with the difference paired by seed and item, its t interval over the per-seed mean differences
(``guiding.core.verdicts``), Holm's adjustment within each benchmark's family of comparisons, and a
verdict decided by the adjusted p-value, by the rule in the table's caption."""

from __future__ import annotations

import json
from pathlib import Path

from ..artifacts import BASELINE, stage2_model
from ..config import claimed_comparisons, stage2_runs
from ..core.calibration import read_summary
from ..core.provenance.sidecar import write_provenance
from ..core.tables import write_table
from ..core.verdicts import (
    adjusted_t_interval,
    holm_adjust,
    labelled,
    per_seed_t_interval,
    verdict_of,
)
from .scores import (
    benchmark_labels,
    correctness_matrix,
    eval_seed_caption,
    item_scores,
    read_graded,
    seed_columns,
)

COLUMNS = [
    *["finding", "claim", "benchmark", "a", "b", "a_stepwise_ER_%", "b_stepwise_ER_%", "a_acc_%", "b_acc_%"],
    *["diff_pts", "ci_low", "ci_high", "p_value", "p_holm", "adj_ci_low", "adj_ci_high"],
    *["seeds", "n", "diff_by_seed", "scope", "verdict"],
]


def paired_difference(a: dict[int, dict[str, float]], b: dict[int, dict[str, float]], config: dict):
    """Setting ``a`` against ``b`` ({seed: {task_id: score}} each, the score averaged over the
    evaluation seeds), paired by training seed and item: the seeds x items matrix of a - b, the
    seeds (config order) and both settings' mean accuracies (shares)."""
    if sorted(a) != sorted(b):
        raise ValueError(f"the settings were trained with different seeds: {sorted(a)} and {sorted(b)}")
    seeds = seed_columns(config, {"a": a})  # in config order
    scores_a, scores_b = correctness_matrix(a, seeds), correctness_matrix(b, seeds)
    if sorted(a[seeds[0]]) != sorted(b[seeds[0]]):
        raise ValueError("the settings were graded on different items")
    return scores_a - scores_b, seeds, float(scores_a.mean()), float(scores_b.mean())


def decide_family(diffs: list, confidence: float) -> list[dict]:
    """The columns of one family's comparisons (``diffs``: each a seeds x items matrix of a - b):
    the t interval and p-value of each, Holm's adjusted p-value within the family, the interval
    that goes with it, the scope and the verdict decided by the adjusted p-value. Points (x100)."""
    alpha = 1 - confidence
    intervals = [per_seed_t_interval(diff, confidence) for diff in diffs]
    adjusted_p = holm_adjust([interval.p_value for interval in intervals])
    rows = []
    for diff, interval, p_holm in zip(diffs, intervals, adjusted_p):
        adjusted = adjusted_t_interval(diff, interval, p_holm, alpha)
        rows.append(
            {
                "diff_pts": 100 * interval.diff,
                "ci_low": 100 * interval.low,
                "ci_high": 100 * interval.high,
                "p_value": interval.p_value,
                "p_holm": p_holm,
                "adj_ci_low": 100 * adjusted.low,
                "adj_ci_high": 100 * adjusted.high,
                "scope": interval.scope,
                "verdict": labelled(verdict_of(interval, alpha, p_value=p_holm), interval.scope),
            }
        )
    return rows


def build_findings(graded: list[str], set_stats: list[str], config: dict, benchmarks: list[str]):
    """One row per claimed comparison and benchmark, in the order of ``benchmarks`` (the config's):
    the first, the headline, first."""
    import pandas as pd

    by_setting = read_graded(graded)
    runs = stage2_runs(config)
    stepwise = {s["set"]: s["stepwise_error_rate"] for s in (json.loads(Path(p).read_text()) for p in set_stats)}
    rows = []

    def model(setting: str) -> str:
        return setting if setting == BASELINE else stage2_model(setting)

    def stepwise_error(setting: str) -> float | None:
        return None if setting == BASELINE else stepwise[runs[setting]["set"]]

    for bench, label in benchmark_labels(config, benchmarks).items():
        family, diffs = [], []  # one family per benchmark: its comparisons share Holm's adjustment
        for claim in claimed_comparisons(config):
            a, b = claim["a"], claim["b"]
            if claim.get("by_stepwise_error") and stepwise_error(b) < stepwise_error(a):
                a, b = b, a  # the claim is about the lower step-wise ER, as measured on the sets
            diff, seeds, acc_a, acc_b = paired_difference(
                item_scores(by_setting[model(a), bench]), item_scores(by_setting[model(b), bench]), config
            )
            diffs.append(diff)
            family.append(
                {
                    "finding": claim["finding"],
                    "claim": claim["claim"],
                    "benchmark": label,
                    "a": a,
                    "b": b,
                    "a_stepwise_ER_%": stepwise_error(a),
                    "b_stepwise_ER_%": stepwise_error(b),
                    "a_acc_%": 100 * acc_a,
                    "b_acc_%": 100 * acc_b,
                    "seeds": len(seeds),
                    "n": diff.shape[1],
                    "diff_by_seed": "; ".join(f"{seed}: {100 * d:+.1f}" for seed, d in zip(seeds, diff.mean(axis=1))),
                }
            )
        decided = decide_family(diffs, config["evaluation"]["confidence"])
        rows += [{**row, **columns} for row, columns in zip(family, decided)]
    return pd.DataFrame(rows, columns=COLUMNS)


def calibration_caption(summary: dict, confidence: float) -> str:
    """The measured calibration of the unadjusted t interval, as ``bench/verdict_calibration.py``
    recorded it in ``guiding/core/calibration_summary.json`` (``read_summary``)."""
    grid = summary["grid"]
    rates = ", ".join(
        f"{100 * row['t_interval']:.1f}% at {row['seeds']} seeds" for row in summary["highest_false_verdict_rate"]
    )
    nominal = summary["nominal_false_verdict_rate"]
    level_note = (
        ""
        if abs((1 - confidence) - nominal) < 1e-9
        else f" (measured at the {1 - nominal:.0%} level; this table uses {confidence:.0%})"
    )
    sds = ", ".join(f"{sd:g}" for sd in grid["seed_sd_points"])
    dirty = " with uncommitted changes" if summary.get("dirty") else ""
    accuracies = ", ".join(f"{acc:g}" for acc in grid["b_accuracy_percent"])
    return (
        f"**Measured calibration** of the unadjusted interval{level_note}: in simulated studies with no true "
        f"difference ({summary['studies_per_grid_point']} per grid point; {grid['items']} items; a seed-level SD "
        f"of the difference of {sds} points; b's accuracy {accuracies}%; RNG seed {summary['rng_seed']}; "
        f"bench/verdict_calibration.py at commit {(summary['commit'] or 'unknown')[:7]}{dirty}, docs/verdicts.md) "
        f"the highest false-verdict rate over the grid was {rates}, against a nominal {nominal:.0%}. Holm's adjustment "
        "only widens the intervals. The simulation covers 2 or more seeds, not the items-only case."
    )


def findings_caption(config: dict, benchmarks: list[str], calibration: dict | None = None) -> str:
    """How the findings table was computed; ``calibration``: the calibration summary (default: the
    package's, ``read_summary``)."""
    confidence = config["evaluation"]["confidence"]
    level, alpha = f"{confidence:.0%}", f"{1 - confidence:.2g}"
    headline = config["evaluation"]["benchmarks"][benchmarks[0]]["label"]
    family = len(claimed_comparisons(config))
    one_seed = len(config["replicates"]["seeds"]) == 1
    return (
        "Each row states a claim of the paper as a comparison fixed before the results: setting a is "
        "claimed to be more accurate than setting b. Finding 0, the premise of finding 1: clean subtask "
        "supervision against stage 1 alone (each seed's stage 2 against the stage 1 it started from). "
        "Finding 1: hard supervision at the highest studied "
        "outcome ER against clean subtask supervision. Finding 2: at equal outcome ER, the teacher whose "
        "set has the lower measured step-wise ER against the higher (every pair). Finding 3: hard + "
        "subtasks against hard alone, hard + paraphrases and the hard set trained longer. "
        "diff_pts = a - b in accuracy points, the mean over the training seeds of each seed's mean "
        "difference over the items (diff_by_seed); every comparison, stage 1's included, is paired by "
        "training seed and item. "
        f"**Interval:** ci_low, ci_high are the {level} t interval over the per-seed mean differences: "
        "mean ± t(1 - α/2, seeds - 1) × SD / √seeds, SD the standard deviation of the per-seed means "
        "(where the seeds' means tie exactly, the item-level luck of a per-seed mean, the root of the "
        "item-by-seed interaction mean square over the items, stands in for it: a tie says nothing about a "
        "spread of 0); p_value is its two-sided t test of no difference. It covers new training draws "
        "(each seed is a whole student pipeline, stage 1 included) on these fixed items, not a new sample "
        f"of items. **Families:** the {family} comparisons of one benchmark form one family; p_holm is "
        "Holm's step-down adjustment of p_value within it (valid whatever the dependence between "
        "comparisons that share settings), and adj_ci_low, adj_ci_high the t interval at confidence "
        "1 - α × p_value / p_holm, which excludes 0 exactly when p_holm < α and equals the unadjusted "
        "interval where Holm leaves p_value as it is. The unadjusted interval reads one comparison alone; "
        f"the adjusted one goes with the verdict. **Verdict rule** (α = {alpha}, family-wise): holds if "
        "p_holm < α and a - b > 0 (the adjusted interval lies wholly above 0), refuted if p_holm < α and "
        'a - b < 0, inconclusive otherwise. **One training seed** (scope "items only"): no seed spread '
        "can be measured, so the interval is the t interval over the items (items - 1 df), it covers that "
        'one training draw\'s item-level luck only, and the verdict is labelled "(items only)", e.g. '
        '"holds (items only)"'
        + (": **this table has one training seed, so every verdict covers the items only.** " if one_seed else ". ")
        + calibration_caption(read_summary() if calibration is None else calibration, confidence)
        + f" The first benchmark ({headline}) is the headline."
        + eval_seed_caption(config, columns=False)
    )


def findings_table(
    *,
    graded: list[str],
    set_stats: list[str],
    config: dict,
    benchmarks: list[str],
    csv: str,
    md: str,
    provenance_json: str,
) -> None:
    """results/tables/findings.{csv,md,provenance.json}."""
    df = build_findings(graded, set_stats, config, benchmarks)
    title = "Findings: the paper's claims, paired by seed, with verdicts"
    # Three digits: a p-value near α must read as below or above it.
    write_table(df, csv, md, title, float_digits=3, caption=findings_caption(config, benchmarks))
    write_provenance(provenance_json, [*graded, *set_stats], config, outputs=[csv, md])
