"""Result, findings and data tables built from small files written here: the numbers land in the
right rows, and the verdicts follow from them."""

import csv
import json
import math

import pytest

from guiding import artifacts as A
from guiding.config import canonical, claimed_comparisons, stage2_runs
from guiding.core.calibration import read_summary
from guiding.core.io import write_json, write_jsonl
from guiding.core.statistics import wilson_interval
from guiding.report.data_tables import data_sets_table, teachers_table
from guiding.report.findings import build_findings, findings_caption, findings_table
from guiding.report.result_tables import build_tables, interval_caption, result_tables

T_975 = {1: 12.706205, 2: 4.302653, 19: 2.093024}  # t(0.975, df)

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
    # The t interval over the two per-seed accuracies: 60 +- t(0.975, 1) x 30/sqrt(2) / sqrt(2) = 60 +- 190.6,
    # cut to 0-100; far wider than the items' alone (Wilson over the 40 answers).
    wilson_low, wilson_high = wilson_interval(24, 40, 0.95)
    assert (row["hard_ci_low"], row["hard_ci_high"]) == (0, 100)
    assert 100 * (wilson_high - wilson_low) < 30
    # The baseline is replicated like every run: each seed's stage 1 has its column and the spread shows.
    base = sweep.loc[A.BASELINE]
    assert (base["hard_seed42_%"], base["hard_seed7_%"], base["hard_acc_%"]) == (5, 15, 10)
    assert base["hard_seed_sd"] == pytest.approx(10 / 2**0.5)
    # 10 +- 12.706 x 5 = [-53.5, 73.5]: the low end cut at 0.
    assert (base["hard_ci_low"], base["hard_ci_high"]) == pytest.approx((0, 10 + T_975[1] * 5), abs=1e-4)


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
    assert "t interval over the per-seed accuracies" in open(written[0][1]).read()
    assert "Holm's step-down adjustment" in open(written[0][-1]).read()


# Findings from 40 items and three seeds, with every claim's numbers computed by hand: {run:
# items correct at seeds 42, 7, 1}, always the first ones (so a - b is the difference of the counts).
FINDING_SEEDS = [42, 7, 1]
FINDING_CONFIG = {**CONFIG, "replicates": {"seeds": FINDING_SEEDS}}
FINDING_COUNTS = {
    A.BASELINE: (1, 1, 1),
    "subtask-main-er0": (5, 6, 5),  # finding 0: +4, +5, +4 items
    "hard-main-er90": (30, 28, 27),  # finding 1: +25, +22, +22 items
    "hard-weak-er90": (30, 32, 25),  # finding 2 (main vs weak): 0, -4, +2 items
    "combo-mix": (10, 12, 9),  # finding 3 vs hard alone: -20, -16, -18 items
    "hard-main-er90-2x": (8, 8, 6),  # finding 3 vs more epochs: +2, +4, +3 items
}


def write_findings_files(root, counts=FINDING_COUNTS, seeds=FINDING_SEEDS) -> list[str]:
    """Graded files of ``counts`` on eval_hard and the complement on eval_easy (every answer flipped)."""
    graded = []
    for run, by_seed in counts.items():
        for seed, right in zip(seeds, by_seed):
            graded.append(write_graded(root, run, seed, "eval_hard", first(right, 40)))
            graded.append(write_graded(root, run, seed, "eval_easy", [not c for c in first(right, 40)]))
    return graded


def p_two_sided_df2(t: float) -> float:
    """Student's t with 2 degrees of freedom has a closed form: P(|T| > t) = 1 - t / sqrt(2 + t^2)."""
    return 1 - abs(t) / math.sqrt(2 + t * t)


def t_quantile_df2(p: float) -> float:
    """Its inverse: the p quantile of t(2) is (2p - 1) sqrt(2 / (1 - (2p - 1)^2))."""
    return (2 * p - 1) * math.sqrt(2 / (1 - (2 * p - 1) ** 2))


