"""Result, findings and data tables built from small files written here: the numbers land in the
right rows, and the verdicts follow from them."""

import csv
import json
import math

import pytest

from guiding import artifacts as A
from guiding.config import canonical, claimed_comparisons, stage2_runs
from guiding.core.io import write_json, write_jsonl
from guiding.core.statistics import wilson_interval
from guiding.report.data_tables import data_sets_table, teachers_table
from guiding.report.findings import build_findings, findings_table, verdict
from guiding.report.result_tables import build_tables, interval_caption, result_tables

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
    "training": {"stage2": {"num_train_epochs": 2}},
    "extra_runs": {"hard-main-er90-2x": {"set": "hard-main-er90", "recipe_overrides": {"num_train_epochs": 4}}},
    "replicates": {"seeds": [42]},
    "evaluation": {
        "confidence": 0.95,
        "bootstrap": {"resamples": 2000, "seed": 0},
        "benchmarks": {
            "eval_hard": {"source": "world", "label": "hard"},
            "eval_easy": {"source": "world", "label": "easy"},
        },
    },
}
RUNS = stage2_runs(CONFIG)
BENCHES = list(CONFIG["evaluation"]["benchmarks"])  # the config's order, as the rules pass it
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


def write_graded(root, model_run: str, seed: int, bench: str, correct: list[bool]) -> str:
    """A graded file: item i (task t00, t01, ...) answered correctly where ``correct[i]``."""
    model = model_run if model_run == A.BASELINE else A.stage2_model(model_run)
    path = root / A.fill(A.GRADED, model=model, seed=seed, bench=bench)
    write_jsonl(path, [{"task_id": f"t{i:02d}", "correct": c} for i, c in enumerate(correct)])
    return str(path)


def first(k: int, n: int = 20) -> list[bool]:
    """The first ``k`` of ``n`` items correct."""
    return [i < k for i in range(n)]


def write_set_stats(root) -> list[str]:
    stats = []
    for name, (outcome, stepwise) in STATS.items():
        path = root / A.fill(A.SET_STATS, name=name)
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
    return stats


@pytest.fixture
def files(tmp_path):
    graded = []
    for model_run, hard in HARD.items():
        for bench, correct in (("eval_hard", hard), ("eval_easy", EASY[model_run])):
            graded.append(write_graded(tmp_path, model_run, 42, bench, first(correct)))
    return graded, write_set_stats(tmp_path)


def test_the_sweep_puts_each_kind_and_rate_in_its_own_row(files):
    tables = build_tables(*files, CONFIG, RUNS, BENCHES)
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
    sweep = build_tables(*files, config, RUNS, BENCHES)["error_rate_sweep"].set_index("run")
    for run, hard in (("stage1", 1), ("hard-main-er90", 12)):
        assert sweep.loc[run, "avg_acc_%"] == pytest.approx((5 * hard + 5 * (20 - hard)) / 2)
    assert "avg_acc_%" not in build_tables(*files, CONFIG, RUNS, BENCHES)["error_rate_sweep"]


def test_teachers_and_combinations_rows(files):
    tables = build_tables(*files, CONFIG, RUNS, BENCHES)
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
    result_tables(graded=graded, set_stats=stats, config=CONFIG, runs=RUNS, benchmarks=BENCHES, **outputs)
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


# Two training seeds: correct answers out of 20 on eval_hard per model and seed (each seed trains
# its own stage 1 too); on eval_easy every run gets the complement.
SEEDS = [42, 7]
HARD_BY_SEED = {run: (hard, max(hard - 6, 0)) for run, hard in HARD.items() if run != A.BASELINE}
HARD_BY_SEED[A.BASELINE] = (1, 3)
TWO_SEEDS = {**CONFIG, "replicates": {"seeds": SEEDS}}


@pytest.fixture
def two_seed_files(tmp_path):
    graded = []
    for run, counts in HARD_BY_SEED.items():
        for seed, hard in zip(SEEDS, counts):
            graded.append(write_graded(tmp_path, run, seed, "eval_hard", first(hard)))
            graded.append(write_graded(tmp_path, run, seed, "eval_easy", first(20 - hard)))
    return graded, write_set_stats(tmp_path)


