"""Result tables and figures: accuracies with n and a Wilson confidence interval, per experiment."""

from __future__ import annotations

import json
import math
from pathlib import Path

from ..artifacts import (
    BASELINE,
    EXPERIMENTS,
    GRADED,
    KINDS,
    combination_name,
    error_rate_set_name,
    parse,
    stage2_model,
)
from ..core.io import read_jsonl
from ..core.provenance import write_provenance
from ..core.statistics import wilson_interval
from ..core.tables import write_table


def accuracy(graded_path: str, confidence: float) -> dict:
    rows = read_jsonl(graded_path)
    correct = sum(r["correct"] for r in rows)
    lo, hi = wilson_interval(correct, len(rows), confidence)
    return {"acc": 100 * correct / len(rows), "ci_low": 100 * lo, "ci_high": 100 * hi, "n": len(rows)}


def _scores(graded: list[str], confidence: float) -> dict[tuple[str, str], dict]:
    """{(model, bench): accuracy} from the graded prediction files."""
    out = {}
    for path in graded:
        names = parse(GRADED, path)
        out[names["model"], names["bench"]] = accuracy(path, confidence)
    return out


def _score_columns(scores: dict, model: str, labels: dict[str, str], average: bool) -> dict:
    """Accuracy, CI and n per benchmark (columns prefixed by its label); with ``average``, the
    mean accuracy over the benchmarks (each benchmark weighs the same, as in the paper)."""
    row = {}
    for bench, label in labels.items():
        s = scores[model, bench]
        row.update(
            {
                f"{label}_acc_%": s["acc"],
                f"{label}_ci_low": s["ci_low"],
                f"{label}_ci_high": s["ci_high"],
                f"{label}_n": s["n"],
            }
        )
    if average:
        row["avg_acc_%"] = sum(scores[model, bench]["acc"] for bench in labels) / len(labels)
    return row


def build_tables(graded: list[str], set_stats: list[str], config: dict, runs: dict):
    import pandas as pd

    confidence = config["evaluation"]["confidence"]
    scores = _scores(graded, confidence)
    bench_labels = {bench: spec["label"] for bench, spec in config["evaluation"]["benchmarks"].items()}
    average = config["evaluation"].get("average", False)

    def _baseline_row(scores: dict, **names) -> dict:
        return {
            **names,
            "run": BASELINE,
            "outcome_ER_%": math.nan,
            "stepwise_ER_%": math.nan,
            **_score_columns(scores, BASELINE, bench_labels, average),
        }

    stats = {s["set"]: s for s in (json.loads(Path(p).read_text()) for p in set_stats)}

    def run_row(run: str, **labels) -> dict:
        s = stats[runs[run]["set"]]
        return {
            **labels,
            "run": run,
            "outcome_ER_%": s["outcome_error_rate"],
            "stepwise_ER_%": s["stepwise_error_rate"],
            **_score_columns(scores, stage2_model(run), bench_labels, average),
        }

    sweep = config["sets"]["error_rate_sweep"]
    rows = [_baseline_row(scores, supervision="none (stage 1 only)", error_rate=math.nan)]
    for kind in KINDS:
        for rate in sweep["error_rates"]:
            rows.append(run_row(error_rate_set_name(kind, sweep["teacher"], rate), supervision=kind, error_rate=rate))
    error_rate_sweep = pd.DataFrame(rows)

    comparison = config["sets"]["teacher_comparison"]
    rows = [_baseline_row(scores, teacher="none (stage 1 only)", step_error_config=math.nan)]
    for teacher in comparison["teachers"]:
        rows.append(
            run_row(
                error_rate_set_name("hard", teacher, comparison["error_rate"]),
                teacher=teacher,
                step_error_config=100 * config["teachers"][teacher]["step_error"],
            )
        )
    teacher_comparison = pd.DataFrame(rows)

    rows = [_baseline_row(scores, setting="none (stage 1 only)", items=math.nan, epochs=math.nan)]
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


