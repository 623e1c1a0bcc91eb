"""The variance study: how much each calibration run's held-out-hard accuracy moves with the training
seed under a candidate recipe or world, and what a replicate costs.

    python bench/variance_study.py NAME [--overlay FILE ...] [--seeds 42 1 7 2 3]
        [--cross-seeds 42 1 7 --offsets 1000] [--from DIR] [--cores all]

It runs the workflow itself (Snakemake, the default config with the candidate's overlays on top)
in runs/variance/NAME, building only the calibration runs' graded predictions at every seed; then,
for the stage-1 seeds of --cross-seeds, the same stage-2 runs again at each stage-2 seed offset
(replicates.stage2_seed_offset, in a copy runs/variance/NAME+s2off<offset> that keeps the stage-1
models), which tells the stage-1 draw from the stage-2 draw. --from DIR seeds the working
directory from an earlier run (its results/ and .snakemake/), so that what the candidate leaves
unchanged (the data, stage 1) is not built again: Snakemake decides what reruns, by params and
inputs (not by code: a candidate that changes the code starts without --from).

It prints, per run, the mean, each seed's accuracy, the seed SD, its item-luck part and the seed
component (as `guiding plan-seeds` computes them), the stage-1 and stage-2 parts of the draw, and
the wall and CPU seconds of one replicate's jobs (from the jobs' benchmark files); and it writes the
same rows to bench/variance_study.csv (a candidate's earlier rows are replaced).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from guiding.artifacts import BASELINE, GRADED, fill, stage2_model  # noqa: E402
from guiding.core.provenance.lineage import cpu_model  # noqa: E402
from guiding.report.plan_seeds import read_setting  # noqa: E402
from guiding.report.variance import draw_components, job_cost, run_spread  # noqa: E402

CALIBRATION_RUNS = ["hard-main-er0", "hard-main-er50", "hard-main-er90", "subtask-main-er0", "combo-hard50_sub10"]
BENCH = "eval_hard"
CSV = ROOT / "bench" / "variance_study.csv"
COLUMNS = [
    "candidate",
    "overlays",
    "commit",
    "machine",
    "run",
    "seeds",
    "per_seed_pct",
    "mean_pct",
    "seed_sd",
    "item_luck_sd",
    "seed_component_sd",
    "stage1_sd",
    "stage2_sd",
    "crossed",
    "replicate_wall_s",
    "replicate_cpu_s",
]


def machine() -> str:
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    isa = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    return f"{cpu_model()}, {os.cpu_count()} CPUs, {isa}"


def snakemake(workdir: Path, overlays: list[str], replicates: dict, targets: list[str], cores: str) -> None:
    # The replicates travel as one more overlay: --config would hand the seeds over as strings.
    workdir.mkdir(parents=True, exist_ok=True)
    seeds_overlay = workdir / "replicates.yaml"
    seeds_overlay.write_text(json.dumps({"replicates": replicates}) + "\n")
    cmd = [
        str(Path(sys.executable).with_name("snakemake")),
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--cores",
        cores,
        # What a candidate changes reaches the jobs as params or inputs; a commit of the harness
        # itself (the code trigger) must not rebuild what --from brought in.
        "--rerun-triggers",
        "mtime",
        "params",
        "input",
        "software-env",
        "--configfile",
        str(ROOT / "config" / "config.yaml"),
        *[str(Path(o).resolve()) for o in overlays],
        str(seeds_overlay),
        "--config",
        f"workdir={workdir}",
        "--",
        *targets,
    ]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True)


def graded_targets(seeds: list[int], runs: list[str], baseline: bool) -> list[str]:
    models = ([BASELINE] if baseline else []) + [stage2_model(r) for r in runs]
    return [fill(GRADED, model=m, seed=s, bench=BENCH) for m in models for s in seeds]


def seed_from(source: Path, workdir: Path) -> None:
    """A working directory that starts as a copy of ``source``'s results and Snakemake records."""
    workdir.mkdir(parents=True)
    for part in ("results", ".snakemake"):
        if (source / part).exists():
            skip = shutil.ignore_patterns("conda", "locks")
            shutil.copytree(source / part, workdir / part, symlinks=True, ignore=skip)


