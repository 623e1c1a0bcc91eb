"""The authors' released data as a pairs source: the importer and its report on small files in the
released layouts (tests/data/released/), the round trip through the export, the paper-released
plan without an LLM rule, and a study from a released fixture trained and evaluated end to end."""

import csv
import json
import random
import re
import subprocess
import sys
from collections import Counter

import pytest
import yaml
from conftest import ROOT, small_config, small_study_command

from guiding.config import ConfigError, estimated_calls, load_config, stage2_runs
from guiding.core.io import read_jsonl, write_json, write_jsonl
from guiding.judging.pairs import build_pairs
from guiding.released import ReleasedDataError, export_pairs, export_weaker_sampling
from guiding.released import import_released as import_with


def import_released(root, **settings):
    """The import, with make_pairs' own pair builder for the weaker teachers (as rule import_released)."""
    return import_with(root, build_pairs=build_pairs, **settings)


FIXTURES = ROOT / "tests" / "data" / "released"
MALFORMED = FIXTURES / "malformed"
PAPER_RELEASED = ROOT / "config" / "paper-released.yaml"
# Rules that ask an LLM somewhere in the pipeline (paraphrase_set only with an llm paraphraser).
LLM_RULES = {"decompose_tasks", "filter_subtasks", "sample_solutions", "judge_solutions", "make_pairs"}
LLM_RULES |= {"convert_benchmark"}


def malformed(**kwargs):
    settings = {"pairs_teacher": "main", "weaker_sampling": {"weak": "weakA"}, "test_data": {"t": "test.json"}}
    return import_released(MALFORMED, **{**settings, **kwargs})


def test_every_unreadable_record_is_counted_by_reason_and_file_and_no_pair_is_completed():
    made = malformed()
    summary = made.tally.summary()
    pairs_file, jsonl_file = "task_sol_pairs/poolA/pairs.json", "task_sol_pairs/poolB/pairs.jsonl"
    assert summary["dropped_by_file"][pairs_file] == {
        "not_an_object": 1,
        "original_empty_pos_ans": 1,
        "subtask_missing_neg_ans": 1,
    }
    assert summary["dropped_by_file"][jsonl_file] == {"not_utf8": 1, "not_json": 1}
    assert summary["noted_by_file"][pairs_file] == {"no_subtasks": 1, "unknown_key:extra_note": 1}
    hard = {p["task_id"]: p for p in made.pairs[("main", "hard")]}
    subtasks = {p["task_id"]: p for p in made.pairs[("main", "subtask")]}
    # The hard pair with an empty correct side is gone; its subtask, whole, stays.
    assert "empty_pos" not in hard and subtasks["empty_pos-s1"]["parent_id"] == "empty_pos"
    assert "missing_neg-s1" in subtasks and "missing_neg-s2" not in subtasks
    assert set(hard) == {"ok_1", "no_subtasks", "unknown_key", "missing_neg", "7"}  # an int id becomes text
    for pair in [*hard.values(), *subtasks.values()]:
        assert pair["correct"]["solution"].strip() and pair["incorrect"]["solution"].strip()
        assert pair["correct"]["step_verdicts"] == [None] * 2  # two written steps, none judged
    assert hard["ok_1"]["answer"] == "5" and hard["ok_1"]["correct"]["source"] == "released"
    # The test file: the ground truth's box where it is a full solution, a record without one counted.
    assert made.tests["t"] == [
        {"problem": "What is 1 + 2 ?", "answer": "3"},
        {"problem": "Fill: $x$ and $y$", "answer": "$5$;$10$"},
    ]
    assert summary["dropped_by_file"]["test_data/test.json"] == {"missing_ground_truth": 1}
    assert [p["task_id"] for p in made.paraphrases] == ["ok_1"]  # the one with an empty side is dropped
    assert {f["path"] for f in made.files} >= {pairs_file, jsonl_file} and all(
        len(f["sha256"]) == 64 for f in made.files
    )