def test_with_two_seeds_a_row_holds_their_mean_each_seed_and_an_interval_over_both(two_seed_files):
    sweep = build_tables(*two_seed_files, TWO_SEEDS, RUNS, BENCHES)["error_rate_sweep"].set_index("run")
    row = sweep.loc["hard-main-er0"]  # 15/20 at seed 42, 9/20 at seed 7
    assert row["hard_seed42_%"] == 75 and row["hard_seed7_%"] == 45 and row["hard_acc_%"] == 60
    assert row["hard_seed_sd"] == pytest.approx(30 / 2**0.5)
    assert row["easy_acc_%"] == 40 and row["hard_n"] == 20
    # The seeds disagree by 30 points: the interval is wider than the items' alone would be.
    wilson_low, wilson_high = wilson_interval(24, 40, 0.95)
    assert row["hard_ci_low"] < row["hard_acc_%"] < row["hard_ci_high"]
    assert row["hard_ci_high"] - row["hard_ci_low"] > 100 * (wilson_high - wilson_low)
    # The baseline is replicated like every run: each seed's stage 1 has its column and the spread shows.
    base = sweep.loc[A.BASELINE]
    assert (base["hard_seed42_%"], base["hard_seed7_%"], base["hard_acc_%"]) == (5, 15, 10)
    assert base["hard_seed_sd"] == pytest.approx(10 / 2**0.5)


def result_outputs(root) -> dict[str, str]:
    outputs = {
        f"{e}_{x.replace('.', '_')}": str(root / A.fill(A.TABLE, table=e, ext=x))
        for e in A.EXPERIMENTS
        for x in A.TABLE_FORMATS
    }
    outputs.update({f"{e}_png": str(root / A.fill(A.FIGURE, figure=e)) for e in A.EXPERIMENTS})
    return outputs


def test_tables_over_seeds_are_byte_identical_when_rebuilt(two_seed_files, tmp_path):
    graded, stats = two_seed_files
    written = []
    for again in ("first", "second"):
        outputs = result_outputs(tmp_path / again)
        result_tables(graded=graded, set_stats=stats, config=TWO_SEEDS, runs=RUNS, benchmarks=BENCHES, **outputs)
        findings = {x.replace(".", "_"): str(tmp_path / again / f"findings.{x}") for x in A.TABLE_FORMATS}
        findings_table(graded=graded, set_stats=stats, config=TWO_SEEDS, benchmarks=BENCHES, **findings)
        written.append(
            [outputs[f"{e}_{x}"] for e in A.EXPERIMENTS for x in ("csv", "md")] + [findings["csv"], findings["md"]]
        )
    for a, b in zip(*written):
        assert open(a, "rb").read() == open(b, "rb").read(), a
    assert "two-level bootstrap over seeds and items (2000 resamples" in open(written[0][1]).read()


def test_a_verdict_needs_the_whole_interval_on_one_side():
    assert verdict(0.5, 9.0) == "holds"
    assert verdict(-9.0, -0.5) == "refuted"
    assert verdict(0.0, 9.0) == verdict(-3.0, 3.0) == verdict(0.0, 0.0) == "inconclusive"


# Findings from 40 items and two seeds, where each claim's outcome is known by construction:
# {run: (items correct at seed 42, at seed 7)} as sets of item indices.
FINDING_ITEMS = {
    "hard-main-er90": (range(0, 30), range(0, 28)),
    "subtask-main-er0": (range(0, 5), range(0, 6)),  # finding 1: 25 and 22 items behind: holds
    "hard-weak-er90": (range(2, 32), range(0, 32)),  # finding 2: 0 and -4 items: inconclusive
    "combo-mix": (range(0, 10), range(0, 12)),  # finding 3 vs hard alone: -20 and -16 items: refuted
    "hard-main-er90-2x": (range(0, 10), range(2, 12)),  # finding 3 vs more epochs: 0 and +2: inconclusive
}


