"""Result tables and figures, per experiment: for each setting the mean accuracy over its training
seeds, each seed's accuracy, n and a confidence interval (Wilson over the items for one seed, the
t interval over the per-seed accuracies for more: ``guiding.core.verdicts``)."""

from __future__ import annotations

import json
import math
from pathlib import Path

from ..artifacts import (
    BASELINE,
    EXPERIMENTS,
    KINDS,
    combination_name,
    error_rate_set_name,
    stage2_model,
)
from ..core.provenance.sidecar import write_provenance
from ..core.statistics import wilson_interval
from ..core.tables import write_table
from ..core.verdicts import per_seed_t_interval
from .scores import (
    benchmark_labels,
    correctness_matrix,
    eval_seed_caption,
    eval_seeds_of,
    item_scores,
    read_graded,
    seed_columns,
)


def accuracy(by_seed: dict[int, dict[int | None, dict[str, bool]]], config: dict) -> dict:
    """Mean accuracy (%) over the training and evaluation seeds, each training seed's (averaged over
    the evaluation seeds), their standard deviation, items per seed, and the interval: Wilson over
    the items for one training and one evaluation seed, else the t interval (``per_seed_t_interval``)
    of the per-item means over the evaluation seeds: over the per-seed accuracies with 2+ training
    seeds, over the items with one (items only), cut to 0-100%. With several evaluation seeds also
    each evaluation seed's accuracy (averaged over the training seeds) and their spread."""
    import numpy as np

    seeds = sorted(by_seed)
    eval_seeds = eval_seeds_of(by_seed)
    matrix = correctness_matrix(item_scores(by_seed), seeds)
    per_seed = matrix.mean(axis=1)
    if len(seeds) == 1 and len(eval_seeds) <= 1:
        low, high = wilson_interval(int(matrix.sum()), matrix.shape[1], config["evaluation"]["confidence"])
    else:
        interval = per_seed_t_interval(matrix, config["evaluation"]["confidence"])
        low, high = max(0.0, interval.low), min(1.0, interval.high)  # an accuracy is a share
    out = {
        "acc": 100 * float(per_seed.mean()),
        "ci_low": 100 * low,
        "ci_high": 100 * high,
        "n": matrix.shape[1],
        "seed_sd": 100 * float(np.std(per_seed, ddof=1)) if len(seeds) > 1 else math.nan,
        "per_seed": {seed: 100 * float(acc) for seed, acc in zip(seeds, per_seed)},
    }
    if len(eval_seeds) > 1:
        per_eval_seed = {
            e: 100 * float(np.mean([np.mean(list(by_seed[s][e].values())) for s in seeds])) for e in eval_seeds
        }
        out["per_eval_seed"] = per_eval_seed
        out["eval_seed_sd"] = float(np.std(list(per_eval_seed.values()), ddof=1))
    return out


def _score_columns(scores: dict, model: str, labels: dict[str, str], seeds: list[int], average: bool) -> dict:
    """Per benchmark (columns prefixed by its label): the mean accuracy over seeds, its interval,
    items per seed, the seeds' standard deviation and each seed's accuracy (empty for seeds the
    model was not trained with); with several evaluation seeds, each one's accuracy
    (``_eval<e>_%``) and their standard deviation (``_eval_seed_sd``); with ``average``, the mean
    over the benchmarks (each weighs the same, as in the paper)."""
    row = {}
    for bench, label in labels.items():
        s = scores[model, bench]
        row.update(
            {
                f"{label}_acc_%": s["acc"],
                f"{label}_ci_low": s["ci_low"],
                f"{label}_ci_high": s["ci_high"],
                f"{label}_n": s["n"],
                f"{label}_seed_sd": s["seed_sd"],
                **{f"{label}_seed{seed}_%": s["per_seed"].get(seed, math.nan) for seed in seeds},
            }
        )
        if "per_eval_seed" in s:
            row.update({f"{label}_eval{e}_%": acc for e, acc in s["per_eval_seed"].items()})
            row[f"{label}_eval_seed_sd"] = s["eval_seed_sd"]
    if average:
        row["avg_acc_%"] = sum(scores[model, bench]["acc"] for bench in labels) / len(labels)
    return row