def test_findings_give_t_intervals_holm_adjusted_verdicts_and_intervals_that_agree_with_them(tmp_path):
    # The teachers listed weak first: finding 2 still puts the lower measured step-wise ER first.
    sets = {**CONFIG["sets"], "teacher_comparison": {"error_rate": 90, "teachers": ["weak", "main"]}}
    config = {**FINDING_CONFIG, "sets": sets}
    table = build_findings(write_findings_files(tmp_path), write_set_stats(tmp_path), config, BENCHES)
    assert list(table["benchmark"]) == ["hard"] * 5 + ["easy"] * 5  # the headline benchmark first
    assert list(table.columns) == [
        *["finding", "claim", "benchmark", "a", "b", "a_stepwise_ER_%", "b_stepwise_ER_%", "a_acc_%", "b_acc_%"],
        *["diff_pts", "ci_low", "ci_high", "p_value", "p_holm", "adj_ci_low", "adj_ci_high"],
        *["seeds", "n", "diff_by_seed", "scope", "verdict"],
    ]
    hard = table[table["benchmark"] == "hard"].set_index("b")
    premise = table.iloc[0]
    assert (premise["finding"], premise["a"], premise["b"]) == (0, "subtask-main-er0", A.BASELINE)
    assert premise["b_acc_%"] == pytest.approx(2.5) and math.isnan(premise["b_stepwise_ER_%"])
    assert premise["diff_by_seed"] == "42: +10.0; 7: +12.5; 1: +10.0" and (premise["seeds"], premise["n"]) == (3, 40)
    two = hard.loc["hard-weak-er90"]
    assert (two["finding"], two["a"], two["a_stepwise_ER_%"], two["b_stepwise_ER_%"]) == (2, "hard-main-er90", 11, 40)
    one = hard.loc["subtask-main-er0"]
    assert one["a_acc_%"] == pytest.approx(100 * 85 / 120) and one["b_acc_%"] == pytest.approx(100 * 16 / 120)

    # By hand, in points (an item is 2.5): per-seed differences -> mean, SE = SD / sqrt(3), t = mean / SE.
    per_seed = {
        A.BASELINE: (10.0, 12.5, 10.0),  # finding 0
        "subtask-main-er0": (62.5, 55.0, 55.0),  # finding 1
        "hard-weak-er90": (0.0, -10.0, 5.0),  # finding 2
        "hard-main-er90": (-50.0, -40.0, -45.0),  # finding 3 vs hard alone
        "hard-main-er90-2x": (5.0, 10.0, 7.5),  # finding 3 vs more epochs
    }
    mean = {b: sum(d) / 3 for b, d in per_seed.items()}
    se = {b: math.sqrt(sum((x - mean[b]) ** 2 for x in d) / 2) / math.sqrt(3) for b, d in per_seed.items()}
    p = {b: p_two_sided_df2(mean[b] / se[b]) for b in per_seed}
    # p: 0.0059 (t = 13), 0.0019 (t = 23), 0.742, 0.0041 (t = 15.6), 0.0351 (t = 5.2). Holm in order
    # of p: x5, x4, x3, x2 (then the running maximum), x1.
    holm = {
        "subtask-main-er0": 5 * p["subtask-main-er0"],
        "hard-main-er90": 4 * p["hard-main-er90"],
        A.BASELINE: 3 * p[A.BASELINE],
        "hard-main-er90-2x": 2 * p["hard-main-er90-2x"],
        "hard-weak-er90": p["hard-weak-er90"],
    }
    assert sorted(holm, key=p.get) == list(holm) and sorted(holm.values()) == list(holm.values())
    for b in per_seed:
        row = hard.loc[b]
        assert row["diff_pts"] == pytest.approx(mean[b])
        half = T_975[2] * se[b]
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((mean[b] - half, mean[b] + half), abs=1e-4)
        assert row["p_value"] == pytest.approx(p[b], rel=1e-5) and row["p_holm"] == pytest.approx(holm[b], rel=1e-5)
        # The adjusted interval: the t interval at 1 - 0.05 x p / p_holm.
        adjusted_half = t_quantile_df2(1 - 0.05 * p[b] / holm[b] / 2) * se[b]
        assert (row["adj_ci_low"], row["adj_ci_high"]) == pytest.approx(
            (mean[b] - adjusted_half, mean[b] + adjusted_half), abs=1e-4
        )
        assert row["scope"] == "seeds"
    verdicts = {b: hard.loc[b, "verdict"] for b in per_seed}
    assert verdicts == {
        A.BASELINE: "holds",
        "subtask-main-er0": "holds",
        "hard-weak-er90": "inconclusive",
        "hard-main-er90": "refuted",
        # p = 0.035 alone would decide it (its unadjusted interval lies above 0); Holm's 0.070 does not.
        "hard-main-er90-2x": "inconclusive",
    }
    epochs = hard.loc["hard-main-er90-2x"]
    assert epochs["ci_low"] > 0 and epochs["p_value"] < 0.05 < epochs["p_holm"] and epochs["adj_ci_low"] < 0
    # Where Holm leaves p as it is (the largest p), the adjusted interval is the unadjusted one.
    assert (two["adj_ci_low"], two["adj_ci_high"]) == pytest.approx((two["ci_low"], two["ci_high"]))
    # On the easy benchmark every answer is flipped: the same p-values, every difference and verdict mirrored.
    easy = table[table["benchmark"] == "easy"].set_index("b")
    assert easy.loc["subtask-main-er0", "diff_pts"] == pytest.approx(-one["diff_pts"])
    assert list(easy["p_holm"]) == pytest.approx(list(hard["p_holm"]))
    assert easy.loc["subtask-main-er0", "verdict"] == "refuted" and easy.loc["hard-main-er90", "verdict"] == "holds"
    # In every row the adjusted interval excludes 0 exactly when the verdict is decided.
    for _, row in table.iterrows():
        decided = row["verdict"] != "inconclusive"
        assert decided == (row["p_holm"] < 0.05) == (row["adj_ci_low"] > 0 or row["adj_ci_high"] < 0)
        assert row["adj_ci_low"] <= row["ci_low"] and row["ci_high"] <= row["adj_ci_high"]


