import dataclasses

import pytest

from guiding.judging.embedded import ExactStepJudge
from guiding.judging.steps import judge_samples as judge_with
from guiding.teachers.embedded import SimulatedTeacher
from guiding.teachers.steps import solve_tasks
from guiding.world.generate import generate_splits

SIZES = {"train_easy": 1, "train_hard": 600, "eval_easy": 1, "eval_hard": 1}


def sample_solutions(teacher, tasks, k, seed):
    return solve_tasks(dataclasses.replace(teacher, seed=seed), tasks, k)


def judge_samples(tasks, samples):
    return judge_with(tasks, samples, ExactStepJudge())


@pytest.fixture(scope="module")
def tasks():
    return generate_splits(11, SIZES, [1, 2], [4, 6])["train_hard"]


@pytest.mark.parametrize("style", ["slip", "wrong_op"])
@pytest.mark.parametrize("p", [0.1, 0.4])
def test_measured_step_error_matches_the_configured_rate(tasks, style, p):
    teacher = SimulatedTeacher("t", p, style)
    judged = judge_samples(tasks, sample_solutions(teacher, tasks, 3, seed=0))
    verdicts = [v for j in judged for v in j["step_verdicts"]]
    measured = verdicts.count(False) / len(verdicts)
    assert abs(measured - p) < 0.02  # ~9,000 steps: two points is several standard errors
    # Outcome errors follow from step errors: a solution with no wrong step is correct.
    for j in judged:
        if all(j["step_verdicts"]):
            assert j["correct"]


def test_a_perfect_teacher_is_always_right_and_a_sloppy_one_mostly_wrong(tasks):
    perfect = judge_samples(tasks, sample_solutions(SimulatedTeacher("p", 0.0, "slip"), tasks, 2, 0))
    assert all(j["correct"] and all(j["step_verdicts"]) for j in perfect)
    sloppy = judge_samples(tasks, sample_solutions(SimulatedTeacher("s", 0.9, "wrong_op"), tasks, 2, 0))
    assert sum(not j["correct"] for j in sloppy) / len(sloppy) > 0.9


def test_sampling_is_reproducible_and_independent_of_task_order(tasks):
    teacher = SimulatedTeacher("t", 0.3, "slip")
    forward = sample_solutions(teacher, tasks[:50], 3, seed=1)
    backward = sample_solutions(teacher, tasks[:50][::-1], 3, seed=1)
    key = lambda s: (s["task_id"], s["sample"])
    assert sorted(forward, key=key) == sorted(backward, key=key)


def test_a_bad_teacher_definition_is_refused():
    with pytest.raises(ValueError, match="error_style"):
        SimulatedTeacher("t", 0.1, "typo")
    with pytest.raises(ValueError, match="step_error"):
        SimulatedTeacher("t", 1.5, "slip")


def test_a_misread_may_name_an_operation_the_problem_never_states():
    # Easy problems of + and - only: a wrong_op teacher's misreads still reach *, and the checker marks them wrong.
    sizes = {"train_easy": 400, "train_hard": 1, "eval_easy": 1, "eval_hard": 1}
    easy = generate_splits(12, sizes, [2, 2], [3, 3], easy_ops=("+", "-"))["train_easy"]
    assert all(" * " not in t["problem"] for t in easy)
    samples = sample_solutions(SimulatedTeacher("w", 0.5, "wrong_op"), easy, 1, seed=0)
    judged = judge_samples(easy, samples)
    misread = [j for s, j in zip(samples, judged) if " * " in s["solution"]]
    assert len(misread) > 20 and all(not all(j["step_verdicts"]) for j in misread)


def test_a_teacher_can_err_only_at_the_steps_of_one_operation():
    sizes = {"train_easy": 1, "train_hard": 400, "eval_easy": 1, "eval_hard": 1}
    tasks = generate_splits(13, sizes, [1, 2], [3, 4], easy_ops=("+", "-"))["train_hard"]
    everywhere = SimulatedTeacher("t", 0.5, "wrong_op")
    at_times = SimulatedTeacher("t", 0.5, "wrong_op", error_ops=["*"])
    judged = judge_samples(tasks, sample_solutions(at_times, tasks, 2, seed=0))
    by_op = {"*": [], "other": []}
    for j in judged:
        ops = [s["op"] for s in next(t for t in tasks if t["id"] == j["task_id"])["program"]["steps"]]
        for op, ok in zip(ops, j["step_verdicts"]):
            by_op["*" if op == "*" else "other"].append(ok)
    assert all(by_op["other"])  # never wrong at + or -
    assert abs(by_op["*"].count(False) / len(by_op["*"]) - 0.5) < 0.07
    # Where it errs, it errs as the teacher that errs everywhere: the same draws, the same mistakes.
    first_ops = {t["id"]: t["program"]["steps"][0]["op"] for t in tasks}
    both = zip(sample_solutions(everywhere, tasks, 2, seed=0), sample_solutions(at_times, tasks, 2, seed=0))
    first_lines = [
        (a["solution"].split("\n")[0], b["solution"].split("\n")[0]) for a, b in both if first_ops[a["task_id"]] == "*"
    ]
    assert first_lines and all(a == b for a, b in first_lines)
    assert any(
        a != b for a, b in zip(sample_solutions(everywhere, tasks, 2, 0), sample_solutions(at_times, tasks, 2, 0))
    )
    with pytest.raises(ValueError, match="error_ops"):
        SimulatedTeacher("t", 0.1, "slip", error_ops=["/"])
