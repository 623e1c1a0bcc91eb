import pytest

from guiding.judging.embedded import ExactStepJudge
from guiding.judging.pairs import build_pairs
from guiding.judging.steps import judge_samples
from guiding.supervision.embedded import TemplateParaphraser, math_content
from guiding.supervision.sets import (
    SetBuildError,
    build_error_rate_items,
    combine_items,
    describe_set,
    incorrect_count,
    paraphrase_items,
    select_hard_tasks,
    select_subtasks,
)
from guiding.teachers.embedded import SimulatedTeacher
from guiding.teachers.steps import solve_tasks
from guiding.world.generate import generate_splits

SIZES = {"train_easy": 1, "train_hard": 400, "eval_easy": 1, "eval_hard": 1}


@pytest.fixture(scope="module")
def hard_pairs():
    tasks = generate_splits(2, SIZES, [1, 2], [4, 6])["train_hard"]
    judged = judge_samples(tasks, solve_tasks(SimulatedTeacher("t", 0.15, "slip"), tasks, 3), ExactStepJudge())
    pairs, stats = build_pairs(tasks, judged, seed=0, step_judge=ExactStepJudge())
    return pairs, stats


def test_a_rewrite_that_misses_the_answer_gives_way_to_the_reference():
    tasks = generate_splits(4, SIZES, [1, 2], [4, 6])["train_hard"][:40]
    judged = judge_samples(tasks, solve_tasks(SimulatedTeacher("t", 0.9, "wrong_op"), tasks, 1), ExactStepJudge())
    no_correct = [t for t, j in zip(tasks, judged) if not j["correct"]]

    class Rewriter:  # right for every other task, a wrong answer or no answer (None) for the rest
        def rewrite_all(self, asked):
            assert [t["id"] for t in asked] == [t["id"] for t in no_correct]
            texts = [f"In my words.\nThe answer is \\boxed{{{t['answer']}}}." for t in asked]
            return [
                [text, f"The answer is \\boxed{{{t['answer']}1}}.", None][i % 3]
                for i, (t, text) in enumerate(zip(asked, texts))
            ]

    pairs, stats = build_pairs(tasks, judged, seed=0, step_judge=ExactStepJudge(), rewriter=Rewriter())
    sources = [p["correct"]["source"] for p in pairs]
    assert len(no_correct) >= 6 and stats["reference_rewritten"] == len(no_correct)
    assert sources.count("rewritten") == len(range(0, len(no_correct), 3))
    assert (
        stats["rewrite_incorrect"]
        == len(range(1, len(no_correct), 3))
        == sources.count("reference") - stats["rewrite_failed"]
    )
    assert stats["rewrite_failed"] == len(range(2, len(no_correct), 3))
    by_id = {t["id"]: t for t in tasks}
    for p in pairs:
        if p["correct"]["source"] == "reference":
            assert p["correct"]["solution"] == by_id[p["task_id"]]["solution"]


def test_pairs_hold_one_correct_and_one_incorrect_solution(hard_pairs):
    pairs, stats = hard_pairs
    assert stats["pairs"] == len(pairs) == stats["tasks"] - stats["dropped_no_incorrect"]
    assert stats["dropped_no_incorrect"] > 0 and stats["reference_rewritten"] > 0
    for p in pairs:
        assert p["correct"]["solution"].endswith(f"\\boxed{{{p['answer']}}}.")
        assert not p["incorrect"]["solution"].endswith(f"\\boxed{{{p['answer']}}}.")


@pytest.mark.parametrize("rate", [0, 10, 30, 50, 90, 100])
def test_a_set_has_exactly_the_asked_error_rate(hard_pairs, rate):
    pairs, _ = hard_pairs
    ids = select_hard_tasks(pairs, 200, seed=1, name="x")
    items = build_error_rate_items(pairs, ids, rate, seed=1, name="x")
    stats = describe_set(items)
    assert stats["size"] == 200
    assert stats["incorrect"] == 2 * rate
    assert stats["outcome_error_rate"] == rate
    assert sum(not i["outcome_correct"] for i in items) == 2 * rate


def test_error_rate_sets_are_nested_along_the_grid(hard_pairs):
    pairs, _ = hard_pairs
    ids = select_hard_tasks(pairs, 100, seed=3, name="x")
    wrong = [
        {i["task_id"] for i in build_error_rate_items(pairs, ids, r, 3, "x") if not i["outcome_correct"]}
        for r in (10, 50, 90)
    ]
    assert wrong[0] < wrong[1] < wrong[2]


def test_the_builder_refuses_what_it_cannot_build_exactly(hard_pairs):
    pairs, _ = hard_pairs
    with pytest.raises(SetBuildError, match=r"33% of 50 tasks is 16.5 tasks.*multiple of 100"):
        incorrect_count(50, 33, "odd")
    with pytest.raises(SetBuildError, match=r"asked for 100000 hard tasks but only \d+"):
        select_hard_tasks(pairs, 100000, 0, "big")
    with pytest.raises(SetBuildError, match="outside 0..100"):
        incorrect_count(10, 120, "x")


def test_stepwise_error_rate_counts_wrong_steps_over_all_steps():
    items = [
        {"outcome_correct": True, "step_verdicts": [True, True, True, True]},
        {"outcome_correct": False, "step_verdicts": [True, False, True, True, False, True]},
    ]
    stats = describe_set(items)
    assert stats["stepwise_error_rate"] == pytest.approx(100 * 2 / 10)
    assert stats["outcome_error_rate"] == 50
    assert stats["mean_steps"] == 5


def test_subtasks_come_from_the_selected_hard_tasks():
    sub_pairs = [{"task_id": f"h{i}-s{j}", "parent_id": f"h{i}"} for i in range(10) for j in range(2)]
    chosen = select_subtasks(sub_pairs, ["h1", "h2", "h3"], 6, 0, "s")
    assert {c.split("-")[0] for c in chosen} == {"h1", "h2", "h3"}
    with pytest.raises(SetBuildError, match="only 6"):
        select_subtasks(sub_pairs, ["h1", "h2", "h3"], 7, 0, "s")


def test_paraphrase_changes_words_not_math_and_combination_keeps_parts(hard_pairs):
    pairs, _ = hard_pairs
    items = build_error_rate_items(pairs, select_hard_tasks(pairs, 50, 0, "x"), 50, 0, "x")
    para = paraphrase_items(items, TemplateParaphraser(seed=0), name="para-x")
    changed = 0
    for a, b in zip(items, para):
        assert math_content(a["problem"]) == math_content(b["problem"])
        assert math_content(a["solution"]) == math_content(b["solution"])
        assert a["step_verdicts"] == b["step_verdicts"] and a["outcome_correct"] == b["outcome_correct"]
        changed += a["problem"] != b["problem"] or a["solution"] != b["solution"]
    assert changed > 40
    combo = combine_items({"x": items, "para-x": para}, "combo")
    assert len(combo) == 100 and len({i["id"] for i in combo}) == 100
    assert describe_set(combo)["outcome_error_rate"] == 50