def test_a_judge_label_that_disagrees_with_the_graded_answer_is_counted_and_the_choice_is_a_setting():
    samples_file = "weaker_sampling/weakA/samples.jsonl"
    authors = malformed()
    assert authors.tally.summary()["noted_by_file"][samples_file] == {"judge_disagrees_with_grade": 1}
    assert authors.tally.summary()["dropped_by_file"][samples_file] == {
        "no_labelled_sample": 1,
        "sample_empty_text": 1,
        "sample_judge_not_0_or_1": 1,
        "sample_missing_judge": 1,
    }
    (wrong,) = [j for j in authors.judged["weak"] if j["task_id"] == "ok_1" and j["sample"] == 0]
    assert wrong["judge_correct"] is True and wrong["graded_correct"] is False and wrong["correct"] is True
    # The authors' label decides: the sample that boxes 6 for 2 + 3 is the pair's correct side.
    by_task = {p["task_id"]: p for p in authors.pairs[("weak", "hard")]}
    assert "\\boxed{6}" in by_task["ok_1"]["correct"]["solution"]
    graded = malformed(judge_label="graded")
    assert graded.tally.summary()["noted"]["judge_disagrees_with_grade"] == 1
    by_task = {p["task_id"]: p for p in graded.pairs[("weak", "hard")]}
    # No sample of ok_1 is right by the grade: the reference stands in, as make_pairs does.
    assert by_task["ok_1"]["correct"]["source"] == "reference"
    assert authors.samples["weak"][0] == {k: wrong[k] for k in ("task_id", "teacher", "sample", "solution")}


def test_a_file_that_does_not_fit_its_folder_fails_naming_it_and_its_first_bad_record(tmp_path):
    pool = tmp_path / "task_sol_pairs" / "p"
    pool.mkdir(parents=True)
    (pool / "tests.json").write_text(json.dumps([{"question": "q", "ground_truth": "1"}]))
    with pytest.raises(ReleasedDataError, match=r"task_sol_pairs/p/tests.json: .*record 0: missing_ori_id"):
        import_released(tmp_path, pairs_teacher="main", weaker_sampling={}, test_data={})
    (pool / "tests.json").write_bytes(b'[{"ori_id": "a", "original": {"task": "caf\xe9"}}]')
    with pytest.raises(ReleasedDataError, match=r"task_sol_pairs/p/tests.json: not UTF-8 at byte 42"):
        import_released(tmp_path, pairs_teacher="main", weaker_sampling={}, test_data={})


def embedded_pairs() -> dict[str, list[dict]]:
    """Hard and subtask pairs made by the embedded pipeline's own functions (the small study's world)."""
    from guiding.judging.embedded import ExactStepJudge
    from guiding.judging.pairs import build_pairs
    from guiding.judging.steps import judge_samples
    from guiding.tasks.embedded import ChainDecomposer, ExactSubtaskFilter
    from guiding.teachers.embedded import SimulatedTeacher
    from guiding.teachers.steps import solve_tasks
    from guiding.world.generate import generate_splits

    sizes = {"train_easy": 1, "train_hard": 60, "eval_easy": 1, "eval_hard": 1}
    hard_tasks = generate_splits(7, sizes, [1, 2], [4, 5])["train_hard"]
    decomposer, keep = ChainDecomposer(two_parts_up_to=5, seed=0, shuffle=False), ExactSubtaskFilter(2, 0.8)
    subtasks = [s for t in hard_tasks for s in decomposer.decompose(t) if not keep.problems(s, t)]
    teacher, judge, pairs = SimulatedTeacher("main", 0.15, "slip"), ExactStepJudge(), {}
    for kind, tasks in (("hard", hard_tasks), ("subtask", subtasks)):
        judged = judge_samples(tasks, solve_tasks(teacher, tasks, 3), judge)
        pairs[kind] = build_pairs(tasks, judged, seed=0, step_judge=judge)[0]
    random.Random(0).shuffle(pairs["subtask"])  # an order that grouping by hard task would not keep
    return pairs