def test_findings_pair_seeds_and_items_and_give_holds_inconclusive_and_refuted(tmp_path):
    # The teachers listed weak first: finding 2 still puts the lower measured step-wise ER first.
    sets = {**CONFIG["sets"], "teacher_comparison": {"error_rate": 90, "teachers": ["weak", "main"]}}
    config = {**TWO_SEEDS, "sets": sets}
    graded = []
    for run, by_seed in FINDING_ITEMS.items():
        for seed, items in zip(SEEDS, by_seed):
            correct = [i in items for i in range(40)]
            graded.append(write_graded(tmp_path, run, seed, "eval_hard", correct))
            graded.append(write_graded(tmp_path, run, seed, "eval_easy", [not c for c in correct]))
    # Stage 1 at each seed: one item right, so clean subtasks beat it by 4 and 5 items.
    for bench, correct in (("eval_hard", [i < 1 for i in range(40)]), ("eval_easy", [i >= 1 for i in range(40)])):
        graded += [write_graded(tmp_path, A.BASELINE, seed, bench, correct) for seed in SEEDS]
    table = build_findings(graded, write_set_stats(tmp_path), config, BENCHES)
    assert list(table["benchmark"]) == ["hard"] * 5 + ["easy"] * 5  # the headline benchmark first
    premise = table.iloc[0]
    assert (premise["finding"], premise["a"], premise["b"]) == (0, "subtask-main-er0", A.BASELINE)
    assert premise["b_acc_%"] == pytest.approx(2.5) and math.isnan(premise["b_stepwise_ER_%"])
    assert premise["diff_by_seed"] == "42: +10.0; 7: +12.5" and (premise["seeds"], premise["n"]) == (2, 40)
    assert premise["ci_low"] > 0 and premise["verdict"] == "holds"
    hard = table[table["benchmark"] == "hard"].set_index("b")
    one = hard.loc["subtask-main-er0"]
    assert (one["finding"], one["a"]) == (1, "hard-main-er90")
    assert one["a_acc_%"] == pytest.approx(100 * 58 / 80) and one["b_acc_%"] == pytest.approx(100 * 11 / 80)
    assert one["diff_pts"] == pytest.approx(100 * 47 / 80) and one["diff_by_seed"] == "42: +62.5; 7: +55.0"
    assert one["ci_low"] > 30 and one["verdict"] == "holds"
    two = hard.loc["hard-weak-er90"]
    assert (two["finding"], two["a"], two["a_stepwise_ER_%"], two["b_stepwise_ER_%"]) == (2, "hard-main-er90", 11, 40)
    assert two["diff_pts"] == pytest.approx(-5.0) and two["diff_by_seed"] == "42: +0.0; 7: -10.0"
    assert two["ci_low"] < 0 < two["ci_high"] and two["verdict"] == "inconclusive"
    alone = hard.loc["hard-main-er90"]
    assert (alone["finding"], alone["a"], alone["claim"]) == (3, "combo-mix", "hard + subtasks beats hard alone")
    assert alone["diff_pts"] == pytest.approx(-45.0) and alone["ci_high"] < -25 and alone["verdict"] == "refuted"
    epochs = hard.loc["hard-main-er90-2x"]
    assert epochs["claim"] == "hard + subtasks beats hard with more epochs" and epochs["verdict"] == "inconclusive"
    assert (epochs["seeds"], epochs["n"]) == (2, 40)
    # On the easy benchmark every answer is flipped, so every difference changes sign.
    easy = table[table["benchmark"] == "easy"].set_index("b")
    assert easy.loc["subtask-main-er0", "diff_pts"] == pytest.approx(-one["diff_pts"])
    assert easy.loc["subtask-main-er0", "verdict"] == "refuted" and easy.loc["hard-main-er90", "verdict"] == "holds"


def test_findings_refuse_settings_trained_with_other_seeds(tmp_path):
    graded = [write_graded(tmp_path, run, 42, "eval_hard", first(5)) for run in [A.BASELINE, *FINDING_ITEMS]]
    graded.append(write_graded(tmp_path, "subtask-main-er0", 7, "eval_hard", first(5)))
    config = {**TWO_SEEDS, "evaluation": {**CONFIG["evaluation"], "benchmarks": {"eval_hard": {"label": "hard"}}}}
    with pytest.raises(ValueError, match="different seeds"):
        build_findings(graded, write_set_stats(tmp_path), config, ["eval_hard"])


