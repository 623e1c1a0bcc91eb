"""The calibration table of docs/verdicts.md: for each grid point (training seeds, seed-level SD of
the difference, b's accuracy) the false-verdict rate with no true difference and the power at true
differences of 10 and 20 points, for the per-seed t interval (guiding.core.verdicts) and the
project's two-level percentile bootstrap (guiding.core.statistics.seed_item_bootstrap, its first
--resamples resamples), on the same simulated studies (guiding.core.calibration; 200 items).

    PYTHONPATH=src python bench/verdict_calibration.py [--studies 4000] [--bootstrap-studies 1000]

The t interval is measured on --studies studies per grid point, the bootstrap on the first
--bootstrap-studies of them (it costs far more). The results depend on the RNG seed only, not on
the machine."""

from __future__ import annotations

import argparse
import math

import numpy as np

from guiding.core.calibration import StudyShape, bootstrap_decisions, simulate_differences, t_decisions

SEED_COUNTS = (2, 3, 5, 10)
SEED_SDS = (0.0, 0.05, 0.10, 0.20)
ACCURACIES = (0.05, 0.25, 0.50, 0.75, 0.95)
DIFFERENCES = (0.0, 0.10, 0.20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--studies", type=int, default=4000)
    parser.add_argument("--bootstrap-studies", type=int, default=1000)
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--rng-seed", type=int, default=2025)
    args = parser.parse_args()
    rng = np.random.default_rng(args.rng_seed)
    rows = {}
    for sd in SEED_SDS:
        for acc in ACCURACIES:
            for delta in DIFFERENCES:
                if acc + delta >= 1:
                    continue
                diffs = simulate_differences(StudyShape(acc, sd, true_diff=delta), max(SEED_COUNTS), args.studies, rng)
                for seeds in SEED_COUNTS:
                    sub = diffs[:, :seeds]
                    t = t_decisions(sub)
                    boot = bootstrap_decisions(sub[: args.bootstrap_studies], resamples=args.resamples)
                    # No difference: any verdict is false. A true difference: power = deciding it above 0.
                    rows[seeds, sd, acc, delta] = (
                        np.mean(t != 0) if delta == 0 else np.mean(t == 1),
                        np.mean(boot != 0) if delta == 0 else np.mean(boot == 1),
                    )
    se_t = math.sqrt(0.05 * 0.95 / args.studies)
    se_b = math.sqrt(0.05 * 0.95 / args.bootstrap_studies)
    print(
        f"{args.studies} studies per grid point for the t interval, {args.bootstrap_studies} of them for the "
        f"bootstrap ({args.resamples} resamples); 200 items; RNG seed {args.rng_seed}. "
        f"Monte-Carlo SE of a 5% rate: {100 * se_t:.2f} points (t), {100 * se_b:.2f} (bootstrap).\n"
    )
    print(
        "| seeds | seed SD (pts) | b's accuracy | false verdicts: t | false verdicts: bootstrap "
        "| power +10: t | power +10: bootstrap | power +20: t | power +20: bootstrap |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for seeds in SEED_COUNTS:
        for sd in SEED_SDS:
            for acc in ACCURACIES:
                cells = []
                for delta in DIFFERENCES:
                    pair = rows.get((seeds, sd, acc, delta))
                    cells += ["n/a", "n/a"] if pair is None else [f"{100 * v:.1f}%" for v in pair]
                print(f"| {seeds} | {100 * sd:.0f} | {100 * acc:.0f}% | " + " | ".join(cells) + " |")
    print()
    for seeds in SEED_COUNTS:
        t_max = max(rows[seeds, sd, acc, 0.0][0] for sd in SEED_SDS for acc in ACCURACIES)
        b_max = max(rows[seeds, sd, acc, 0.0][1] for sd in SEED_SDS for acc in ACCURACIES)
        print(f"{seeds} seeds: highest false-verdict rate t {100 * t_max:.1f}%, bootstrap {100 * b_max:.1f}%")


if __name__ == "__main__":
    main()