def test_pairs_exported_in_the_released_layout_import_back_byte_identical_and_give_the_same_sets(tmp_path):
    from guiding.supervision.steps import build_error_rate_set

    pairs = embedded_pairs()
    orphans = {p["parent_id"] for p in pairs["subtask"]} - {p["task_id"] for p in pairs["hard"]}
    assert orphans and len(pairs["subtask"]) > 40  # subtasks of hard tasks without a pair travel too
    made_here, imported, export = tmp_path / "here", tmp_path / "imported", tmp_path / "export"
    write_json(export / "task_sol_pairs" / "main" / "pairs.json", export_pairs(pairs["hard"], pairs["subtask"]))
    back = import_released(export, pairs_teacher="main", weaker_sampling={}, test_data={})
    for kind in ("hard", "subtask"):
        write_jsonl(made_here / f"{kind}.jsonl", pairs[kind])
        write_jsonl(imported / f"{kind}.jsonl", back.pairs[("main", kind)])
        assert (imported / f"{kind}.jsonl").read_bytes() == (made_here / f"{kind}.jsonl").read_bytes()
    for kind in ("hard", "subtask"):
        for folder in (made_here, imported):
            build_error_rate_set(
                pairs=str(folder / f"{kind}.jsonl"),
                hard_pairs=str(folder / "hard.jsonl"),
                supervision_set=str(folder / f"{kind}-main-er50.jsonl"),
                kind=kind,
                teacher="main",
                error_rate="50",
                sizes={"hard_size": 20, "subtask_size": 20},
                seed=1,
            )
        assert (imported / f"{kind}-main-er50.jsonl").read_bytes() == (
            made_here / f"{kind}-main-er50.jsonl"
        ).read_bytes()


def test_judged_samples_exported_in_the_weaker_sampling_layout_import_with_their_labels(tmp_path):
    tasks = [{"id": "t1", "problem": "What is 2 + 3 ?", "solution": "So 5.\n\\boxed{5}"}]
    judged = [
        {"task_id": "t1", "sample": 1, "solution": "So 6.\n\\boxed{6}", "correct": False},
        {"task_id": "t1", "sample": 0, "solution": "So 5.\n\\boxed{5}", "correct": True},
    ]
    (record,) = export_weaker_sampling(tasks, judged)
    assert record["judge1"] == 1 and record["judge2"] == 0 and record["sample2"].endswith("\\boxed{6}")
    write_json(tmp_path / "weaker_sampling" / "w" / "s.json", [record])
    write_json(
        tmp_path / "task_sol_pairs" / "p" / "x.json",
        [{"ori_id": "t1", "original": {"task": "q", "pos_ans": "a", "neg_ans": "b"}}],
    )
    back = import_released(tmp_path, pairs_teacher="main", weaker_sampling={"weak": "w"}, test_data={})
    assert [(j["sample"], j["correct"]) for j in back.judged["weak"]] == [(0, True), (1, False)]
    assert "judge_disagrees_with_grade" not in back.tally.summary()["noted"]  # the grade agrees with each label


def test_the_released_paraphraser_and_task_source_read_the_imported_files(tmp_path):
    from guiding.supervision.released import ReleasedParaphraser
    from guiding.tasks.released import ReleasedTaskSource

    made = malformed()
    write_jsonl(tmp_path / "para.jsonl", made.paraphrases)
    write_jsonl(tmp_path / "hard.jsonl", made.pairs[("main", "hard")])
    items = [
        {"task_id": "ok_1", "outcome_correct": False, "problem": "p", "solution": "s"},
        {"task_id": "no_subtasks", "outcome_correct": True, "problem": "p", "solution": "s"},
    ]
    reworded, kept = ReleasedParaphraser(str(tmp_path / "para.jsonl")).paraphrase_all(items)
    assert reworded == {"problem": "Find 2 plus 3.", "solution": made.paraphrases[0]["incorrect"]} and kept is None
    splits = ReleasedTaskSource(str(tmp_path / "hard.jsonl")).splits()
    assert len(splits["train_hard"]) == 5 and not splits["train_easy"] and not splits["eval_hard"]


def test_released_pairs_refuse_sets_they_cannot_fill_and_estimate_no_llm_call():
    config = load_config(PAPER_RELEASED, ROOT)
    assert estimated_calls(config) == []
    bad = yaml.safe_load(PAPER_RELEASED.read_text())
    bad["sets"]["combinations"]["sub_weak"] = [
        {"kind": "subtask", "error_rate": 10, "teacher": "gpt35"},
        {"kind": "hard", "error_rate": 50},
    ]
    path = ROOT / "tests" / "config" / ".released-bad.yaml"
    try:
        path.write_text(yaml.safe_dump(bad))
        with pytest.raises(ConfigError, match=r"set 'subtask-gpt35-er10' needs subtask pairs of teacher 'gpt35'"):
            load_config(path, ROOT)
    finally:
        path.unlink()