def replicate_cost(workdir: Path, seed: int, runs: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one replicate's training and generation jobs (benchmark files)."""
    bench = workdir / "results" / "benchmarks"
    files = [bench / "train" / "stage1" / f"seed{seed}.tsv", bench / "eval" / BASELINE / f"seed{seed}" / "generate.tsv"]
    for run in runs:
        files += [
            bench / "train" / f"stage2-{run}" / f"seed{seed}.tsv",
            bench / "eval" / stage2_model(run) / f"seed{seed}" / "generate.tsv",
        ]
    costs = [job_cost(f) for f in files]
    return sum(c[0] for c in costs), sum(c[1] for c in costs)


def analyse(name, overlays, workdir, seeds, runs, cross_seeds, offsets) -> list[dict]:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    costs = [replicate_cost(workdir, s, runs) for s in seeds]
    wall, cpu = statistics.mean(c[0] for c in costs), statistics.mean(c[1] for c in costs)
    rows = []
    for run in [None, *runs]:
        model = BASELINE if run is None else stage2_model(run)
        spread = run_spread({s: v for s, v in read_setting(workdir / "results", model, BENCH).items() if s in seeds})
        row = {
            "candidate": name,
            "overlays": " ".join(overlays) or "(default)",
            "commit": commit.strip(),
            "machine": machine(),
            "run": BASELINE if run is None else run,
            "seeds": " ".join(map(str, spread.seeds)),
            "per_seed_pct": " ".join(f"{v:.1f}" for v in spread.per_seed),
            "mean_pct": f"{spread.mean:.1f}",
            "seed_sd": f"{spread.seed_sd:.1f}",
            "item_luck_sd": f"{spread.item_luck_sd:.1f}",
            "seed_component_sd": f"{spread.seed_component_sd:.1f}",
            "stage1_sd": "",
            "stage2_sd": "",
            "crossed": "",
            "replicate_wall_s": f"{wall:.0f}",
            "replicate_cpu_s": f"{cpu:.0f}",
        }
        if run is not None and offsets:
            draws = {}
            for s in cross_seeds:
                draws[s] = [_accuracy(workdir, model, s)] + [
                    _accuracy(cross_dir(workdir, off), model, s) for off in offsets
                ]
            parts = draw_components(draws)
            row.update(
                stage1_sd=f"{parts.stage1_sd:.1f}",
                stage2_sd=f"{parts.stage2_sd:.1f}",
                crossed=f"{parts.stage1_seeds} stage-1 x {parts.stage2_draws} stage-2",
            )
        rows.append(row)
    return rows


def _accuracy(workdir: Path, model: str, seed: int) -> float:
    scores = read_setting(workdir / "results", model, BENCH)[seed]
    return 100 * sum(scores.values()) / len(scores)


def cross_dir(workdir: Path, offset: int) -> Path:
    return workdir.with_name(f"{workdir.name}+s2off{offset}")


def write_csv(rows: list[dict]) -> None:
    kept = []
    if CSV.exists():
        with open(CSV, newline="") as handle:
            kept = [r for r in csv.DictReader(handle) if r["candidate"] != rows[0]["candidate"]]
    with open(CSV, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(kept + rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", help="the candidate's name (its working directory is runs/variance/NAME)")
    parser.add_argument("--overlay", action="append", default=[], help="a config overlay (repeatable)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 1, 7, 2, 3])
    parser.add_argument("--runs", nargs="+", default=CALIBRATION_RUNS, help="the calibration runs")
    parser.add_argument("--cross-seeds", type=int, nargs="*", default=[], help="stage-1 seeds to cross")
    parser.add_argument("--offsets", type=int, nargs="*", default=[], help="stage-2 seed offsets to cross with")
    parser.add_argument("--from", dest="source", help="a finished working directory to start from")
    parser.add_argument("--cores", default="all")
    parser.add_argument("--analyse-only", action="store_true", help="read what is built; run nothing")
    args = parser.parse_args()
    if bool(args.cross_seeds) != bool(args.offsets):
        parser.error("--cross-seeds and --offsets go together")
    if not set(args.cross_seeds) <= set(args.seeds):
        parser.error(f"--cross-seeds {args.cross_seeds} must be among --seeds {args.seeds}")
    workdir = ROOT / "runs" / "variance" / args.name
    if not args.analyse_only:
        if args.source and not workdir.exists():
            seed_from(Path(args.source).resolve(), workdir)
        snakemake(workdir, args.overlay, {"seeds": args.seeds}, graded_targets(args.seeds, args.runs, True), args.cores)
        for offset in args.offsets:
            crossed = cross_dir(workdir, offset)
            if not crossed.exists():
                seed_from(workdir, crossed)
            replicates = {"seeds": args.cross_seeds, "stage2_seed_offset": offset}
            snakemake(crossed, args.overlay, replicates, graded_targets(args.cross_seeds, args.runs, False), args.cores)
    rows = analyse(args.name, args.overlay, workdir, args.seeds, args.runs, args.cross_seeds, args.offsets)
    write_csv(rows)
    shown = ["run", "per_seed_pct", "mean_pct", "seed_sd", "item_luck_sd", "seed_component_sd"]
    shown += ["stage1_sd", "stage2_sd"]
    print(f"\n{args.name} on {rows[0]['machine']} at {rows[0]['commit']}, held-out hard, points")
    print(" | ".join(shown))
    for row in rows:
        print(" | ".join(row[c] for c in shown))
    wall, cpu = rows[0]["replicate_wall_s"], rows[0]["replicate_cpu_s"]
    print(f"one replicate's training and generation jobs: {wall} s wall, {cpu} s CPU")
    print(f"rows written to {CSV.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
