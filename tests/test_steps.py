"""The data pipeline's step functions called directly, file to file, without Snakemake."""

import json

import pytest

from guiding import artifacts as A
from guiding.core.io import read_jsonl
from guiding.judging.steps import judge_solutions, make_pairs
from guiding.supervision.steps import build_error_rate_set, combine_sets, paraphrase_set, set_statistics
from guiding.tasks.steps import decompose_tasks, filter_subtasks, generate_tasks
from guiding.teachers.steps import sample_solutions

WORLD = {
    "seed": 3,
    "sizes": {"train_easy": 5, "train_hard": 60, "eval_easy": 4, "eval_hard": 6},
    "easy_steps": [1, 2],
    "hard_steps": [4, 5],
    "distractor_steps": [0, 0],
    "shuffle_definitions": False,
    "max_value": 20,
}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("steps")
    path = lambda template, **w: str(root / A.fill(template, **w))
    tasks = {split: path(A.TASKS, split=split) for split in A.SPLITS}
    generate_tasks(**tasks, report=path(A.TASK_SOURCE_REPORT), backend="world", settings=WORLD)
    decompose_tasks(
        hard_tasks=tasks["train_hard"],
        decomposed=path(A.DECOMPOSED_SUBTASKS),
        backend="world",
        decomposition={"two_parts_up_to": 5, "seed": 0, "shuffle": False},
    )
    filter_subtasks(
        decomposed=path(A.DECOMPOSED_SUBTASKS),
        hard_tasks=tasks["train_hard"],
        kept=path(A.FILTERED_SUBTASKS),
        report=path(A.SUBTASK_FILTER_REPORT),
        backend="exact",
        subtask_filter={"min_steps": 2, "max_fraction": 0.8},
    )
    for kind, source in (("hard", tasks["train_hard"]), ("subtask", path(A.FILTERED_SUBTASKS))):
        sample_solutions(
            tasks=source,
            samples=path(A.SAMPLES, teacher="main", kind=kind),
            backend="simulated",
            teacher="main",
            teacher_config={"step_error": 0.2, "error_style": "slip"},
            sampling={"samples_per_task": 3, "seed": 0},
        )
        judge_solutions(
            tasks=source,
            samples=path(A.SAMPLES, teacher="main", kind=kind),
            judged=path(A.JUDGED, teacher="main", kind=kind),
            step_judge="exact",
        )
        make_pairs(
            tasks=source,
            judged=path(A.JUDGED, teacher="main", kind=kind),
            pairs=path(A.PAIRS, teacher="main", kind=kind),
            pair_stats=path(A.PAIR_STATS, teacher="main", kind=kind),
            seed=0,
            step_judge="exact",
        )
    return root, path, tasks


def test_each_split_lands_in_the_file_of_its_name(data):
    _, _, tasks = data
    for split, file in tasks.items():
        rows = read_jsonl(file)
        assert len(rows) == WORLD["sizes"][split]
        assert all(r["id"].startswith(f"{split}-") for r in rows)
        assert all(r["kind"] == ("easy" if split.endswith("easy") else "hard") for r in rows)


def test_decomposition_and_filter_report(data):
    _, path, tasks = data
    decomposed, kept = read_jsonl(path(A.DECOMPOSED_SUBTASKS)), read_jsonl(path(A.FILTERED_SUBTASKS))
    report = json.loads(open(path(A.SUBTASK_FILTER_REPORT)).read())
    assert len(decomposed) == 2 * len(read_jsonl(tasks["train_hard"]))  # 4-5 steps: 2 parts each
    assert report["kept"] == len(kept) and len(kept) + sum(report["dropped_by_reason"].values()) >= len(decomposed)
    assert {s["parent_id"] for s in kept} <= {t["id"] for t in read_jsonl(tasks["train_hard"])}


def test_samples_are_judged_and_paired(data):
    _, path, tasks = data
    judged = read_jsonl(path(A.JUDGED, teacher="main", kind="hard"))
    assert len(judged) == 3 * WORLD["sizes"]["train_hard"]
    answers = {t["id"]: t["answer"] for t in read_jsonl(tasks["train_hard"])}
    assert all(j["correct"] == (j["predicted"] == answers[j["task_id"]]) for j in judged)
    # A solution with no wrong step has the right answer (the step judge and the grader agree).
    assert all(j["correct"] for j in judged if all(j["step_verdicts"]))
    assert any(j["correct"] for j in judged) and any(not j["correct"] for j in judged)
    stats = json.loads(open(path(A.PAIR_STATS, teacher="main", kind="hard")).read())
    pairs = read_jsonl(path(A.PAIRS, teacher="main", kind="hard"))
    assert stats["pairs"] == len(pairs) == stats["tasks"] - stats["dropped_no_incorrect"]


def test_sets_paraphrases_combinations_and_statistics(data):
    root, path, _ = data
    pairs = lambda kind: path(A.PAIRS, teacher="main", kind=kind)
    hard, sub = path(A.SET, name="hard-main-er50"), path(A.SET, name="subtask-main-er50")
    build_error_rate_set(
        pairs=pairs("hard"),
        supervision_set=hard,
        kind="hard",
        teacher="main",
        error_rate="50",
        sizes={"hard_size": 20},
        seed=1,
    )
    build_error_rate_set(
        pairs=pairs("subtask"),
        hard_pairs=pairs("hard"),
        supervision_set=sub,
        kind="subtask",
        teacher="main",
        error_rate="50",
        sizes={"hard_size": 20, "subtask_size": 10},
        seed=1,
    )
    hard_items, sub_items = read_jsonl(hard), read_jsonl(sub)
    assert len(hard_items) == 20 and sum(not i["outcome_correct"] for i in hard_items) == 10
    assert len(sub_items) == 10 and sum(not i["outcome_correct"] for i in sub_items) == 5
    # The subtasks come from the hard tasks of the teacher's hard sets.
    parents = {p["task_id"]: p["parent_id"] for p in read_jsonl(pairs("subtask"))}
    assert {parents[i["task_id"]] for i in sub_items} <= {i["task_id"] for i in hard_items}

    para = path(A.SET, name="para-hard-main-er50")
    paraphrase_set(base_set=hard, paraphrased=para, base="hard-main-er50", backend="template", seed=1)
    para_items = read_jsonl(para)
    assert [i["outcome_correct"] for i in para_items] == [i["outcome_correct"] for i in hard_items]
    assert sum(a["problem"] != b["problem"] for a, b in zip(hard_items, para_items)) > 10

    combo = path(A.SET, name="combo-mix")
    combine_sets(parts=[hard, para], combined=combo, name="mix")
    assert [i["part"] for i in read_jsonl(combo)] == ["hard-main-er50"] * 20 + ["para-hard-main-er50"] * 20

    stats = str(root / "stats.json")
    set_statistics(supervision_set=combo, stats=stats, name="combo-mix")
    described = json.loads(open(stats).read())
    assert described["set"] == "combo-mix" and described["size"] == 40 and described["outcome_error_rate"] == 50