def _plot_sweep(df, path: str, labels: list[str]) -> None:
    """One panel per benchmark: accuracy against the outcome ER, hard vs subtask supervision."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(labels), figsize=(6 * len(labels), 4), squeeze=False)
    base = df[df["run"] == BASELINE].iloc[0]
    for ax, bench in zip(axes[0], labels):
        acc, low, high = f"{bench}_acc_%", f"{bench}_ci_low", f"{bench}_ci_high"
        for kind, name, color in (("hard", "hard-task", "tab:blue"), ("subtask", "subtask", "tab:orange")):
            d = df[df["supervision"] == kind].sort_values("error_rate")
            ax.plot(d["error_rate"], d[acc], marker="o", color=color, label=f"{name} supervision")
            ax.fill_between(d["error_rate"], d[low], d[high], color=color, alpha=0.2)
        ax.axhline(base[acc], color="gray", linestyle="--", label="stage 1 only")
        ax.axhspan(base[low], base[high], color="gray", alpha=0.15)
        ax.set_xlabel("outcome error rate of the supervision set (%)")
        ax.set_ylabel(f"accuracy on {bench} (%)")
        ax.set_title(f"{bench}: hard-task vs subtask supervision (95% CI)")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120, metadata={"Software": None})
    plt.close(fig)


def _plot_bars(df, label_column: str, title: str, path: str, bench: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    acc, low, high = f"{bench}_acc_%", f"{bench}_ci_low", f"{bench}_ci_high"
    fig, ax = plt.subplots(figsize=(7, 4))
    names = [str(v) for v in df[label_column]]
    # Clipped at 0: at 0% or 100% the interval edge equals the estimate up to rounding.
    err = [(df[acc] - df[low]).clip(lower=0), (df[high] - df[acc]).clip(lower=0)]
    ax.bar(range(len(df)), df[acc], yerr=err, capsize=4, color="tab:blue")
    ax.set_xticks(range(len(df)), names, rotation=20, ha="right")
    ax.set_ylabel(f"accuracy on {bench} (%)")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120, metadata={"Software": None})
    plt.close(fig)


def result_tables(*, graded: list[str], set_stats: list[str], config: dict, runs: dict, **outputs: str) -> None:
    """The tables and figures of the paper's experiments; ``outputs`` holds ``<experiment>_csv``,
    ``_md``, ``_provenance_json`` and ``_png`` for each experiment."""
    missing = {f"{e}_{x}" for e in EXPERIMENTS for x in ("csv", "md", "provenance_json", "png")} - set(outputs)
    if missing:
        raise TypeError(f"result_tables: no output paths for {sorted(missing)}")
    output = outputs
    for e in EXPERIMENTS:  # matplotlib, unlike the table writers, does not create folders
        Path(output[f"{e}_png"]).parent.mkdir(parents=True, exist_ok=True)
    tables = build_tables(graded, set_stats, config, runs)
    titles = {
        "error_rate_sweep": "Hard-task vs subtask supervision across outcome error rates",
        "teacher_comparison": "Teachers at the same outcome error rate, different step-wise error rates",
        "combinations": "Hard tasks with subtasks, paraphrases or more epochs",
    }
    # The sweep on every benchmark; the bar charts on the first (the study's main benchmark).
    labels = [spec["label"] for spec in config["evaluation"]["benchmarks"].values()]
    _plot_sweep(tables["error_rate_sweep"], output["error_rate_sweep_png"], labels)
    for name, column in (("teacher_comparison", "teacher"), ("combinations", "setting")):
        _plot_bars(tables[name], column, titles[name], output[f"{name}_png"], labels[0])
    for name, df in tables.items():
        csv, md = output[f"{name}_csv"], output[f"{name}_md"]
        write_table(df, csv, md, titles[name] + " (accuracy %, 95% Wilson CI)")
        write_provenance(
            output[f"{name}_provenance_json"], [*graded, *set_stats], config, outputs=[csv, md, output[f"{name}_png"]]
        )