def build_tables(graded: list[str], set_stats: list[str], config: dict, runs: dict, benchmarks: list[str]):
    """The three experiments' tables; their column groups follow ``benchmarks``."""
    import pandas as pd

    by_setting = read_graded(graded)
    scores = {key: accuracy(by_seed, config) for key, by_seed in by_setting.items()}
    seeds = seed_columns(config, by_setting)
    bench_labels = benchmark_labels(config, benchmarks)
    average = config["evaluation"].get("average", False)

    def _baseline_row(**names) -> dict:
        return {
            **names,
            "run": BASELINE,
            "outcome_ER_%": math.nan,
            "stepwise_ER_%": math.nan,
            **_score_columns(scores, BASELINE, bench_labels, seeds, average),
        }

    stats = {s["set"]: s for s in (json.loads(Path(p).read_text()) for p in set_stats)}

    def run_row(run: str, **labels) -> dict:
        s = stats[runs[run]["set"]]
        return {
            **labels,
            "run": run,
            "outcome_ER_%": s["outcome_error_rate"],
            "stepwise_ER_%": s["stepwise_error_rate"],
            **_score_columns(scores, stage2_model(run), bench_labels, seeds, average),
        }

    sweep = config["sets"]["error_rate_sweep"]
    rows = [_baseline_row(supervision="none (stage 1 only)", error_rate=math.nan)]
    for kind in KINDS:
        for rate in sweep["error_rates"]:
            rows.append(run_row(error_rate_set_name(kind, sweep["teacher"], rate), supervision=kind, error_rate=rate))
    error_rate_sweep = pd.DataFrame(rows)

    comparison = config["sets"]["teacher_comparison"]
    rows = [_baseline_row(teacher="none (stage 1 only)", step_error_config=math.nan)]
    for teacher in comparison["teachers"]:
        rows.append(
            run_row(
                error_rate_set_name("hard", teacher, comparison["error_rate"]),
                teacher=teacher,
                # Only a simulated teacher has a configured step error (LLM and released ones: NaN).
                step_error_config=100 * config["teachers"][teacher].get("step_error", math.nan),
            )
        )
    teacher_comparison = pd.DataFrame(rows)

    rows = [_baseline_row(setting="none (stage 1 only)", items=math.nan, epochs=math.nan)]
    combo_runs = []
    for combo, parts in config["sets"]["combinations"].items():
        names = (
            error_rate_set_name(p["kind"], p.get("teacher", sweep["teacher"]), p["error_rate"])
            for p in parts
            if not p.get("paraphrase")
        )
        combo_runs += [name for name in names if name in runs]
        combo_runs.append(combination_name(combo))
    combo_runs += list(config.get("extra_runs", {}))
    for run in dict.fromkeys(combo_runs):
        rows.append(
            run_row(
                run,
                setting=run,
                items=stats[runs[run]["set"]]["size"],
                epochs=runs[run]["recipe"].get("num_train_epochs"),
            )
        )
    combinations = pd.DataFrame(rows)
    return {
        "error_rate_sweep": error_rate_sweep,
        "teacher_comparison": teacher_comparison,
        "combinations": combinations,
    }


def interval_caption(config: dict) -> str:
    """How the tables' intervals were computed, for their captions."""
    level = f"{config['evaluation']['confidence']:.0%}"
    return (
        f"Accuracy in %: the mean over the training seeds (each trains its own stage 1 and stage 2), "
        f"with each seed's value (`_seed<s>_%`) "
        f"and their standard deviation (`_seed_sd`); n is the items per seed. The {level} interval of a "
        "setting with one seed is the Wilson interval over its items; with more seeds it is the t interval "
        "over the per-seed accuracies: mean ± t(1 - α/2, seeds - 1) × SD / √seeds, SD their standard "
        "deviation (where they tie exactly, the item-level luck of a per-seed accuracy stands in for it), "
        "cut to 0-100%. It covers new training draws (each seed a whole student pipeline) on these fixed "
        "items, as the findings' intervals do (docs/verdicts.md)." + eval_seed_caption(config)
    )


def _seed_values(df, label: str) -> list[str]:
    prefix = f"{label}_seed"
    return [c for c in df.columns if c.startswith(prefix) and c.endswith("_%")]


