"""The data pipeline's step functions called directly, file to file, without Snakemake."""

import json

import pytest

from guiding import artifacts as A
from guiding.core.io import read_jsonl
from guiding.judging.steps import judge_solutions, make_pairs
from guiding.llm.roles import Runtime, runtime, set_runtime
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


TEACHER = {"step_error": 0.2, "error_style": "slip"}


def role(model, temperature=0.0, **world):
    """A role spec at the in-process simulated endpoint, as rules/common.smk's llm_role builds it."""
    return {
        "backend": "simulated",
        "endpoint": "simulated",
        "model": model,
        "settings": world,
        "temperature": temperature,
        "max_tokens": 1024,
    }


# Each mode's backends and settings: the embedded implementations, and the same world answering
# the study's prompts through the cached generation interface.
MODES = {
    "embedded": {
        "decomposer": ("world", {"two_parts_up_to": 5, "seed": 0, "shuffle": False}),
        "subtask_filter": ("exact", {"min_steps": 2, "max_fraction": 0.8}),
        "teacher": ("simulated", TEACHER),
        "second_opinions": {},
        "paraphraser": ("template", {}),
        "rewriter": None,
    },
    "llm": {
        "decomposer": ("llm", {"two_parts_up_to": 5, "seed": 0, "llm": role("decomposer", shuffle=False)}),
        "subtask_filter": ("llm", {"min_steps": 2, "llm": role("filter", near_duplicate_fraction=0.8)}),
        "teacher": ("llm", {"llm": role("main", 1.0, teachers={"main": TEACHER})}),
        "second_opinions": {
            "final_judge": {"backend": "llm", "settings": {"llm": role("judge")}},
            "step_judge_check": {"backend": "llm", "settings": {"llm": role("judge")}},
        },
        "paraphraser": ("llm", {"llm": role("paraphraser", 0.7)}),
        "rewriter": {"backend": "llm", "settings": {"llm": role("main", teachers={"main": TEACHER}), "seed": 0}},
    },
}


@pytest.fixture(scope="module", params=sorted(MODES))
def data(request, tmp_path_factory):
    mode = MODES[request.param]
    root = tmp_path_factory.mktemp(f"steps-{request.param}")
    before = runtime()
    set_runtime(Runtime(cache=str(root / "cache" / "responses.sqlite")))
    path = lambda template, **w: str(root / A.fill(template, **w))
    tasks = {split: path(A.TASKS, split=split) for split in A.SPLITS}
    generate_tasks(**tasks, report=path(A.TASK_SOURCE_REPORT), backend="world", settings=WORLD)
    decompose_tasks(
        hard_tasks=tasks["train_hard"],
        decomposed=path(A.DECOMPOSED_SUBTASKS),
        report=path(A.DECOMPOSE_REPORT),
        backend=mode["decomposer"][0],
        decomposition=mode["decomposer"][1],
    )
    filter_subtasks(
        decomposed=path(A.DECOMPOSED_SUBTASKS),
        hard_tasks=tasks["train_hard"],
        kept=path(A.FILTERED_SUBTASKS),
        report=path(A.SUBTASK_FILTER_REPORT),
        backend=mode["subtask_filter"][0],
        subtask_filter=mode["subtask_filter"][1],
    )
    for kind, source in (("hard", tasks["train_hard"]), ("subtask", path(A.FILTERED_SUBTASKS))):
        sample_solutions(
            tasks=source,
            samples=path(A.SAMPLES, teacher="main", kind=kind),
            report=path(A.SAMPLE_REPORT, teacher="main", kind=kind),
            backend=mode["teacher"][0],
            teacher="main",
            teacher_config=mode["teacher"][1],
            sampling={"samples_per_task": 3, "seed": 0},
        )
        judge_solutions(
            tasks=source,
            samples=path(A.SAMPLES, teacher="main", kind=kind),
            judged=path(A.JUDGED, teacher="main", kind=kind),
            step_judge="exact",
            second_opinions=mode["second_opinions"],
        )
        make_pairs(
            tasks=source,
            judged=path(A.JUDGED, teacher="main", kind=kind),
            pairs=path(A.PAIRS, teacher="main", kind=kind),
            pair_stats=path(A.PAIR_STATS, teacher="main", kind=kind),
            seed=0,
            step_judge="exact",
            rewriter=mode["rewriter"],
        )
    yield root, path, tasks, mode
    set_runtime(before)