def test_stage1_is_paired_by_seed_and_a_missing_stage1_seed_is_an_error(tmp_path):
    """Each replicate's stage 2 is compared with the stage 1 it started from."""
    graded = [write_graded(tmp_path, A.BASELINE, 1, "eval_hard", first(2, 40))]
    graded += [write_graded(tmp_path, run, 1, "eval_hard", first(10, 40)) for run in FINDING_ITEMS]
    evaluation = {**CONFIG["evaluation"], "benchmarks": {"eval_hard": {"label": "hard"}}}
    config = {**CONFIG, "replicates": {"seeds": [1]}, "evaluation": evaluation}
    premise = build_findings(graded, write_set_stats(tmp_path), config, ["eval_hard"]).iloc[0]
    assert (premise["finding"], premise["b"], premise["seeds"]) == (0, A.BASELINE, 1)
    assert premise["diff_by_seed"] == "1: +20.0" and premise["verdict"] == "holds"
    stage1_of_another_seed = [write_graded(tmp_path, A.BASELINE, 42, "eval_hard", first(2, 40)), *graded[1:]]
    with pytest.raises(ValueError, match="different seeds"):
        build_findings(stage1_of_another_seed, write_set_stats(tmp_path), config, ["eval_hard"])


def test_the_summary_prints_the_headline_verdicts(tmp_path, capsys):
    from guiding.report.summary import main

    graded = []
    for run, by_seed in FINDING_ITEMS.items():
        for seed, items in zip(SEEDS, by_seed):
            for bench in ("eval_hard", "eval_easy"):
                graded.append(write_graded(tmp_path, run, seed, bench, [i in items for i in range(40)]))
    for bench in ("eval_hard", "eval_easy"):
        graded += [write_graded(tmp_path, A.BASELINE, seed, bench, first(0, 40)) for seed in SEEDS]
    results = tmp_path / "results"
    out = {x.replace(".", "_"): str(results / "tables" / f"findings.{x}") for x in A.TABLE_FORMATS}
    findings_table(graded=graded, set_stats=write_set_stats(tmp_path), config=TWO_SEEDS, benchmarks=BENCHES, **out)
    assert main(str(results)) == 0
    printed = capsys.readouterr().out
    assert "(1) hard-main-er90 vs subtask-main-er0: +58.8 points" in printed and printed.count("(3) combo-mix") == 2
    assert "(0) subtask-main-er0 vs stage1: +13.8 points" in printed
    assert "refuted" in printed and printed.count(" over 2 seed(s): ") == 5  # the headline benchmark's rows only


def test_benchmarks_come_in_the_order_the_rule_passes_not_in_the_params_sorted_order(files):
    # A rule's params reach the step with mapping keys sorted (canonical): eval_easy before eval_hard.
    config = {
        **CONFIG,
        "evaluation": {**CONFIG["evaluation"], "benchmarks": canonical(CONFIG["evaluation"]["benchmarks"])},
    }
    assert list(config["evaluation"]["benchmarks"]) == ["eval_easy", "eval_hard"]
    sweep = build_tables(*files, config, RUNS, ["eval_hard", "eval_easy"])["error_rate_sweep"]
    accuracy_columns = [c for c in sweep.columns if c.endswith("_acc_%")]
    assert accuracy_columns == ["hard_acc_%", "easy_acc_%"]


def _teachers_rows(tmp_path, samples: dict, **interval) -> dict:
    """The teachers table of judged files written here: {(teacher, kind): [(correct, step verdicts)]}."""
    judged, pair_stats = [], []
    for (teacher, kind), rows in samples.items():
        path = tmp_path / A.fill(A.JUDGED, teacher=teacher, kind=kind)
        write_jsonl(path, [{"correct": c, "step_verdicts": v} for c, v in rows])
        judged.append(str(path))
        path = tmp_path / A.fill(A.PAIR_STATS, teacher=teacher, kind=kind)
        write_json(path, {"tasks": 1, "pairs": 1, "dropped_no_incorrect": 0, "reference_rewritten": 0})
        pair_stats.append(str(path))
    out = {x: str(tmp_path / f"teachers.{x}") for x in ("csv", "md", "provenance_json")}
    teachers_table(judged=judged, pair_stats=pair_stats, config=CONFIG, **out, **interval)
    with open(out["csv"]) as f:
        return {
            (r["teacher"], r["kind"]): {k: float(v) for k, v in r.items() if k.endswith("%")} for r in csv.DictReader(f)
        }


