"""Data tables: the supervision sets and the teachers, as measured (CSV + Markdown + provenance)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from ..artifacts import JUDGED, PAIR_STATS, parse
from ..core.io import read_jsonl
from ..core.provenance import write_provenance
from ..core.tables import write_table


def _load_json(path: str) -> dict:
    return json.loads(Path(path).read_text())


def data_sets_table(*, set_stats: list[str], csv: str, md: str, provenance_json: str, config: dict) -> None:
    """Per supervision set: size, incorrect solutions, measured outcome and step-wise error rates."""
    import pandas as pd

    stats_paths = set_stats
    rows = [_load_json(p) for p in stats_paths]
    df = pd.DataFrame(
        rows, columns=["set", "size", "incorrect", "outcome_error_rate", "stepwise_error_rate", "mean_steps"]
    )
    df = df.rename(columns={"outcome_error_rate": "outcome_ER_%", "stepwise_error_rate": "stepwise_ER_%"})
    write_table(df, csv, md, "Supervision sets: size, measured outcome and step-wise error rates")
    write_provenance(provenance_json, stats_paths, config, outputs=[csv, md])


def teachers_table(
    *, judged: list[str], pair_stats: list[str], csv: str, md: str, provenance_json: str, config: dict
) -> None:
    """Each teacher's configured per-step error against what its samples measure, per task kind."""
    import pandas as pd

    teachers, judged_paths, pair_stats_paths = config["teachers"], judged, pair_stats
    pair_stats = {}
    for path in pair_stats_paths:
        names = parse(PAIR_STATS, path)
        pair_stats[names["teacher"], names["kind"]] = _load_json(path)
    rows = []
    for path in judged_paths:
        names = parse(JUDGED, path)
        teacher, kind = names["teacher"], names["kind"]
        counts = defaultdict(int)
        for sample in read_jsonl(path):
            counts["samples"] += 1
            counts["incorrect"] += not sample["correct"]
            counts["steps"] += sum(v is not None for v in sample["step_verdicts"])  # None: not judged
            counts["wrong_steps"] += sum(v is False for v in sample["step_verdicts"])
        stats = pair_stats[teacher, kind]
        rows.append(
            {
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
            }
        )
    df = pd.DataFrame(rows).sort_values(["teacher", "kind"])
    write_table(df, csv, md, "Teachers: configured vs measured per-step error, outcome error of samples")
    write_provenance(provenance_json, [*judged_paths, *pair_stats_paths], config, outputs=[csv, md])
