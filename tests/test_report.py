"""Result and data tables built from small files written here: the numbers land in the right rows."""

import csv
import json

import pytest

from guiding import artifacts as A
from guiding.core.io import write_json, write_jsonl
from guiding.report.data_tables import data_sets_table, teachers_table
from guiding.report.result_tables import build_tables, result_tables

CONFIG = {
    "teachers": {
        "main": {"step_error": 0.1, "error_style": "slip"},
        "weak": {"step_error": 0.6, "error_style": "wrong_op"},
    },
    "sets": {
        "error_rate_sweep": {"teacher": "main", "error_rates": [0, 90]},
        "teacher_comparison": {"error_rate": 90, "teachers": ["main", "weak"]},
        "combinations": {"mix": [{"kind": "hard", "error_rate": 90}, {"kind": "subtask", "error_rate": 0}]},
    },
    "extra_runs": {"hard-main-er90-2x": {"set": "hard-main-er90"}},
    "evaluation": {
        "confidence": 0.95,
        "benchmarks": {
            "eval_hard": {"source": "world", "label": "hard"},
            "eval_easy": {"source": "world", "label": "easy"},
        },
    },
}
RUNS = {
    name: {"set": name, "recipe": {"num_train_epochs": 2}}
    for name in [
        "hard-main-er0",
        "hard-main-er90",
        "subtask-main-er0",
        "subtask-main-er90",
        "hard-weak-er90",
        "combo-mix",
    ]
}
RUNS["hard-main-er90-2x"] = {"set": "hard-main-er90", "recipe": {"num_train_epochs": 4}}
# Correct answers out of 20 per (model, benchmark): every model a different count, so a row
# that shows another model's accuracy fails the test.
HARD = {
    "stage1": 1,
    "hard-main-er0": 15,
    "hard-main-er90": 12,
    "subtask-main-er0": 4,
    "subtask-main-er90": 2,
    "hard-weak-er90": 3,
    "combo-mix": 17,
    "hard-main-er90-2x": 13,
}
EASY = {model: 20 - correct for model, correct in HARD.items()}
STATS = {
    "hard-main-er0": (0.0, 0.0),
    "hard-main-er90": (90.0, 11.0),
    "subtask-main-er0": (0.0, 0.0),
    "subtask-main-er90": (90.0, 12.0),
    "hard-weak-er90": (90.0, 40.0),
    "combo-mix": (50.0, 6.0),
}


@pytest.fixture
def files(tmp_path):
    graded = []
    for model_run, hard in HARD.items():
        model = model_run if model_run == "stage1" else A.stage2_model(model_run)
        for bench, correct in (("eval_hard", hard), ("eval_easy", EASY[model_run])):
            path = tmp_path / A.fill(A.GRADED, model=model, bench=bench)
            write_jsonl(path, [{"task_id": f"t{i}", "correct": i < correct} for i in range(20)])
            graded.append(str(path))
    stats = []
    for name, (outcome, stepwise) in STATS.items():
        path = tmp_path / A.fill(A.SET_STATS, name=name)
        write_json(
            path,
            {
                "set": name,
                "size": 100,
                "incorrect": int(outcome),
                "outcome_error_rate": outcome,
                "stepwise_error_rate": stepwise,
                "mean_steps": 3.5,
            },
        )
        stats.append(str(path))
    return graded, stats


def test_the_sweep_puts_each_kind_and_rate_in_its_own_row(files):
    tables = build_tables(*files, CONFIG, RUNS)
    sweep = tables["error_rate_sweep"].set_index("run")
    assert sweep.loc["hard-main-er0", "supervision"] == "hard" and sweep.loc["hard-main-er0", "hard_acc_%"] == 75
    assert sweep.loc["hard-main-er90", "hard_acc_%"] == 60 and sweep.loc["hard-main-er90", "error_rate"] == 90
    assert (
        sweep.loc["subtask-main-er0", "supervision"] == "subtask" and sweep.loc["subtask-main-er0", "hard_acc_%"] == 20
    )
    assert sweep.loc["subtask-main-er90", "hard_acc_%"] == 10 and sweep.loc["subtask-main-er90", "easy_acc_%"] == 90
    assert sweep.loc["stage1", "hard_acc_%"] == 5 and sweep.loc["stage1", "easy_acc_%"] == 95
    assert sweep.loc["hard-main-er90", "stepwise_ER_%"] == 11.0
    # 12/20 with a 95% Wilson interval, and n
    assert sweep.loc["hard-main-er90", "hard_ci_low"] == pytest.approx(38.66, abs=0.01)
    assert sweep.loc["hard-main-er90", "hard_ci_high"] == pytest.approx(78.12, abs=0.01)
    assert (sweep["hard_n"] == 20).all()
    assert list(sweep.index) == ["stage1", "hard-main-er0", "hard-main-er90", "subtask-main-er0", "subtask-main-er90"]


