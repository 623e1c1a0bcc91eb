"""`guiding plan-seeds` on a tiny results tree built here: the variance components and seed counts
of each inconclusive comparison, computed from the per-seed, per-item graded predictions."""

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT

from guiding.cli import main
from guiding.core.verdicts import plan_seeds
from guiding.report.plan_seeds import comparison_matrix, plan_table

ITEMS = 40


def write_graded(results: Path, model: str, seed: int, correct: list[bool]) -> None:
    path = results / "eval" / model / f"seed{seed}" / "eval_hard.graded.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{"task_id": f"eval_hard-{i:05d}", "correct": c, "predicted": "0"} for i, c in enumerate(correct)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


@pytest.fixture
def results(tmp_path):
    results = tmp_path / "results"
    # mid answers items 0..(k-1) right, weak items 0..9: per-seed differences 4/40, 8/40, 12/40.
    for seed, right in [(42, 14), (1, 18), (7, 22)]:
        write_graded(results, "stage2-hard-mid-er90", seed, [i < right for i in range(ITEMS)])
        write_graded(results, "stage2-hard-weak-er90", seed, [i < 10 for i in range(ITEMS)])
        write_graded(results, "stage2-hard-main-er0", seed, [i % 2 == 0 for i in range(ITEMS)])
        write_graded(results, "stage1", seed, [i < 4 for i in range(ITEMS)])
    (results / "tables").mkdir()
    pd.DataFrame(
        [
            {"finding": 2, "benchmark": "hard", "a": "hard-mid-er90", "b": "hard-weak-er90", "verdict": "inconclusive"},
            {"finding": 1, "benchmark": "hard", "a": "hard-main-er0", "b": "hard-weak-er90", "verdict": "holds"},
            {"finding": 0, "benchmark": "hard", "a": "hard-main-er0", "b": "stage1", "verdict": "inconclusive"},
        ]
    ).to_csv(results / "tables" / "findings.csv", index=False)
    return results


def test_the_plan_follows_from_the_per_seed_differences(results):
    findings = pd.read_csv(results / "tables" / "findings.csv")
    table = plan_table(findings, results, {"hard": "eval_hard"}, half_width=5, power=0.8, confidence=0.95)
    assert list(table["a"]) == ["hard-mid-er90", "hard-main-er0"]  # the inconclusive ones only
    mid = table.iloc[0]
    assert mid["diff_pts"] == pytest.approx(20.0) and mid["seed_sd_pts"] == pytest.approx(10.0)
    # t(0.975, 2) = 4.303: 20 +- 4.303 x 10 / sqrt(3)
    assert (mid["t_low"], mid["t_high"]) == pytest.approx((20 - 24.84, 20 + 24.84), abs=0.01)
    # Expected half-width t(0.975, n-1) c4(n) 10 / sqrt(n) <= 5 first at n = 18 (2.110 x 0.985 x 10 / 4.243 = 4.90;
    # at 17: 2.120 x 0.984 x 10 / 4.123 = 5.06).
    assert mid["seeds_for_±5"] == "18"
    # Difference +20 with SD 10: the noncentral t reaches 80% power at 5 seeds (at 4: 0.75).
    assert mid["seeds_for_80%_power"] == "5"
    # The table decides within the benchmark's family (3 comparisons here) at Holm's level, planned at
    # Bonferroni's 0.05 / 3: more seeds than alone, as many as the planner gives at that level.
    diff, _ = comparison_matrix(results, "hard-mid-er90", "hard-weak-er90", "eval_hard")
    at_family_level = plan_seeds(diff, half_width=0.05, confidence=1 - 0.05 / 3).seeds_for_power
    assert mid["seeds_for_80%_power_in_family"] == str(at_family_level) and at_family_level > 5
    # Stage 1 is paired by seed; both settings are identical at every seed, so there is no seed
    # spread: the interval is the point and 2 seeds decide it.
    main_er0 = table.iloc[1]
    assert main_er0["seed_sd_pts"] == pytest.approx(0, abs=1e-9) and main_er0["diff_pts"] == pytest.approx(40.0)
    assert main_er0["seeds_for_80%_power"] == "2"
    diff, seeds = comparison_matrix(results, "hard-main-er0", "stage1", "eval_hard")
    assert seeds == [1, 7, 42] and diff.shape == (3, ITEMS)