def test_a_family_is_one_benchmark(tmp_path):
    """Holm adjusts within a benchmark: with one benchmark only, the hard rows are the same numbers."""
    config = {**FINDING_CONFIG, "evaluation": {**CONFIG["evaluation"], "benchmarks": {"eval_hard": {"label": "hard"}}}}
    graded = [g for g in write_findings_files(tmp_path) if "eval_hard" in g]
    alone = build_findings(graded, write_set_stats(tmp_path), config, ["eval_hard"])
    both = build_findings(write_findings_files(tmp_path), write_set_stats(tmp_path), FINDING_CONFIG, BENCHES)
    assert list(alone["p_holm"]) == pytest.approx(list(both[both["benchmark"] == "hard"]["p_holm"]))


def test_identical_replicates_give_a_point_and_no_division_by_zero(tmp_path):
    """Where both settings answer alike at every seed the interval is the point (p = 0 or 1)."""
    counts = {run: (10, 10, 10) for run in FINDING_COUNTS}
    counts["hard-main-er90"] = (30, 30, 30)  # findings 1 and 2: +20 items at every seed; finding 3: -20
    evaluation = {**CONFIG["evaluation"], "benchmarks": {"eval_hard": {"label": "hard"}}}
    config = {**FINDING_CONFIG, "evaluation": evaluation}
    graded = [g for g in write_findings_files(tmp_path, counts) if "eval_hard" in g]
    table = build_findings(graded, write_set_stats(tmp_path), config, ["eval_hard"]).set_index("b")
    one, alone, premise = table.loc["subtask-main-er0"], table.loc["hard-main-er90"], table.loc[A.BASELINE]
    assert (one["ci_low"], one["adj_ci_low"], one["adj_ci_high"], one["p_value"], one["p_holm"]) == (50, 50, 50, 0, 0)
    assert one["verdict"] == "holds" and alone["verdict"] == "refuted"
    assert (premise["adj_ci_low"], premise["adj_ci_high"], premise["p_holm"], premise["verdict"]) == (
        0,
        0,
        1,
        "inconclusive",
    )


