"""Benchmarks as artifacts: the benchmark files of tests/data/benchmarks read into one shape, graded in their forms."""

from pathlib import Path

import pytest

from guiding.answers import grade_many
from guiding.evaluation.benchmarks import from_world, load_benchmark, standardize
from guiding.evaluation.steps import grade

DATA = Path(__file__).resolve().parent / "data" / "benchmarks"
SPECS = {
    "math500": {"source": "math500.jsonl", "label": "MATH", "form": "plain"},
    "sat": {
        "source": "sat_math.jsonl",
        "label": "SAT",
        "form": "letter",
        "columns": {"problem": "question", "answer": "Answer"},
        "options": "options",
    },
    "gaokao": {
        "source": "gaokao_math_cloze.jsonl",
        "label": "Gaokao",
        "form": "multi_blank",
        "columns": {"problem": "question"},
    },
    "gsm8k": {
        "source": "gsm8k_test_first200.jsonl",
        "label": "GSM8K",
        "form": "gsm8k",
        "columns": {"problem": "question"},
        "limit": 200,
    },
}


def spec(name):
    return {**SPECS[name], "source": str(DATA / SPECS[name]["source"])}


def file_items(name) -> int:
    """Items in a benchmark's file: one JSON line each."""
    with open(DATA / SPECS[name]["source"], encoding="utf-8") as f:
        return sum(1 for line in f if line.strip())


@pytest.mark.parametrize("name", ["math500", "sat", "gaokao", "gsm8k"])
def test_each_benchmark_is_read_whole_and_each_gold_grades_its_own_answer(name):
    rows, report = load_benchmark(name, spec(name))
    items = min(SPECS[name].get("limit", float("inf")), file_items(name))  # counted, not written down
    assert len(rows) == report["kept"] == items
    assert {r["form"] for r in rows} == {SPECS[name]["form"]}
    assert len({r["id"] for r in rows}) == items  # ids are unique and stable
    assert load_benchmark(name, spec(name))[0] == rows
    # The gold answer, written as a student would box it, is graded right in the benchmark's form.
    boxed = [{"task_id": r["id"], "output": f"so the answer is \\boxed{{{r['answer']}}}"} for r in rows]
    if name == "gsm8k":  # a whole worked solution ending in '#### N': the student boxes N
        from guiding.answers import normalize_gold

        boxed = [
            {"task_id": r["id"], "output": "\\boxed{" + ", ".join(normalize_gold(r["answer"], r["form"])) + "}"}
            for r in rows
        ]
    graded, report = grade(rows, boxed, workers=2)
    assert report["correct"] == items, [g for g in graded if not g["correct"]][:3]


def test_multiple_choice_questions_carry_their_options_and_are_graded_by_letter():
    rows, _ = load_benchmark("sat", spec("sat"))
    assert "A)" in rows[0]["problem"] and "D)" in rows[0]["problem"]
    verdicts, _ = grade_many([(r["answer"], "\\boxed{A}") for r in rows], forms="letter")
    assert sum(v["correct"] for v in verdicts) == sum(r["answer"] == "A" for r in rows)


def test_questions_with_figures_are_dropped_and_counted():
    rows, report = load_benchmark("math500", {**spec("math500"), "drop_if_contains": ["[asy]"]})
    assert report["dropped_by_reason"] == {"contains '[asy]'": 500 - len(rows)}
    assert 0 < len(rows) < 500 and not any("[asy]" in r["problem"] for r in rows)


def test_a_missing_column_or_an_empty_benchmark_is_named():
    with pytest.raises(KeyError, match="no column 'question'"):
        standardize([{"problem": "p", "answer": "1"}], "b", "plain", {"problem": "question"})
    with pytest.raises(ValueError, match="benchmark 'b': no item left"):
        standardize([{"problem": "p", "answer": "seven"}], "b", "letter", {})
    with pytest.raises(FileNotFoundError, match="no such file"):
        load_benchmark("b", {"source": "/nonexistent/x.jsonl"})


def test_a_world_split_is_a_benchmark_of_plain_answers():
    tasks = [{"id": f"t{i}", "problem": f"p{i}", "answer": str(i), "solution": "s"} for i in range(5)]
    rows, report = from_world(tasks, limit=3)
    assert [r["id"] for r in rows] == ["t0", "t1", "t2"] and {r["form"] for r in rows} == {"plain"}
    assert report == {"source_items": 5, "kept": 3, "dropped_by_reason": {}}


def test_where_keeps_the_source_rows_whose_column_holds_a_listed_value():
    import json

    levels = [json.loads(line)["level"] for line in open(spec("math500")["source"])]
    rows, report = load_benchmark("math500", {**spec("math500"), "where": {"column": "level", "in": [1, 2]}})
    assert len(rows) == report["kept"] == sum(level in (1, 2) for level in levels) > 0
    assert len(rows) < 500