def test_guiding_estimate_reports_nothing_to_send_for_paper_released():
    out = subprocess.run(
        [sys.executable, "-m", "guiding.cli", "estimate", "--configfile", str(PAPER_RELEASED)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "No role of this config asks an LLM: 0 requests, $0.00." in out.stdout


def test_the_paper_released_plan_is_the_whole_stage2_grid_and_evaluation_without_an_llm_rule(tmp_path):
    config = load_config(PAPER_RELEASED, ROOT)
    cmd = [sys.executable, "-m", "snakemake", "-n", "-s", str(ROOT / "Snakefile"), "-d", str(tmp_path)]
    out = subprocess.run(
        [*cmd, "--workflow-profile", "none", "--configfile", str(PAPER_RELEASED)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    planned = Counter(re.findall(r"^rule (\w+):$", out.stdout, flags=re.M))
    runs = stage2_runs(config)
    assert len(runs) == 29 and planned["train_stage2"] == len(runs) and planned["train_stage1"] == 1
    assert planned["generate_predictions"] == 1 + len(runs) and planned["prepare_benchmark"] == 5
    assert planned["import_released"] == 1 and planned["result_tables"] == 1 and planned["findings_table"] == 1
    assert not LLM_RULES & set(planned), planned
    assert config["backends"]["paraphraser"] == "released"  # the one paraphrase_set job asks no model


@pytest.mark.workflow
def test_a_study_from_a_released_fixture_trains_and_evaluates_end_to_end(tmp_path):
    pytest.importorskip("trl")
    config = small_config()
    del config["world"]
    config["backends"] = {"task_source": "released", "pairs_source": "released", "paraphraser": "released"}
    config["released"] = {
        "local_dir": str(FIXTURES / "small"),
        "weaker_sampling": {"weak": "weak-model"},
        "test_data": {"released_test": "small_test.json"},
    }
    config["teachers"] = {"main": {}, "weak": {}}
    config["sets"] = {
        "seed": 1,
        "hard_size": 4,
        "subtask_size": 4,
        "error_rate_sweep": {"teacher": "main", "error_rates": [50]},
        "teacher_comparison": {"error_rate": 50, "teachers": ["main", "weak"]},
        "combinations": {
            "hard50_paraphrase": [
                {"kind": "hard", "error_rate": 50},
                {"kind": "hard", "error_rate": 50, "paraphrase": True},
            ]
        },
    }
    config["extra_runs"] = {}
    config["training"]["stage1_data"] = {"sources": [{"source": str(FIXTURES / "small_stage1.jsonl"), "name": "easy"}]}
    config["evaluation"]["benchmarks"] = {
        "released_test": {"source": "results/data/released/test_data/released_test.jsonl", "label": "test"}
    }
    path = tmp_path / "released.yaml"
    path.write_text(yaml.safe_dump(config))
    out = subprocess.run(
        small_study_command(tmp_path, "--cores", "2", configfile=path), capture_output=True, text=True, timeout=900
    )
    assert out.returncode == 0, out.stderr[-4000:]
    ran = Counter(re.findall(r"^(?:local)?rule (\w+):$", out.stdout + out.stderr, flags=re.M))
    assert ran["import_released"] == 1 and not LLM_RULES & set(ran), ran
    report = json.loads((tmp_path / "results/data/released/report.json").read_text())
    assert report["source"] == {"local_dir": str(FIXTURES / "small")}
    assert report["pairs"] == {"main/hard": 12, "main/subtask": 24, "weak/hard": 12} and not report["dropped"]
    assert {f["path"] for f in report["files"]} >= {
        "test_data/small_test.json",
        "weaker_sampling/weak-model/weak_samples.json",
    }
    paraphrased = read_jsonl(tmp_path / "results/sets/para-hard-main-er50.jsonl")
    assert all(item["paraphrased"] and item["problem"].startswith("Take a =") for item in paraphrased)
    with open(tmp_path / "results/tables/error_rate_sweep.csv") as f:
        rows = list(csv.DictReader(f))
    assert rows and all(row for row in rows)
    assert (tmp_path / "results/tables/findings.csv").is_file()
    for model in ("stage1", "stage2-hard-weak-er50", "stage2-combo-hard50_paraphrase"):
        graded = read_jsonl(tmp_path / f"results/eval/{model}/seed42/released_test.graded.jsonl")
        assert len(graded) == 6