def test_the_command_prints_the_table_and_names_missing_files(results, tmp_path, capsys):
    with pytest.raises(SystemExit) as done:
        main(["plan-seeds", "--results", str(results), "--configfile", str(ROOT / "config/config.yaml"), "--all"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.count("| hard ") == 3 and "seeds_for_80%_power" in out
    (results / "eval" / "stage2-hard-weak-er90" / "seed7" / "eval_hard.graded.jsonl").unlink()
    with pytest.raises(ValueError, match="different seeds"):
        main(["plan-seeds", "--results", str(results), "--configfile", str(ROOT / "config/config.yaml")])
    with pytest.raises(SystemExit, match="findings.csv is missing"):
        main(["plan-seeds", "--results", str(tmp_path / "none"), "--configfile", str(ROOT / "config/config.yaml")])


def test_one_seed_gives_an_items_only_interval(tmp_path):
    results = tmp_path / "results"
    write_graded(results, "stage2-hard-mid-er90", 42, [i < 20 for i in range(ITEMS)])
    write_graded(results, "stage2-hard-weak-er90", 42, [i < 18 for i in range(ITEMS)])
    # A one-seed findings table labels its verdicts: "inconclusive (items only)" is inconclusive.
    findings = pd.DataFrame(
        [
            {"finding": 2, "benchmark": "hard", "a": "hard-mid-er90", "b": "hard-weak-er90",
             "verdict": "inconclusive (items only)"},
            {"finding": 2, "benchmark": "hard", "a": "hard-weak-er90", "b": "hard-mid-er90",
             "verdict": "refuted (items only)"},
        ]
    )  # fmt: skip
    (row,) = [r for _, r in plan_table(findings, results, {"hard": "eval_hard"}, half_width=5, power=0.8,
                                       confidence=0.95).iterrows()]  # fmt: skip
    assert row["a"] == "hard-mid-er90"
    assert row["t_scope"] == "items only" and row["seeds_for_±5"] == "2 (to measure)"
    assert not math.isnan(row["t_low"])


def test_the_cautious_count_plans_with_the_seed_sd_at_its_upper_confidence_bound(results):
    from guiding.core.student_t import chi2_quantile
    from guiding.core.verdicts import sd_upper_bound_scale

    # Closed forms: chi-squared with 2 df has quantile -2 ln(1 - p); with 1 df, z(0.975)^2 at 0.95.
    assert chi2_quantile(0.2, 2) == pytest.approx(-2 * math.log(0.8), rel=1e-9)
    assert chi2_quantile(0.95, 1) == pytest.approx(1.959964**2, rel=1e-6)
    assert sd_upper_bound_scale(3, 0.8) == pytest.approx(math.sqrt(2 / (-2 * math.log(0.8))), rel=1e-9)
    findings = pd.read_csv(results / "tables" / "findings.csv")
    mid = plan_table(findings, results, {"hard": "eval_hard"}, half_width=5, power=0.8, confidence=0.95).iloc[0]
    # SD 10 over 3 seeds at its 80% upper bound: 21.2; at Bonferroni's 0.05 / 3, as the family count.
    diff, _ = comparison_matrix(results, "hard-mid-er90", "hard-weak-er90", "eval_hard")
    scale = sd_upper_bound_scale(3, 0.8)
    cautious = plan_seeds(diff, half_width=0.05, confidence=1 - 0.05 / 3, sd_scale=scale).seeds_for_power
    assert mid["seeds_for_80%_power_in_family_if_sd_at_upper_80%"] == str(cautious)
    assert cautious > int(mid["seeds_for_80%_power_in_family"])