def test_findings_refuse_settings_trained_with_other_seeds(tmp_path):
    graded = [write_graded(tmp_path, run, 42, "eval_hard", first(5)) for run in FINDING_COUNTS]
    graded.append(write_graded(tmp_path, "subtask-main-er0", 7, "eval_hard", first(5)))
    config = {**TWO_SEEDS, "evaluation": {**CONFIG["evaluation"], "benchmarks": {"eval_hard": {"label": "hard"}}}}
    with pytest.raises(ValueError, match="different seeds"):
        build_findings(graded, write_set_stats(tmp_path), config, ["eval_hard"])


def test_one_seed_gives_items_only_verdicts_labelled_so(tmp_path):
    """Each replicate's stage 2 is compared with the stage 1 it started from; with one seed the
    interval is over the items and the verdict says so."""
    graded = [write_graded(tmp_path, A.BASELINE, 1, "eval_hard", first(2, 40))]
    runs = [run for run in FINDING_COUNTS if run != A.BASELINE]
    graded += [write_graded(tmp_path, run, 1, "eval_hard", first(10, 40)) for run in runs]
    evaluation = {**CONFIG["evaluation"], "benchmarks": {"eval_hard": {"label": "hard"}}}
    config = {**CONFIG, "replicates": {"seeds": [1]}, "evaluation": evaluation}
    table = build_findings(graded, write_set_stats(tmp_path), config, ["eval_hard"])
    premise = table.iloc[0]
    assert (premise["finding"], premise["b"], premise["seeds"]) == (0, A.BASELINE, 1)
    # 8 of 40 items +1, the rest 0: mean 0.2, SD over the items sqrt((8 x 0.8^2 + 32 x 0.2^2) / 39), 39 df.
    sd = math.sqrt((8 * 0.8**2 + 32 * 0.2**2) / 39)
    assert premise["ci_high"] - premise["diff_pts"] == pytest.approx(100 * 2.022691 * sd / math.sqrt(40), abs=1e-3)
    assert premise["diff_by_seed"] == "1: +20.0" and premise["scope"] == "items only"
    assert premise["verdict"] == "holds (items only)"
    assert set(table["scope"]) == {"items only"} and set(table["verdict"][1:]) == {"inconclusive (items only)"}
    caption = findings_caption(config, ["eval_hard"])
    assert "this table has one training seed, so every verdict covers the items only" in caption
    assert "this table has one training seed" not in findings_caption(FINDING_CONFIG, BENCHES)
    stage1_of_another_seed = [write_graded(tmp_path, A.BASELINE, 42, "eval_hard", first(2, 40)), *graded[1:]]
    with pytest.raises(ValueError, match="different seeds"):
        build_findings(stage1_of_another_seed, write_set_stats(tmp_path), config, ["eval_hard"])


def test_the_caption_quotes_the_measured_calibration_from_its_file(tmp_path):
    summary = read_summary()
    caption = findings_caption(FINDING_CONFIG, BENCHES)
    for row in summary["highest_false_verdict_rate"]:
        assert f"{100 * row['t_interval']:.1f}% at {row['seeds']} seeds" in caption
    assert f"({summary['studies_per_grid_point']} per grid point" in caption
    assert f"RNG seed {summary['rng_seed']}" in caption and f"at commit {summary['commit'][:7]}" in caption
    # Other numbers in the file: other numbers in the caption (nothing of them is written in the code).
    made_up = {
        **summary,
        "highest_false_verdict_rate": [{"seeds": 4, "t_interval": 0.0432, "bootstrap": 0.2}],
        "studies_per_grid_point": 1234,
        "rng_seed": 99,
        "commit": "abcdef0123",
        "dirty": True,
    }
    caption = findings_caption(FINDING_CONFIG, BENCHES, calibration=made_up)
    assert "4.3% at 4 seeds" in caption and "(1234 per grid point" in caption and "RNG seed 99" in caption
    assert "at commit abcdef0 with uncommitted changes" in caption
    assert "t(1 - α/2, seeds - 1)" in caption and "Holm" in caption and "(items only)" in caption
    # The table's Markdown carries the caption with the file's values.
    out = {x.replace(".", "_"): str(tmp_path / f"findings.{x}") for x in A.TABLE_FORMATS}
    findings_table(graded=write_findings_files(tmp_path), set_stats=write_set_stats(tmp_path), config=FINDING_CONFIG,
                   benchmarks=BENCHES, **out)  # fmt: skip
    row = summary["highest_false_verdict_rate"][0]
    assert f"{100 * row['t_interval']:.1f}% at {row['seeds']} seeds" in open(out["md"]).read()


