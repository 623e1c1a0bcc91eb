"""The findings table: the paper's claims as comparisons fixed in advance (``claimed_comparisons``),
each with the difference paired by seed and item, its interval, and a verdict that follows from
the interval by the rule in the table's caption."""

from __future__ import annotations

import json
from pathlib import Path

from ..artifacts import BASELINE, stage2_model
from ..config import claimed_comparisons, stage2_runs
from ..core.provenance import write_provenance
from ..core.statistics import seed_item_bootstrap
from ..core.tables import write_table
from .result_tables import (
    benchmark_labels,
    bootstrap_settings,
    correctness_matrix,
    eval_seed_caption,
    item_scores,
    read_graded,
    seed_columns,
)

HOLDS, REFUTED, INCONCLUSIVE = "holds", "refuted", "inconclusive"


def verdict(ci_low: float, ci_high: float) -> str:
    """The claim (a beats b) holds if the whole interval of a - b lies above 0, is refuted if it
    lies wholly below 0, and is inconclusive otherwise (an interval touching 0 included)."""
    if ci_low > 0:
        return HOLDS
    if ci_high < 0:
        return REFUTED
    return INCONCLUSIVE


def compare(a: dict[int, dict[str, float]], b: dict[int, dict[str, float]], config: dict) -> dict:
    """Setting ``a`` against ``b`` ({seed: {task_id: score}} each, the score averaged over the
    evaluation seeds), paired by training seed and item."""
    if sorted(a) != sorted(b):
        raise ValueError(f"the settings were trained with different seeds: {sorted(a)} and {sorted(b)}")
    seeds = seed_columns(config, {"a": a})  # in config order
    scores_a, scores_b = correctness_matrix(a, seeds), correctness_matrix(b, seeds)
    if sorted(a[seeds[0]]) != sorted(b[seeds[0]]):
        raise ValueError("the settings were graded on different items")
    diff = scores_a - scores_b
    low, high = seed_item_bootstrap(diff, **bootstrap_settings(config))
    return {
        "a_acc_%": 100 * float(scores_a.mean()),
        "b_acc_%": 100 * float(scores_b.mean()),
        "diff_pts": 100 * float(diff.mean()),
        "ci_low": 100 * low,
        "ci_high": 100 * high,
        "seeds": len(seeds),
        "n": diff.shape[1],
        "diff_by_seed": "; ".join(f"{seed}: {100 * d:+.1f}" for seed, d in zip(seeds, diff.mean(axis=1))),
        "verdict": verdict(low, high),
    }


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
        for claim in claimed_comparisons(config):
            a, b = claim["a"], claim["b"]
            if claim.get("by_stepwise_error") and stepwise_error(b) < stepwise_error(a):
                a, b = b, a  # the claim is about the lower step-wise ER, as measured on the sets
            rows.append(
                {
                    "finding": claim["finding"],
                    "claim": claim["claim"],
                    "benchmark": label,
                    "a": a,
                    "b": b,
                    "a_stepwise_ER_%": stepwise_error(a),
                    "b_stepwise_ER_%": stepwise_error(b),
                    **compare(
                        item_scores(by_setting[model(a), bench]),
                        item_scores(by_setting[model(b), bench]),
                        config,
                    ),
                }
            )
    columns = ["finding", "claim", "benchmark", "a", "b", "a_stepwise_ER_%", "b_stepwise_ER_%"]
    columns += ["a_acc_%", "b_acc_%", "diff_pts", "ci_low", "ci_high", "seeds", "n", "diff_by_seed", "verdict"]
    return pd.DataFrame(rows, columns=columns)


def findings_caption(config: dict, benchmarks: list[str]) -> str:
    level = f"{config['evaluation']['confidence']:.0%}"
    boot = config["evaluation"]["bootstrap"]
    headline = config["evaluation"]["benchmarks"][benchmarks[0]]["label"]
    return (
        "Each row states a claim of the paper as a comparison fixed before the results: setting a is "
        "claimed to be more accurate than setting b. Finding 0, the premise of finding 1: clean subtask "
        "supervision against stage 1 alone (each seed's stage 2 against the stage 1 it started from). "
        "Finding 1: hard supervision at the highest studied "
        "outcome ER against clean subtask supervision. Finding 2: at equal outcome ER, the teacher whose "
        "set has the lower measured step-wise ER against the higher (every pair). Finding 3: hard + "
        "subtasks against hard alone, hard + paraphrases and the hard set trained longer. "
        "diff_pts = a - b in accuracy points, the mean over the training seeds (each seed's "
        f"difference in diff_by_seed); its {level} interval is a paired bootstrap over seeds and items "
        f"({boot['resamples']} resamples: the seeds drawn with replacement, then the items with "
        "replacement, the same seeds and items for both settings; percentile interval; RNG seed "
        f"{boot['seed']}). **Verdict rule:** holds if the whole interval lies above 0, refuted if it lies "
        f"wholly below 0, inconclusive otherwise. The first benchmark ({headline}) is the headline."
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
    write_table(df, csv, md, title, caption=findings_caption(config, benchmarks))
    write_provenance(provenance_json, [*graded, *set_stats], config, outputs=[csv, md])
