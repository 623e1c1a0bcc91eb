"""The hub task source: datasets read with a column mapping, the paper's pre-filters, the filter report."""

import json
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, run_snakemake, small_config
from snakemake.utils import validate

from guiding import artifacts as A
from guiding.config import ConfigError, check_config, load_recipes
from guiding.core.io import read_jsonl, write_jsonl
from guiding.tasks.sources import HubTaskSource, foreign_letter_share, is_multi_part, prefilter_records, subtask_count
from guiding.tasks.steps import generate_tasks

MATH500 = ROOT / "tests" / "data" / "benchmarks" / "math500.jsonl"


def prefilter(**changes):
    """The schema's default pre-filter settings, with ``changes``."""
    return {**hub_config()["hub_tasks"]["prefilter"], **changes}


def words(n_chars: int, answer: str = "7") -> str:
    """A clean reference solution of about ``n_chars`` characters, ending in a box."""
    tail = f" So the answer is $\\boxed{{{answer}}}$."
    return ("We add the numbers step by step. " * (n_chars // 33 + 1))[: n_chars - len(tail)] + tail


@pytest.mark.parametrize(
    "problem",
    [
        "(1) Find $a$. (2) Find $b$.",
        "Let $f(x) = x^2$.\n(a) Compute $f(1)$.\n(b) Compute $f(2)$.",
        "已知函数 （1）求a （2）求b",
        "Given the ellipse. (I) Find its equation; (II) find the area.",
        "Answer both:\na) the sum\nb) the product",
    ],
)
def test_multi_part_problems_are_recognised(problem):
    assert is_multi_part(problem)


@pytest.mark.parametrize(
    "problem",
    [
        "Compute $f(1) + f(2)$ where $f(x) = 3x$.",
        "Given the conditions\n1. x > 0\n2. y > 0\nfind the least value of x + y + 1/(xy).",
        "The point (2, 3) lies on the line; find its slope (1) only.",
        "Find $a$ such that $(a)(b) = 6$ and $b = 2$.",
    ],
)
def test_single_questions_are_not_multi_part(problem):
    assert not is_multi_part(problem)


def test_the_reference_length_picks_two_or_three_subtasks_or_skips():
    lengths = prefilter()["reference_tokens"]  # chars/4 tokens: <400 skip, <=1000 -> 2, <=1600 -> 3, longer skip
    assert subtask_count("x" * 1599, lengths) == (2, 400)  # ceil(1599 / 4) = 400 tokens: kept
    assert subtask_count("x" * 1596, lengths) == (None, 399)
    assert subtask_count("x" * 1600, lengths) == (2, 400)
    assert subtask_count("x" * 4000, lengths) == (2, 1000)
    assert subtask_count("x" * 4004, lengths) == (3, 1001)
    assert subtask_count("x" * 6400, lengths) == (3, 1600)
    assert subtask_count("x" * 6404, lengths) == (None, 1601)


def test_every_dropped_record_is_counted_under_its_first_reason():
    ok = words(2000)
    records = [
        {"problem": "Find the sum of 3 and 4.", "solution": ok, "answer": "7"},  # kept, 2 subtasks
        {"problem": "Find the product of 3 and 4.", "solution": words(5000, "12"), "answer": "12"},  # kept, 3
        {"problem": "find  the SUM of 3 and 4.", "solution": ok, "answer": "7"},  # duplicate
        {"problem": "In the figure below, find x.", "solution": ok, "answer": "7"},
        {"problem": "Use the Diagrams shown.", "solution": ok, "answer": "7"},
        {"problem": "Find x.", "solution": "[asy]draw((0,0)--(1,1));[/asy]\n" + ok, "answer": "7"},
        {"problem": "See https://example.com and find x.", "solution": ok, "answer": "7"},
        {"problem": "(1) Find a. (2) Find b.", "solution": ok, "answer": "7"},
        {"problem": "求函数的最小值，其中x是正数。", "solution": ok, "answer": "7"},
        {"problem": "Find y.", "solution": words(1000), "answer": "7"},
        {"problem": "Find z.", "solution": words(7000), "answer": "7"},
        {"problem": "If tan α = 2, find sin α cos α.", "solution": words(2000, "2/5"), "answer": "2/5"},  # kept
        {"problem": "Find w.", "solution": ok, "answer": ""},
        {"problem": "In the figure, (1) find a (2) find b.", "solution": ok, "answer": "7"},  # figure comes first
    ]
    kept, dropped = prefilter_records(records, prefilter(), set())
    assert [(t["problem"], t["n_subtasks"]) for t in kept] == [
        ("Find the sum of 3 and 4.", 2),
        ("Find the product of 3 and 4.", 3),
        ("If tan α = 2, find sin α cos α.", 2),
    ]
    assert dict(dropped) == {
        "duplicate": 1,
        "mentions_figure": 3,
        "asy": 1,
        "url": 1,
        "multi_part": 1,
        "non_english": 1,
        "reference_too_short": 1,
        "reference_too_long": 1,
        "no_reference": 1,
    }
    assert len(kept) + sum(dropped.values()) == len(records)
    # Each filter can be switched off: the multi-part problem is kept then.
    kept, _ = prefilter_records(records[7:8], prefilter(drop_multi_part=False), set())
    assert len(kept) == 1


def test_greek_letters_and_accented_names_are_english_and_chinese_is_not():
    limit = prefilter()["max_foreign_letters"]
    assert foreign_letter_share("Erdős and Gödel proved that $x^2 \\geq 0$ for every real x.") == 0
    assert foreign_letter_share("If tan α = 2, find sin α + cos α.") == 0
    assert foreign_letter_share("已知 $x>0$，求 $x+1/x$ 的最小值。") > 0.5 > limit
    assert foreign_letter_share("Найдите x, если x + 2 = 5.") > limit


def test_the_source_reads_local_files_with_where_columns_and_nested_fields(tmp_path):
    math_file = tmp_path / "math.jsonl"
    write_jsonl(
        math_file,
        [
            {"problem": "Find the sum of 3 and 4.", "solution": words(2000), "level": "Level 5"},
            {"problem": "Find the sum of 1 and 1.", "solution": words(2000, "2"), "level": "Level 2"},  # not kept
            {"problem": "Find the product of 3 and 4.", "solution": words(5000, "12"), "level": "Level 4"},
        ],
    )
    prm_file = tmp_path / "prm800k.jsonl"
    prm = lambda p, a: {"question": {"problem": p, "ground_truth_solution": words(2500, a), "ground_truth_answer": a}}
    write_jsonl(
        prm_file,
        [
            prm("Find the sum of 3 and 4.", "7"),  # the MATH source holds it already
            prm("Find the difference of 9 and 4.", "5"),
            prm("Find the difference of 9 and 4.", "5"),  # PRM800K repeats problems
            prm("Find the quotient of 8 and 2.", "4"),
            prm("Find the quotient of 9 and 3.", "3"),
        ],
    )
    sources = [
        {"source": str(math_file), "name": "math", "where": {"column": "level", "in": ["Level 4", "Level 5"]}},
        {
            "source": str(prm_file),
            "name": "prm800k",
            "columns": {
                "problem": "question.problem",
                "solution": "question.ground_truth_solution",
                "answer": "question.ground_truth_answer",
            },
            "limit": 2,
        },
    ]
    paths = {split: str(tmp_path / A.fill(A.TASKS, split=split)) for split in A.SPLITS}
    report_path = str(tmp_path / A.TASK_SOURCE_REPORT)
    generate_tasks(**paths, report=report_path, backend="hub", settings={"sources": sources, "prefilter": prefilter()})
    tasks = read_jsonl(paths["train_hard"])
    assert [(t["source"], t["problem"], t["answer"], t["n_subtasks"]) for t in tasks] == [
        ("math", "Find the sum of 3 and 4.", "7", 2),  # the answer from the reference's box
        ("math", "Find the product of 3 and 4.", "12", 3),
        ("prm800k", "Find the difference of 9 and 4.", "5", 2),
        ("prm800k", "Find the quotient of 8 and 2.", "4", 2),
    ]
    assert len({t["id"] for t in tasks}) == 4 and all(t["kind"] == "hard" for t in tasks)
    assert all(read_jsonl(paths[s]) == [] for s in A.SPLITS if s != "train_hard")
    report = json.loads(Path(report_path).read_text())
    assert report["tasks"]["train_hard"] == 4
    assert report["prefilter"]["sources"] == {
        # Rows are counted as read before the where filter, which drops the third (Level 2).
        "math": {"read": 3, "kept": 2, "dropped_by_reason": {"where": 1}, "subtasks": {"2": 1, "3": 1}},
        "prm800k": {
            "read": 5,
            "kept": 2,
            "dropped_by_reason": {"duplicate": 2, "beyond_limit": 1},
            "subtasks": {"2": 2, "3": 0},
        },
    }


def test_the_same_source_reads_parquet(tmp_path):
    import pandas as pd

    path = tmp_path / "numina.parquet"
    rows = [
        {"problem": "Find the sum of 3 and 4.", "solution": words(2000), "source": "cn_k12"},
        {"problem": "Prove the claim.", "solution": words(2000), "source": "olympiads"},
    ]
    pd.DataFrame(rows).to_parquet(path)
    where = {"column": "source", "in": ["cn_k12", "synthetic_math", "synthetic_amc"]}
    source = HubTaskSource([{"source": str(path), "name": "numina", "where": where}], prefilter())
    assert [t["problem"] for t in source.splits()["train_hard"]] == ["Find the sum of 3 and 4."]


def test_math_levels_4_and_5_of_the_math500_file_pass_the_filters_with_every_drop_counted():
    source = HubTaskSource(
        [{"source": str(MATH500), "name": "math500", "where": {"column": "level", "in": [4, 5]}}],
        prefilter(),
    )
    tasks = source.splits()["train_hard"]
    report = source.filter_report["sources"]["math500"]
    rows = [r for r in read_jsonl(MATH500) if r["level"] in (4, 5)]
    assert report["read"] == len(read_jsonl(MATH500)) and report["kept"] == len(tasks)  # read: before where
    assert report["dropped_by_reason"]["where"] == report["read"] - len(rows)
    assert report["kept"] + sum(report["dropped_by_reason"].values()) == report["read"]
    asy = sum("[asy]" in r["problem"] + r["solution"] for r in rows)
    assert report["dropped_by_reason"].get("mentions_figure", 0) + report["dropped_by_reason"]["asy"] >= asy > 0
    for task in tasks:
        assert "[asy]" not in task["problem"] + task["solution"]
        assert 400 <= task["reference_tokens"] <= 1600
        assert task["n_subtasks"] == (2 if task["reference_tokens"] <= 1000 else 3)


def hub_config(**prefilter_changes):
    """The small config with the hub task source (and, as paper mode needs, no world benchmarks or
    stage-1 data: the hub source fills the hard pool only)."""
    config = small_config()
    config["backends"] = {"task_source": "hub"}
    config["hub_tasks"] = {"sources": [{"source": "a.jsonl"}], "prefilter": {"reference_tokens": prefilter_changes}}
    return paper_style(config)


def paper_style(config):
    config.setdefault("evaluation", {})["benchmarks"] = {"math500": {"source": "math500.jsonl", "label": "MATH"}}
    config["training"]["stage1_data"] = {"sources": [{"source": "easy.jsonl"}]}
    load_recipes(config, ROOT)
    validate(config, str(ROOT / "config" / "schema.yaml"), set_default=True)
    return config


def test_the_config_check_refuses_length_thresholds_out_of_order_and_a_missing_section():
    check_config(hub_config())
    with pytest.raises(ConfigError, match="hub_tasks.prefilter.reference_tokens"):
        check_config(hub_config(two_up_to=2000))
    config = hub_config()
    del config["hub_tasks"]
    with pytest.raises(ConfigError, match="hub_tasks: needed by backends.task_source 'hub'"):
        check_config(config)


def test_the_paper_pools_validate_with_paper_benchmarks_and_refuse_world_ones():
    from snakemake.utils import update_config

    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    paper = yaml.safe_load((ROOT / "config" / "paper.yaml").read_text())
    update_config(config, {"backends": {"task_source": "hub"}, "hub_tasks": paper["hub_tasks"]})
    load_recipes(config, ROOT)
    validate(config, str(ROOT / "config" / "schema.yaml"), set_default=True)
    # The default's benchmarks are world splits, which the hub source does not have.
    with pytest.raises(ConfigError, match=r"evaluation.benchmarks.eval_hard.source: a world benchmark needs"):
        check_config(config)
    config["evaluation"]["benchmarks"] = {"math500": {"source": "math500.jsonl", "label": "MATH"}}
    with pytest.raises(ConfigError, match=r"training.stage1_data.sources: the world's easy split needs"):
        check_config(config)
    config["training"]["stage1_data"] = {"sources": [{"source": "easy.jsonl"}], "ngram": 0}
    check_config(config)
    names = [s["name"] for s in config["hub_tasks"]["sources"]]
    assert names == ["math", "numina", "prm800k"]
    assert config["hub_tasks"]["prefilter"]["reference_tokens"] == {
        "chars_per_token": 4,
        "min_tokens": 400,
        "two_up_to": 1000,
        "three_up_to": 1600,
    }


def test_through_snakemake_the_hub_source_writes_its_report_and_reruns_when_a_local_file_changes(tmp_path):

    pool = tmp_path / "pool.jsonl"
    write_jsonl(
        pool,
        [
            {"problem": "Find the sum of 3 and 4.", "solution": words(2000)},
            {"problem": "See the figure and find x.", "solution": words(2000)},
        ],
    )
    config = small_config()
    config["backends"] = {"task_source": "hub"}
    config["hub_tasks"] = {"sources": [{"source": str(pool), "name": "pool"}]}
    config.setdefault("evaluation", {})["benchmarks"] = {"math500": {"source": "math500.jsonl", "label": "MATH"}}
    config["training"]["stage1_data"] = {"sources": [{"source": "easy.jsonl"}]}
    configfile = tmp_path / "hub.yaml"
    configfile.write_text(yaml.safe_dump(config))
    workdir = tmp_path / "study"

    def snakemake(*args):
        return run_snakemake(workdir, *args, A.TASK_SOURCE_REPORT, configfile=configfile, timeout=300)

    snakemake("--cores", "1")
    report = json.loads((workdir / A.TASK_SOURCE_REPORT).read_text())
    assert report["prefilter"]["sources"]["pool"]["dropped_by_reason"] == {"mentions_figure": 1}
    assert [t["problem"] for t in read_jsonl(workdir / A.fill(A.TASKS, split="train_hard"))] == [
        "Find the sum of 3 and 4."
    ]
    assert "Nothing to be done" in snakemake("-n")
    write_jsonl(pool, [{"problem": "Find the product of 3 and 4.", "solution": words(2000, "12")}])
    assert "generate_tasks" in snakemake("-n")
