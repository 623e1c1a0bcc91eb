"""`guiding prepare-math-train` (guiding.tasks.math_release): the MATH release's train folder as the
JSONL paper mode reads."""

import json
import subprocess
import sys

import pytest
import yaml
from conftest import ROOT

from guiding.core.datasets import load_rows, select_where
from guiding.core.io import write_jsonl
from guiding.tasks import math_release as prepare

# A tiny release in the MATH layout (problems written for this test).
PROBLEMS = {
    "algebra/2.json": {"problem": "Solve $x+1=3$.", "level": "Level 1", "type": "Algebra", "solution": "$\\boxed{2}$"},
    "algebra/10.json": {"problem": "Solve $2x=8$.", "level": "Level 4", "type": "Algebra", "solution": "$\\boxed{4}$"},
    "geometry/1.json": {
        "problem": "A square of side 3?",
        "level": "Level 5",
        "type": "Geometry",
        "solution": "$\\boxed{9}$",
    },
    "geometry/3.json": {"problem": "Odd one.", "level": "Level ?", "type": "Geometry", "solution": "$\\boxed{0}$"},
}


@pytest.fixture
def release(tmp_path):
    for name, record in PROBLEMS.items():
        (tmp_path / "train" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "train" / name).write_text(json.dumps(record))
    return tmp_path / "train"


def test_every_problem_becomes_a_row_in_a_fixed_order(release, tmp_path):
    out = tmp_path / "data" / "math_train.jsonl"
    command = [sys.executable, "-m", "guiding.cli", "prepare-math-train", str(release), str(out)]
    run = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["algebra/2", "algebra/10", "geometry/1", "geometry/3"]  # numeric order
    assert rows[1] == {
        "id": "algebra/10",
        "subject": "algebra",
        "problem": "Solve $2x=8$.",
        "solution": "$\\boxed{4}$",
        "level": "Level 4",
        "type": "Algebra",
    }
    assert "Level 4: 1" in run.stdout and "4 problems" in run.stdout


def test_paper_configs_select_their_levels_from_it(release, tmp_path):
    out = tmp_path / "math_train.jsonl"
    write_jsonl(out, prepare.read_release(release))
    rows = load_rows(str(out))
    config = yaml.safe_load((ROOT / "config" / "paper.yaml").read_text())
    (hard,) = [s for s in config["hub_tasks"]["sources"] if s["name"] == "math"]
    (easy,) = [s for s in config["training"]["stage1_data"]["sources"] if s["name"] == "math_l1_3"]
    assert [r["id"] for r in select_where(rows, hard["where"], str(out))] == ["algebra/10", "geometry/1"]
    assert [r["id"] for r in select_where(rows, easy["where"], str(out))] == ["algebra/2"]


def test_a_file_without_a_field_is_named(release):
    (release / "algebra" / "2.json").write_text(json.dumps({"problem": "p", "solution": "s"}))
    with pytest.raises(ValueError, match=r"algebra/2.json: no level"):
        prepare.read_release(release)


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such directory"):
        prepare.read_release(tmp_path / "nowhere")