def test_the_teachers_swer_interval_resamples_whole_solutions(tmp_path):
    wrong, right = [False] * 4, [True] * 4
    rows = _teachers_rows(
        tmp_path,
        {
            # 1 wrong step in every solution (and an unjudged step): every resample measures 25%.
            ("main", "hard"): [(False, [True, False, True, None, True])] * 30,
            # Half the solutions wrong in every step, half right: clustered steps, 160 of them.
            ("weak", "hard"): [(False, wrong)] * 20 + [(True, right)] * 20,
        },
        bootstrap={"resamples": 4000, "seed": 3},
    )
    main, weak = rows["main", "hard"], rows["weak", "hard"]
    assert main["measured_step_error_%"] == main["measured_step_error_ci_low_%"] == 25
    assert main["measured_step_error_ci_high_%"] == 25
    assert weak["measured_step_error_%"] == 50
    # Over 40 solutions the SE is 50% / sqrt(40) = 7.9 points, a 95% interval of about +-15.5; 160
    # independent steps would give +-7.7. The bootstrap's interval is the solutions' one.
    low, high = weak["measured_step_error_ci_low_%"], weak["measured_step_error_ci_high_%"]
    assert 50 - low == pytest.approx(15.5, abs=2.5) and high - 50 == pytest.approx(15.5, abs=2.5)
    again = _teachers_rows(tmp_path, {("weak", "hard"): [(False, wrong)] * 20 + [(True, right)] * 20},
                           bootstrap={"resamples": 4000, "seed": 3})  # fmt: skip
    assert again["weak", "hard"] == weak  # a fixed RNG seed: the same table on every rerun
    caption = (tmp_path / "teachers.md").read_text()
    assert "95% interval" in caption and "4000 resamples, RNG seed 3" in caption


# Sampled decoding at two evaluation seeds (one training seed, 42): graded rows name their seed.
EVAL_SEEDS = [1, 2]
SAMPLED = {**CONFIG, "evaluation": {**CONFIG["evaluation"], "temperature": 0.6, "seeds": EVAL_SEEDS}}


def write_sampled(root, model_run: str, bench: str, correct_by_eval_seed: dict[int, list[bool]]) -> str:
    """A graded file of sampled decoding: one row per item and evaluation seed."""
    model = model_run if model_run == A.BASELINE else A.stage2_model(model_run)
    path = root / A.fill(A.GRADED, model=model, seed=42, bench=bench)
    rows = [
        {"task_id": f"t{i:02d}", "correct": c, A.EVAL_SEED: seed}
        for seed, correct in correct_by_eval_seed.items()
        for i, c in enumerate(correct)
    ]
    write_jsonl(path, rows)
    return str(path)


@pytest.fixture
def sampled_files(tmp_path):
    """Every model right on half of 20 items overall. hard-main-er0: each item right at exactly one
    of the two seeds (items 0-9 at seed 1, 10-19 at seed 2); every other model: the same 10 items
    right at both seeds (items 0-9), and seed 1 alone one item more for the baseline."""
    graded = []
    for run in HARD:
        for bench in ("eval_hard", "eval_easy"):
            if run == "hard-main-er0":
                by_seed = {1: first(10), 2: [not c for c in first(10)]}
            elif run == A.BASELINE:
                by_seed = {1: first(11), 2: first(9)}
            else:
                by_seed = {1: first(10), 2: first(10)}
            graded.append(write_sampled(tmp_path, run, bench, by_seed))
    return graded, write_set_stats(tmp_path)