def test_each_split_lands_in_the_file_of_its_name(data):
    _, _, tasks, _ = data
    for split, file in tasks.items():
        rows = read_jsonl(file)
        assert len(rows) == WORLD["sizes"][split]
        assert all(r["id"].startswith(f"{split}-") for r in rows)
        assert all(r["kind"] == ("easy" if split.endswith("easy") else "hard") for r in rows)


def test_decomposition_and_filter_report(data):
    _, path, tasks, _ = data
    decomposed, kept = read_jsonl(path(A.DECOMPOSED_SUBTASKS)), read_jsonl(path(A.FILTERED_SUBTASKS))
    report = json.loads(open(path(A.SUBTASK_FILTER_REPORT)).read())
    assert len(decomposed) == 2 * len(read_jsonl(tasks["train_hard"]))  # 4-5 steps: 2 parts each
    assert report["kept"] == len(kept) and len(kept) + sum(report["dropped_by_reason"].values()) >= len(decomposed)
    assert {s["parent_id"] for s in kept} <= {t["id"] for t in read_jsonl(tasks["train_hard"])}


def test_samples_are_judged_and_paired(data):
    _, path, tasks, mode = data
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
    # Where no sample is correct the reference stands in, rewritten by the teacher when it has a rewriter.
    stand_ins = [p["correct"] for p in pairs if p["correct"]["source"] != "sample"]
    assert len(stand_ins) == stats["reference_rewritten"] > 0 and stats.get("rewrite_failed", 0) == 0
    source = "rewritten" if mode["rewriter"] else "reference"
    assert all(c["source"] == source and all(c["step_verdicts"]) for c in stand_ins)
    report = json.loads(open(path(A.SAMPLE_REPORT, teacher="main", kind="hard")).read())
    assert report["asked"] == report["samples"] == len(judged) and report["dropped_by_reason"] == {}


def test_second_opinions_are_stored_beside_the_verdicts(data):
    _, path, _, mode = data
    judged = read_jsonl(path(A.JUDGED, teacher="main", kind="subtask"))
    if not mode["second_opinions"]:
        assert not any("judge_correct" in j or "check_step_verdicts" in j for j in judged)
        return
    # The simulated world's judges answer exactly: the LLM verdicts read back equal the exact ones.
    assert all(j["judge_correct"] == j["correct"] for j in judged)
    assert all(j["check_step_verdicts"] == j["step_verdicts"] for j in judged)


def test_sets_paraphrases_combinations_and_statistics(data):
    root, path, _, mode = data
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
    backend, settings = mode["paraphraser"]
    paraphrase_set(base_set=hard, paraphrased=para, base="hard-main-er50", backend=backend, seed=1, settings=settings)
    para_items = read_jsonl(para)
    assert [i["outcome_correct"] for i in para_items] == [i["outcome_correct"] for i in hard_items]
    assert all(i["paraphrased"] for i in para_items)
    assert sum(a["problem"] != b["problem"] for a, b in zip(hard_items, para_items)) > 10

    combo = path(A.SET, name="combo-mix")
    combine_sets(parts=[hard, para], combined=combo, name="mix")
    assert [i["part"] for i in read_jsonl(combo)] == ["hard-main-er50"] * 20 + ["para-hard-main-er50"] * 20

    stats = str(root / "stats.json")
    set_statistics(supervision_set=combo, stats=stats, name="combo-mix")
    described = json.loads(open(stats).read())
    assert described["set"] == "combo-mix" and described["size"] == 40 and described["outcome_error_rate"] == 50