def test_the_summary_prints_the_headline_verdicts(tmp_path, capsys):
    from guiding.report.summary import main

    results = tmp_path / "results"
    out = {x.replace(".", "_"): str(results / "tables" / f"findings.{x}") for x in A.TABLE_FORMATS}
    findings_table(
        graded=write_findings_files(tmp_path),
        set_stats=write_set_stats(tmp_path),
        config=FINDING_CONFIG,
        benchmarks=BENCHES,
        **out,
    )
    assert main(str(results)) == 0
    printed = capsys.readouterr().out
    # Finding 1: +57.5 [46.7, 68.3] unadjusted; the line shows the Holm-adjusted interval of its verdict.
    with open(out["csv"]) as f:
        one = next(r for r in csv.DictReader(f) if r["finding"] == "1")
    line = f"(1) hard-main-er90 vs subtask-main-er0: +57.5 points [{float(one['adj_ci_low']):+.1f}, "
    assert line in printed and float(one["adj_ci_low"]) < float(one["ci_low"]) and printed.count("(3) combo-mix") == 2
    assert "(0) subtask-main-er0 vs stage1: +10.8 points" in printed and "Holm-adjusted" in printed
    assert "refuted" in printed and printed.count(" over 3 seed(s): ") == 5  # the headline benchmark's rows only


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
    # Items right at both seeds or at neither: the t interval over the 20 items, 50 +- t(0.975, 19) x SD / sqrt(20).
    half = 100 * T_975[19] * math.sqrt(20 * 0.25 / 19) / math.sqrt(20)
    assert (same["hard_ci_low"], same["hard_ci_high"]) == pytest.approx((50 - half, 50 + half), abs=1e-3)
    base = sweep.loc[A.BASELINE]  # 11/20 at seed 1, 9/20 at seed 2
    assert (base["hard_eval1_%"], base["hard_eval2_%"], base["hard_acc_%"]) == pytest.approx((55, 45, 50))
    assert base["hard_eval_seed_sd"] == pytest.approx(10 / 2**0.5) and base["hard_seed42_%"] == 50
    assert "2 evaluation seeds (1, 2)" in interval_caption(SAMPLED) and "evaluation seed" not in interval_caption(
        CONFIG
    )


def test_findings_compare_the_per_item_means_over_evaluation_seeds(tmp_path):
    graded = []
    for run in FINDING_COUNTS:
        for bench in ("eval_hard", "eval_easy"):
            if run == "hard-main-er90":  # 30 of 40 items right at seed 1, 20 at seed 2: 62.5% in all
                by_seed = {1: [i < 30 for i in range(40)], 2: [i < 20 for i in range(40)]}
            else:
                by_seed = {1: [i < 5 for i in range(40)], 2: [i < 5 for i in range(40)]}
            graded.append(write_sampled(tmp_path, run, bench, by_seed))
    table = build_findings(graded, write_set_stats(tmp_path), SAMPLED, BENCHES)
    one = table[(table["benchmark"] == "hard") & (table["finding"] == 1)].iloc[0]
    assert one["a_acc_%"] == pytest.approx(62.5) and one["diff_pts"] == pytest.approx(50.0)
    assert one["seeds"] == 1 and one["n"] == 40 and one["verdict"] == "holds (items only)"


def test_the_report_layout_lists_the_findings_first_and_labels_results_by_benchmark_and_setting():
    from pathlib import Path

    import yaml

    from guiding.config import load_recipes
    from guiding.report import layout

    root = Path(__file__).resolve().parents[1]
    config = load_recipes(yaml.safe_load((root / "config" / "config.yaml").read_text()), root)
    tables = [A.FINDINGS, *A.EXPERIMENTS, *layout.DATA_TABLES, A.COST_TABLE]
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