def test_evaluation_seeds_are_averaged_per_item_so_the_interval_sees_how_items_agree_across_seeds(sampled_files):
    tables = build_tables(*sampled_files, SAMPLED, RUNS, BENCHES)
    sweep = tables["error_rate_sweep"].set_index("run")
    split, same = sweep.loc["hard-main-er0"], sweep.loc["hard-main-er90"]
    assert split["hard_acc_%"] == same["hard_acc_%"] == 50 and split["hard_n"] == same["hard_n"] == 20
    assert split["hard_eval1_%"] == split["hard_eval2_%"] == 50 and split["hard_eval_seed_sd"] == 0
    # Every item scores 0.5 in the split model: nothing varies between items, the interval is a point;
    # the same model's 40 verdicts pooled as independent items would have given the wide interval below.
    assert (split["hard_ci_low"], split["hard_ci_high"]) == (50, 50)
    # Items right at both seeds or at neither: the item sample's luck shows, wider than 20 points.
    assert same["hard_ci_low"] < 40 and same["hard_ci_high"] > 60
    base = sweep.loc[A.BASELINE]  # 11/20 at seed 1, 9/20 at seed 2
    assert (base["hard_eval1_%"], base["hard_eval2_%"], base["hard_acc_%"]) == pytest.approx((55, 45, 50))
    assert base["hard_eval_seed_sd"] == pytest.approx(10 / 2**0.5) and base["hard_seed42_%"] == 50
    assert "2 evaluation seeds (1, 2)" in interval_caption(SAMPLED) and "evaluation seed" not in interval_caption(
        CONFIG
    )


def test_findings_compare_the_per_item_means_over_evaluation_seeds(tmp_path):
    graded = []
    for run in [A.BASELINE, *FINDING_ITEMS]:
        for bench in ("eval_hard", "eval_easy"):
            if run == "hard-main-er90":  # 30 of 40 items right at seed 1, 20 at seed 2: 62.5% in all
                by_seed = {1: [i < 30 for i in range(40)], 2: [i < 20 for i in range(40)]}
            else:
                by_seed = {1: [i < 5 for i in range(40)], 2: [i < 5 for i in range(40)]}
            graded.append(write_sampled(tmp_path, run, bench, by_seed))
    table = build_findings(graded, write_set_stats(tmp_path), SAMPLED, BENCHES)
    one = table[(table["benchmark"] == "hard") & (table["finding"] == 1)].iloc[0]
    assert one["a_acc_%"] == pytest.approx(62.5) and one["diff_pts"] == pytest.approx(50.0)
    assert one["seeds"] == 1 and one["n"] == 40 and one["verdict"] == "holds"


def test_the_report_layout_lists_the_findings_first_and_labels_results_by_benchmark_and_setting():
    from pathlib import Path

    import yaml

    from guiding.config import load_recipes
    from guiding.report import layout

    root = Path(__file__).resolve().parents[1]
    config = load_recipes(yaml.safe_load((root / "config" / "config.yaml").read_text()), root)
    tables = [A.FINDINGS, *A.EXPERIMENTS, *A.DATA_TABLES, A.COST_TABLE]
    assert set(layout.CATEGORIES) == set(tables)
    # The report's menu sorts categories by name.
    assert sorted(set(layout.CATEGORIES.values()))[0] == layout.category(A.FINDINGS)
    assert [layout.category(e) for e in A.EXPERIMENTS] == sorted(layout.category(e) for e in A.EXPERIMENTS)
    # The sweep's figure draws every benchmark; the bar charts draw the first one only.
    assert layout.labels(config, "error_rate_sweep", layout.FIGURE)["benchmarks"] == "hard, easy"
    assert layout.labels(config, "teacher_comparison", layout.TABLE)["benchmarks"] == "hard, easy"
    assert layout.labels(config, "teacher_comparison", layout.FIGURE)["benchmarks"] == "hard"
    teachers = layout.labels(config, "teacher_comparison")["settings"]
    assert teachers == "teachers main, mid, weak at outcome ER 90%; stage 1 alone"
    assert "outcome ER 0, 50, 90, 100%" in layout.labels(config, "error_rate_sweep")["settings"]
    assert "hard-main-er50-2x-epochs" in layout.labels(config, "combinations")["settings"]
    assert layout.labels(config, A.FINDINGS)["settings"].startswith(f"{len(claimed_comparisons(config))} comparisons")
    # Table and figure of an experiment apart, so that no label becomes a switch between them.
    results = (layout.TABLE, layout.FIGURE)
    assert {layout.subcategory(e, r) for e in A.EXPERIMENTS for r in results} == {"Table", "Figure"}
    assert layout.subcategory(A.FINDINGS, layout.TABLE) is None
    with pytest.raises(ValueError, match="compares no settings"):
        layout.settings(config, "costs")