def _plot_sweep(df, path: str, labels: list[str], level: str) -> None:
    """One panel per benchmark: accuracy against the outcome ER, hard vs subtask supervision, the
    mean over seeds as a line and each seed as a dot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(labels), figsize=(6 * len(labels), 4), squeeze=False)
    base = df[df["run"] == BASELINE].iloc[0]
    for ax, bench in zip(axes[0], labels):
        acc, low, high = f"{bench}_acc_%", f"{bench}_ci_low", f"{bench}_ci_high"
        for kind, name, color in (("hard", "hard-task", "tab:blue"), ("subtask", "subtask", "tab:orange")):
            d = df[df["supervision"] == kind].sort_values("error_rate")
            ax.plot(d["error_rate"], d[acc], marker="o", color=color, label=f"{name} supervision (mean)")
            ax.fill_between(d["error_rate"], d[low], d[high], color=color, alpha=0.2)
            for i, column in enumerate(_seed_values(d, bench)):
                ax.scatter(
                    d["error_rate"], d[column], s=12, color=color, alpha=0.6, label="each seed" if i == 0 else None
                )
        ax.axhline(base[acc], color="gray", linestyle="--", label="stage 1 only")
        ax.axhspan(base[low], base[high], color="gray", alpha=0.15)
        ax.set_xlabel("outcome error rate of the supervision set (%)")
        ax.set_ylabel(f"accuracy on {bench} (%)")
        ax.set_title(f"{bench}: hard-task vs subtask supervision ({level} CI)")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120, metadata={"Software": None})
    plt.close(fig)


def _plot_bars(df, label_column: str, title: str, path: str, bench: str) -> None:
    """Bars at the mean over seeds with the interval, a dot for each seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    acc, low, high = f"{bench}_acc_%", f"{bench}_ci_low", f"{bench}_ci_high"
    fig, ax = plt.subplots(figsize=(7, 4))
    names = [str(v) for v in df[label_column]]
    # Clipped at 0: at 0% or 100% the interval edge equals the estimate up to rounding.
    err = [(df[acc] - df[low]).clip(lower=0), (df[high] - df[acc]).clip(lower=0)]
    ax.bar(range(len(df)), df[acc], yerr=err, capsize=4, color="tab:blue", label="mean over seeds")
    for i, column in enumerate(_seed_values(df, bench)):
        ax.scatter(range(len(df)), df[column], s=12, color="black", zorder=3, label="each seed" if i == 0 else None)
    ax.set_xticks(range(len(df)), names, rotation=20, ha="right")
    ax.set_ylabel(f"accuracy on {bench} (%)")
    ax.set_title(title)
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=120, metadata={"Software": None})
    plt.close(fig)


def result_tables(
    *, graded: list[str], set_stats: list[str], config: dict, runs: dict, benchmarks: list[str], **outputs: str
) -> None:
    """The tables and figures of the paper's experiments, benchmarks in the order of ``benchmarks``;
    ``outputs`` holds ``<experiment>_csv``, ``_md``, ``_provenance_json`` and ``_png`` for each experiment."""
    missing = {f"{e}_{x}" for e in EXPERIMENTS for x in ("csv", "md", "provenance_json", "png")} - set(outputs)
    if missing:
        raise TypeError(f"result_tables: no output paths for {sorted(missing)}")
    output = outputs
    for e in EXPERIMENTS:  # matplotlib, unlike the table writers, does not create folders
        Path(output[f"{e}_png"]).parent.mkdir(parents=True, exist_ok=True)
    tables = build_tables(graded, set_stats, config, runs, benchmarks)
    titles = {
        "error_rate_sweep": "Hard-task vs subtask supervision across outcome error rates",
        "teacher_comparison": "Teachers at the same outcome error rate, different step-wise error rates",
        "combinations": "Hard tasks with subtasks, paraphrases or more epochs",
    }
    level = f"{config['evaluation']['confidence']:.0%}"
    # The sweep on every benchmark; the bar charts on the first (the study's main benchmark).
    labels = list(benchmark_labels(config, benchmarks).values())
    _plot_sweep(tables["error_rate_sweep"], output["error_rate_sweep_png"], labels, level)
    for name, column in (("teacher_comparison", "teacher"), ("combinations", "setting")):
        title = f"{titles[name]}\n(mean over seeds, {level} CI, dots: seeds)"
        _plot_bars(tables[name], column, title, output[f"{name}_png"], labels[0])
    for name, df in tables.items():
        csv, md = output[f"{name}_csv"], output[f"{name}_md"]
        write_table(df, csv, md, f"{titles[name]} (accuracy %, {level} CI)", caption=interval_caption(config))
        write_provenance(
            output[f"{name}_provenance_json"], [*graded, *set_stats], config, outputs=[csv, md, output[f"{name}_png"]]
        )
