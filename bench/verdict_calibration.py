"""The calibration table of docs/verdicts.md: for each grid point (training seeds, seed-level SD of
the difference, b's accuracy) the false-verdict rate with no true difference and the power at true
differences of 10 and 20 points, for the per-seed t interval (guiding.core.verdicts) and the
project's two-level percentile bootstrap (guiding.core.statistics.seed_item_bootstrap, its first
--resamples resamples), on the same simulated studies (guiding.core.calibration; 200 items).

    PYTHONPATH=src python bench/verdict_calibration.py [--studies 4000] [--bootstrap-studies 1000]

The t interval is measured on --studies studies per grid point, the bootstrap on the first
--bootstrap-studies of them (it costs far more). The results depend on the RNG seed only, not on
the machine. It also writes the summary that the findings table's caption quotes (--summary,
default src/guiding/core/calibration_summary.json): the highest false-verdict rate per seed
count, the grid, the studies, the RNG seed, the commit and the machine (as lscpu names it)."""

from __future__ import annotations

import argparse
import json
import math
import platform
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np

from guiding.core.calibration import (
    SUMMARY,
    StudyShape,
    bootstrap_decisions,
    simulate_differences,
    t_decisions,
)
from guiding.core.provenance.sidecar import code_version

SEED_COUNTS = (2, 3, 5, 10)
NOMINAL = 0.05  # t_decisions and bootstrap_decisions at their default confidence, 95%
SEED_SDS = (0.0, 0.05, 0.10, 0.20)
ACCURACIES = (0.05, 0.25, 0.50, 0.75, 0.95)
DIFFERENCES = (0.0, 0.10, 0.20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--studies", type=int, default=4000)
    parser.add_argument("--bootstrap-studies", type=int, default=1000)
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--rng-seed", type=int, default=2025)
    parser.add_argument(
        "--summary",
        type=Path,
        default=Path(__file__).resolve().parents[1] / "src" / "guiding" / "core" / SUMMARY,
        help="where to write the summary the findings caption quotes",
    )
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
    write_summary(args, rows)


def machine() -> dict:
    """The CPU as lscpu names it, and whether it has AVX2 and AVX-512 (the kernels torch picks)."""
    try:
        lines = subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
    except OSError:  # no lscpu (not Linux)
        lines = []
    fields = dict((key.strip(), value.strip()) for key, value in (line.split(":", 1) for line in lines if ":" in line))
    flags = set(fields.get("Flags", "").split())
    return {
        "model_name": fields.get("Model name", platform.processor() or "unknown"),
        "cpus": int(fields["CPU(s)"]) if fields.get("CPU(s)", "").isdigit() else None,
        "avx2": "avx2" in flags,
        "avx512f": "avx512f" in flags,
        "system": platform.platform(),
    }


def write_summary(args, rows: dict) -> None:
    """The summary that the findings table's caption quotes (guiding.core.calibration.read_summary)."""
    highest = [
        {
            "seeds": seeds,
            "t_interval": round(float(max(rows[seeds, sd, acc, 0.0][0] for sd in SEED_SDS for acc in ACCURACIES)), 6),
            "bootstrap": round(float(max(rows[seeds, sd, acc, 0.0][1] for sd in SEED_SDS for acc in ACCURACIES)), 6),
        }
        for seeds in SEED_COUNTS
    ]
    version = code_version()
    summary = {
        "what": (
            "False-verdict rates (no true difference) of the per-seed t interval (guiding.core.verdicts) and the "
            "two-level percentile bootstrap, highest over the grid per seed count; bench/verdict_calibration.py"
        ),
        "command": "PYTHONPATH=src python " + shlex.join(["bench/verdict_calibration.py", *sys.argv[1:]]),
        "nominal_false_verdict_rate": NOMINAL,
        "highest_false_verdict_rate": highest,
        "studies_per_grid_point": args.studies,
        "bootstrap_studies_per_grid_point": args.bootstrap_studies,
        "bootstrap_resamples": args.resamples,
        "monte_carlo_se_of_nominal": round(math.sqrt(NOMINAL * (1 - NOMINAL) / args.studies), 6),
        "grid": {
            "seeds": list(SEED_COUNTS),
            "seed_sd_points": [round(100 * sd, 6) for sd in SEED_SDS],
            "b_accuracy_percent": [round(100 * acc, 6) for acc in ACCURACIES],
            "items": StudyShape(0.5, 0.0).items,
            "item_logit_sd": StudyShape(0.5, 0.0).item_logit_sd,
        },
        "rng_seed": args.rng_seed,
        "commit": version["commit"],
        "dirty": version["dirty"],
        "machine": machine(),
    }
    args.summary.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"\nwrote {args.summary}")


if __name__ == "__main__":
    main()
