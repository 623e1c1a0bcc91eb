"""Result and data tables (CSV + Markdown, each with a provenance sidecar)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from .io import read_jsonl
from .provenance import write_provenance
from .tables import write_table


def _load_json(path: str) -> dict:
    return json.loads(Path(path).read_text())


def data_sets_table(stats_paths: list[str], output, config: dict) -> None:
    import pandas as pd

    rows = [_load_json(p) for p in stats_paths]
    df = pd.DataFrame(rows, columns=["set", "size", "incorrect", "outcome_error_rate", "stepwise_error_rate", "mean_steps"])
    df = df.rename(columns={"outcome_error_rate": "outcome_ER_%", "stepwise_error_rate": "stepwise_ER_%"})
    write_table(df, output.csv, output.md, "Supervision sets: size, measured outcome and step-wise error rates")
    write_provenance(output.provenance, stats_paths, config, outputs=[output.csv, output.md])


def teachers_table(judged_paths: list[str], pair_stats_paths: list[str], teachers: dict, output, config: dict) -> None:
    """Each teacher's configured per-step error against what its samples measure, per task kind."""
    import pandas as pd

    pair_stats = {}
    for path in pair_stats_paths:
        teacher, kind = Path(path).parent.name, Path(path).name.split(".")[0]
        pair_stats[teacher, kind] = _load_json(path)
    rows = []
    for path in judged_paths:
        teacher, kind = Path(path).parent.name, Path(path).stem
        counts = defaultdict(int)
        for sample in read_jsonl(path):
            counts["samples"] += 1
            counts["incorrect"] += not sample["correct"]
            counts["steps"] += len(sample["step_verdicts"])
            counts["wrong_steps"] += sum(v is False for v in sample["step_verdicts"])
        stats = pair_stats[teacher, kind]
        rows.append({
            "teacher": teacher,
            "kind": kind,
            "error_style": teachers[teacher]["error_style"],
            "configured_step_error_%": 100 * teachers[teacher]["step_error"],
            "measured_step_error_%": 100 * counts["wrong_steps"] / counts["steps"],
            "sample_outcome_ER_%": 100 * counts["incorrect"] / counts["samples"],
            "samples": counts["samples"],
            "tasks": stats["tasks"],
            "pairs": stats["pairs"],
            "dropped_no_incorrect": stats["dropped_no_incorrect"],
            "reference_rewritten": stats["reference_rewritten"],
        })
    df = pd.DataFrame(rows).sort_values(["teacher", "kind"])
    write_table(df, output.csv, output.md, "Teachers: configured vs measured per-step error, outcome error of samples")
    write_provenance(output.provenance, [*judged_paths, *pair_stats_paths], config, outputs=[output.csv, output.md])