def test_the_average_over_benchmarks_weighs_each_benchmark_the_same(files):
    config = {**CONFIG, "evaluation": {**CONFIG["evaluation"], "average": True}}
    sweep = build_tables(*files, config, RUNS)["error_rate_sweep"].set_index("run")
    for run, hard in (("stage1", 1), ("hard-main-er90", 12)):
        assert sweep.loc[run, "avg_acc_%"] == pytest.approx((5 * hard + 5 * (20 - hard)) / 2)
    assert "avg_acc_%" not in build_tables(*files, CONFIG, RUNS)["error_rate_sweep"]


def test_teachers_and_combinations_rows(files):
    tables = build_tables(*files, CONFIG, RUNS)
    teachers = tables["teacher_comparison"].set_index("teacher")
    assert teachers.loc["main", "hard_acc_%"] == 60 and teachers.loc["weak", "hard_acc_%"] == 15
    assert teachers.loc["weak", "step_error_config"] == 60 and teachers.loc["weak", "stepwise_ER_%"] == 40
    combos = tables["combinations"].set_index("setting")
    assert combos.loc["combo-mix", "hard_acc_%"] == 85
    assert combos.loc["hard-main-er90", "hard_acc_%"] == 60  # the hard part alone
    assert combos.loc["hard-main-er90-2x", "hard_acc_%"] == 65 and combos.loc["hard-main-er90-2x", "epochs"] == 4


def test_result_tables_write_what_they_build(files, tmp_path):
    outputs = {
        f"{e}_{x.replace('.', '_')}": str(tmp_path / A.fill(A.TABLE, table=e, ext=x))
        for e in A.EXPERIMENTS
        for x in A.TABLE_FORMATS
    }
    outputs.update({f"{e}_png": str(tmp_path / A.fill(A.FIGURE, figure=e)) for e in A.EXPERIMENTS})
    graded, stats = files
    result_tables(graded=graded, set_stats=stats, config=CONFIG, runs=RUNS, **outputs)
    with open(outputs["error_rate_sweep_csv"]) as f:
        rows = {r["run"]: r for r in csv.DictReader(f)}
    assert float(rows["subtask-main-er0"]["hard_acc_%"]) == 20.0
    provenance = json.loads(open(outputs["error_rate_sweep_provenance_json"]).read())
    assert {p["path"] for p in provenance["inputs"]} == set(graded) | set(stats)
    assert open(outputs["error_rate_sweep_png"], "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_data_tables_measure_the_sets_and_the_teachers(tmp_path):
    judged, pair_stats = [], []
    samples = {  # (teacher, kind): [(correct, step verdicts)]
        ("main", "hard"): [(True, [True, True, True]), (False, [True, False, True])],
        ("weak", "hard"): [(False, [False, False, True, None])],
    }
    for (teacher, kind), rows in samples.items():
        path = tmp_path / A.fill(A.JUDGED, teacher=teacher, kind=kind)
        write_jsonl(path, [{"correct": c, "step_verdicts": v} for c, v in rows])
        judged.append(str(path))
        path = tmp_path / A.fill(A.PAIR_STATS, teacher=teacher, kind=kind)
        write_json(path, {"tasks": 5, "pairs": 4, "dropped_no_incorrect": 1, "reference_rewritten": 2})
        pair_stats.append(str(path))
    out = {x: str(tmp_path / f"teachers.{x}") for x in ("csv", "md", "provenance_json")}
    teachers_table(judged=judged, pair_stats=pair_stats, config=CONFIG, **out)
    with open(out["csv"]) as f:
        rows = {r["teacher"]: r for r in csv.DictReader(f)}
    assert float(rows["main"]["measured_step_error_%"]) == pytest.approx(100 / 6, abs=1e-4)  # CSV: 4 decimals
    assert float(rows["main"]["sample_outcome_ER_%"]) == 50
    # An unjudged step (None) counts in neither the wrong steps nor the steps.
    assert float(rows["weak"]["measured_step_error_%"]) == pytest.approx(100 * 2 / 3, abs=1e-4)
    assert float(rows["weak"]["configured_step_error_%"]) == 60

    stats = tmp_path / "stats.json"
    write_json(
        stats,
        {
            "set": "hard-main-er90",
            "size": 10,
            "incorrect": 9,
            "outcome_error_rate": 90.0,
            "stepwise_error_rate": 12.5,
            "mean_steps": 3.0,
        },
    )
    out = {x: str(tmp_path / f"data_sets.{x}") for x in ("csv", "md", "provenance_json")}
    data_sets_table(set_stats=[str(stats)], config=CONFIG, **out)
    with open(out["csv"]) as f:
        (row,) = list(csv.DictReader(f))
    assert row["set"] == "hard-main-er90" and float(row["outcome_ER_%"]) == 90 and float(row["stepwise_ER_%"]) == 12.5
