"""`guiding verdict-stability`: two runs' findings tables compared verdict by verdict, and whether
their stage-1 weights differ."""

import json
from pathlib import Path

import pandas as pd
import pytest

from guiding.cli import main
from guiding.report.stability import compare_findings, stage1_weights_differ

COLUMNS = ["finding", "benchmark", "a", "b", "diff_pts", "ci_low", "ci_high", "adj_ci_low", "adj_ci_high", "verdict"]


def findings(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS)


FIRST = findings(
    [
        (0, "hard", "subtask-main-er0", "stage1", 9.0, 3.0, 15.0, 1.0, 17.0, "holds"),
        (2, "hard", "hard-mid-er90", "hard-weak-er90", 4.0, -2.0, 10.0, -4.0, 12.0, "inconclusive"),
        (3, "hard", "combo-x", "hard-main-er50", -6.0, -9.0, -3.0, -10.0, -2.0, "refuted"),
        (0, "easy", "subtask-main-er0", "stage1", 2.0, -1.0, 5.0, -2.0, 6.0, "inconclusive"),
    ]
)
# The second run measured the step-wise ERs the other way round: finding 2's pair comes reversed.
SECOND = findings(
    [
        (0, "hard", "subtask-main-er0", "stage1", 16.0, 10.0, 22.0, 8.0, 24.0, "holds"),
        (2, "hard", "hard-weak-er90", "hard-mid-er90", -5.0, -11.0, 1.0, -13.0, 3.0, "inconclusive"),
        (3, "hard", "combo-x", "hard-main-er50", 5.0, 2.0, 8.0, -1.0, 9.0, "holds"),
        (0, "easy", "subtask-main-er0", "stage1", 1.0, -2.0, 4.0, -3.0, 5.0, "inconclusive (items only)"),
    ]
)


def test_each_comparison_is_matched_whatever_its_orientation_and_contradictions_are_found():
    table = compare_findings(FIRST, SECOND).set_index(["finding", "benchmark"])
    premise = table.loc[(0, "hard")]
    # 9 lies outside [10, 22]: the estimates are not inside each other's unadjusted intervals,
    # but they are inside the wider family-wise ones.
    assert premise["same_verdict"] and not premise["contradiction"]
    assert not premise["each_inside_other_unadjusted"] and premise["each_inside_other_family-wise"]
    teachers = table.loc[(2, "hard")]
    assert (teachers["a"], teachers["b"]) == ("hard-mid-er90", "hard-weak-er90")  # one orientation for both
    assert (teachers["diff_1"], teachers["diff_2"]) == (4.0, 5.0) and teachers["interval_2"] == "[-1.0, +11.0]"
    assert teachers["each_inside_other_unadjusted"]
    combination = table.loc[(3, "hard")]
    assert combination["contradiction"] and (combination["verdict_1"], combination["verdict_2"]) == (
        "refuted",
        "holds",
    )
    easy = table.loc[(0, "easy")]
    assert not easy["same_verdict"] and not easy["contradiction"]  # the label differs, not the decision


def test_runs_comparing_other_settings_are_refused():
    other = SECOND.copy()
    other.loc[2, "a"] = "combo-y"
    with pytest.raises(SystemExit, match="different settings"):
        compare_findings(FIRST, other)


def write_run(root: Path, table: pd.DataFrame, weights: dict[int, bytes]) -> Path:
    results = root / "results"
    (results / "tables").mkdir(parents=True)
    table.to_csv(results / "tables" / "findings.csv", index=False)
    for seed, blob in weights.items():
        model = results / "models" / "stage1" / f"seed{seed}"
        model.mkdir(parents=True)
        (model / "model.safetensors").write_bytes(blob)
        (model / "config.json").write_text("{}")
    return results


def test_the_command_reports_the_headline_counts_the_weights_and_fails_on_a_contradiction(tmp_path, capsys):
    first = write_run(tmp_path / "one", FIRST, {42: b"a", 1: b"b"})
    second = write_run(tmp_path / "two", SECOND, {42: b"a", 1: b"c"})
    assert stage1_weights_differ(first, second) == {1: True, 42: False}
    with pytest.raises(SystemExit) as done:
        main(["verdict-stability", str(first), str(second), "--json"])
    assert done.value.code == 1  # finding 3 holds in one run and is refuted in the other
    summary = json.loads(capsys.readouterr().out)["summary"]
    assert summary["headline_benchmark"] == "hard" and summary["headline_comparisons"] == 3
    assert (summary["headline_same_verdict"], summary["contradictions"]) == (2, 1)
    assert summary["headline_each_inside_other_unadjusted"] == 1
    assert summary["stage1_weights_differ"] == {"1": True, "42": False}
    agreeing = write_run(tmp_path / "three", FIRST, {42: b"a", 1: b"b"})
    with pytest.raises(SystemExit) as done:
        main(["verdict-stability", str(first), str(agreeing)])
    assert done.value.code == 0
    assert "identical: the second run repeated the first" in capsys.readouterr().out
