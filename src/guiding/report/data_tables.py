"""Data tables: the supervision sets and the teachers, as measured (CSV + Markdown + provenance)."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path

from ..artifacts import JUDGED, PAIR_STATS, parse
from ..core.io import read_jsonl
from ..core.provenance.sidecar import write_provenance
from ..core.statistics import cluster_ratio_bootstrap
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
    *,
    judged: list[str],
    pair_stats: list[str],
    csv: str,
    md: str,
    provenance_json: str,
    config: dict,
    confidence: float = 0.95,
    bootstrap: dict | None = None,
) -> None:
    """Each teacher's configured per-step error against what its samples measure, per task kind.

    The measured step-wise error rate (SWER) is the teacher's wrong steps over its judged steps; its
    interval is a bootstrap over the solutions (``bootstrap``: resamples and RNG seed), since the
    steps of one solution are not independent draws.
    """
    import pandas as pd

    bootstrap = {"resamples": 10_000, "seed": 0, **(bootstrap or {})}
    teachers, judged_paths, pair_stats_paths = config["teachers"], judged, pair_stats
    pair_stats = {}
    for path in pair_stats_paths:
        names = parse(PAIR_STATS, path)
        pair_stats[names["teacher"], names["kind"]] = _load_json(path)
    rows = []
    for path in judged_paths:
        names = parse(JUDGED, path)
        teacher, kind = names["teacher"], names["kind"]
        samples = read_jsonl(path)
        wrong = [sum(v is False for v in s["step_verdicts"]) for s in samples]
        steps = [sum(v is not None for v in s["step_verdicts"]) for s in samples]  # None: not judged
        low, high = cluster_ratio_bootstrap(wrong, steps, confidence, bootstrap["resamples"], bootstrap["seed"])
        stats = pair_stats[teacher, kind]
        rows.append(
            {
                "teacher": teacher,
                "kind": kind,
                "error_style": teachers[teacher].get("error_style"),
                "configured_step_error_%": 100 * teachers[teacher]["step_error"]
                if "step_error" in teachers[teacher]
                else math.nan,
                "measured_step_error_%": 100 * sum(wrong) / sum(steps) if sum(steps) else math.nan,
                "measured_step_error_ci_low_%": 100 * low,
                "measured_step_error_ci_high_%": 100 * high,
                "judged_steps": sum(steps),
                "sample_outcome_ER_%": 100 * sum(not s["correct"] for s in samples) / len(samples)
                if samples
                else math.nan,
                "samples": len(samples),
                "tasks": stats["tasks"],
                "pairs": stats["pairs"],
                "dropped_no_incorrect": stats["dropped_no_incorrect"],
                "reference_rewritten": stats["reference_rewritten"],
            }
        )
    df = pd.DataFrame(rows).sort_values(["teacher", "kind"])
    level = f"{confidence:.0%}"
    caption = (
        f"Step-wise error rate (SWER) in %: wrong steps over judged steps of all of a teacher's samples "
        f"(a step the judge could not tell counts in neither). Its {level} interval (`_ci_low`, `_ci_high`) "
        f"is a percentile bootstrap over the solutions ({bootstrap['resamples']} resamples, RNG seed "
        f"{bootstrap['seed']}): the steps of one solution share its luck (a slip carried on makes the later "
        f"steps wrong too), so solutions are resampled whole, not steps."
    )
    write_table(
        df, csv, md, "Teachers: configured vs measured per-step error, outcome error of samples", caption=caption
    )
    write_provenance(provenance_json, [*judged_paths, *pair_stats_paths], config, outputs=[csv, md])


def _share(counts: dict, part: str, whole: str) -> float:
    """``part`` in percent of ``whole`` (NaN when there is no whole: not measured)."""
    return 100 * counts[part] / counts[whole] if counts[whole] else math.nan


def judge_agreement_table(*, judged: list[str], csv: str, md: str, provenance_json: str, config: dict) -> None:
    """Per teacher and kind: how often the second opinions agree with the verdicts the sets use.

    Final results: the final-result judge (``judge_correct``) against the answer module; its N/A
    answers are counted apart. Steps: the second step judge (``check_step_verdicts``) against the
    step judge whose labels give the step-wise error rates (exact in the synthetic world: the
    truth), step by step where both gave a verdict, and the step-wise error rate each one measures.
    A column is empty where that second opinion is not configured.
    """
    import pandas as pd

    rows = []
    for path in judged:
        names = parse(JUDGED, path)
        c = defaultdict(int)
        for sample in read_jsonl(path):
            c["samples"] += 1
            if sample.get("judge_correct") is not None:
                c["final_compared"] += 1
                c["final_agree"] += sample["judge_correct"] == sample["correct"]
            elif "judge_correct" in sample:
                c["final_na"] += 1
            if "check_step_verdicts" in sample:
                for truth, check in zip(sample["step_verdicts"], sample["check_step_verdicts"]):
                    if truth is None or check is None:
                        continue
                    c["steps_compared"] += 1
                    c["steps_agree"] += truth == check
                    c["truth_wrong"] += truth is False
                    c["check_wrong"] += check is False
        rows.append(
            {
                "teacher": names["teacher"],
                "kind": names["kind"],
                "samples": c["samples"],
                "final_compared": c["final_compared"],
                "final_agreement_%": _share(c, "final_agree", "final_compared"),
                "final_judge_na": c["final_na"],
                "steps_compared": c["steps_compared"],
                "step_agreement_%": _share(c, "steps_agree", "steps_compared"),
                "stepwise_ER_step_judge_%": _share(c, "truth_wrong", "steps_compared"),
                "stepwise_ER_second_judge_%": _share(c, "check_wrong", "steps_compared"),
            }
        )
    df = pd.DataFrame(rows).sort_values(["teacher", "kind"])
    write_table(df, csv, md, "Judge agreement: second opinions against the verdicts the sets use")
    write_provenance(provenance_json, judged, config, outputs=[csv, md])
