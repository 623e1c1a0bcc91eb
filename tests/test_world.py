import random

import pytest

from guiding.answers import extract_answer
from guiding.world.generate import generate_splits
from guiding.world.program import Program, apply_op, check_steps, random_program, reference_solution, render_step

SIZES = {"train_easy": 300, "train_hard": 200, "eval_easy": 100, "eval_hard": 100}


def test_generation_is_determined_by_the_seed():
    a = generate_splits(7, SIZES, [1, 2], [4, 6])
    b = generate_splits(7, SIZES, [1, 2], [4, 6])
    c = generate_splits(8, SIZES, [1, 2], [4, 6])
    assert a == b
    assert a["train_hard"] != c["train_hard"]


def test_splits_have_the_asked_difficulty_and_never_share_a_task():
    splits = generate_splits(1, SIZES, [1, 2], [4, 6], max_value=20)
    seen = set()
    for name, tasks in splits.items():
        assert len(tasks) == SIZES[name]
        lo, hi = (1, 2) if name.endswith("easy") else (4, 6)
        for task in tasks:
            program = Program.from_dict(task["program"])
            assert lo <= task["n_steps"] == len(program.steps) <= hi
            assert all(0 <= v <= 20 for v in program.values())
            assert task["answer"] == str(program.answer)
            assert extract_answer(task["solution"]) == task["answer"]
            assert program not in seen
            seen.add(program)


def test_reference_solutions_pass_the_step_checker():
    for task in generate_splits(3, SIZES, [1, 2], [4, 6])["train_hard"]:
        assert check_steps(Program.from_dict(task["program"]), task["solution"]) == [True] * task["n_steps"]


def test_step_checker_counts_a_slip_once_where_it_happens():
    program = random_program(random.Random(0), 5)
    lines = reference_solution(program).splitlines()
    # Miscompute step 2 and carry the wrong value through the rest, as a slip does.
    steps = program.steps
    values = [program.start_value]
    for i, step in enumerate(steps):
        result = apply_op(step.op, values[-1], step.operand) + (1 if i == 1 else 0)
        lines[i] = render_step(i + 1, step, values[-1], result)
        values.append(result)
    verdicts = check_steps(program, "\n".join(lines))
    assert verdicts == [True, False, True, True, True]


@pytest.mark.parametrize(
    "mangle, expected",
    [
        (lambda lines: lines[:2] + lines[-1:], [True, True, False, False, False]),  # steps missing
        (lambda lines: [lines[1], lines[0], *lines[2:]], [False, False, False, True, True]),  # swapped
        (lambda lines: ["Step 1: gibberish", *lines[1:]], [False, True, True, True, True]),
        (lambda lines: [*lines[:-1], lines[-2].replace("Step 5", "Step 6"), lines[-1]], [True] * 5 + [False]),
    ],
)
def test_step_checker_flags_missing_swapped_unreadable_and_extra_steps(mangle, expected):
    program = random_program(random.Random(1), 5)
    lines = reference_solution(program).splitlines()
    assert check_steps(program, "\n".join(mangle(lines))) == expected


def stated_operations(task: dict) -> set[str]:
    """Every operation a task's problem states, read from its text (chain and distractors)."""
    return {op for op in "+-*" if f" {op} " in task["problem"]}


@pytest.mark.parametrize("easy_ops", [("+", "-"), ("+", "*"), ("-",)])
def test_easy_tasks_never_state_a_left_out_operation_and_every_hard_task_needs_one(easy_ops):
    splits = generate_splits(2, SIZES, [1, 2], [3, 4], distractor_steps=(0, 2), easy_ops=easy_ops)
    left_out = {"+", "-", "*"} - set(easy_ops)
    for name, tasks in splits.items():
        assert len(tasks) == SIZES[name]
        for task in tasks:
            program = Program.from_dict(task["program"])
            assert all(0 <= v <= 20 for v in program.values())
            if name.endswith("easy"):
                assert not stated_operations(task) & left_out, task["problem"]
            else:
                assert {s.op for s in program.steps} & left_out, task["problem"]  # on the path to the answer
    # Hard tasks are free to use the easy operations too: they are not confined to the new ones.
    hard_ops = {s["op"] for t in splits["train_hard"] for s in t["program"]["steps"]}
    assert hard_ops == {"+", "-", "*"}


def test_all_operations_for_easy_tasks_leave_hard_tasks_unconstrained():
    # The default world: leaving easy_ops at every operation draws exactly what the world drew before it existed.
    assert generate_splits(4, SIZES, [1, 2], [3, 4]) == generate_splits(4, SIZES, [1, 2], [3, 4], easy_ops="+-*")
    hard = generate_splits(4, SIZES, [1, 2], [3, 4])["train_hard"]
    assert any(all(s["op"] != "*" for s in t["program"]["steps"]) for t in hard)


@pytest.mark.parametrize("ops, n_steps", [(("+",), 4), (("*",), 2), (("-", "*"), 4)])
def test_chains_of_few_operations_are_redrawn_at_a_dead_end(ops, n_steps):
    # With + alone a chain cannot go on from a value near max_value, with * alone not from 0.
    rng = random.Random(0)
    for _ in range(200):
        program = random_program(rng, n_steps, max_value=12, distractors=2, ops=ops)
        assert {s.op for s in (*program.steps, *program.distractor_steps)} <= set(ops)
        assert all(0 <= v <= 12 for v in program.values())
        assert check_steps(program, reference_solution(program)) == [True] * n_steps


def test_a_chain_that_no_start_value_allows_is_refused():
    # Doubling from 1 four times passes 12: no chain of four multiplications stays within 0..12.
    with pytest.raises(ValueError, match="no chain of 4 steps"):
        random_program(random.Random(0), 4, max_value=12, ops=("*",))


def test_first_error_names_what_a_solution_gets_wrong_first():
    from guiding.world.program import (
        ARITHMETIC,
        CARRY,
        EXTRA,
        MISSING,
        OPERATION,
        RIGHT,
        Step,
        first_error,
    )

    program = Program("n", 8, (Step("p", "n", "*", 2), Step("v", "p", "+", 3)))
    right = reference_solution(program)
    assert first_error(program, right) == (RIGHT, None)
    # Wrong variable names alone are no error: they never reach the answer.
    assert first_error(program, right.replace("p = n", "k = j")) == (RIGHT, None)
    assert first_error(program, right.replace("n * 2 = 8 * 2", "n - 2 = 8 - 2")) == (OPERATION, "*")
    assert first_error(program, right.replace("= 16 + 3", "= 15 + 3")) == (CARRY, "+")
    assert first_error(program, right.replace("= 8 * 2 = 16", "= 8 * 2 = 17")) == (ARITHMETIC, "*")
    assert first_error(program, right.splitlines()[0]) == (MISSING, "+")
    lines = right.splitlines()
    assert first_error(program, "\n".join([*lines[:2], "Step 3: q = v + 1 = 19 + 1 = 20", lines[2]])) == (EXTRA, None)


def test_distractor_ops_put_an_operation_into_easy_problems_that_no_easy_chain_computes():
    from guiding.world.generate import generate_splits

    settings = dict(seed=3, sizes={"train_easy": 300, "train_hard": 50, "eval_easy": 20, "eval_hard": 20})
    settings |= dict(easy_steps=[1, 3], hard_steps=[3, 4], easy_ops=("+", "-"), distractor_steps=(1, 2))
    plain = generate_splits(**settings)
    exposed = generate_splits(**settings, distractor_ops=("+", "-", "*"))
    for splits in (plain, exposed):
        for task in splits["train_easy"]:
            program = Program.from_dict(task["program"])
            assert {s.op for s in program.steps} <= {"+", "-"}
            assert check_steps(program, task["solution"]) == [True] * task["n_steps"]
    stated = {s.op for t in exposed["train_easy"] for s in Program.from_dict(t["program"]).distractor_steps}
    assert "*" in stated
    assert "*" not in {s.op for t in plain["train_easy"] for s in Program.from_dict(t["program"]).distractor_steps}
    # Unset, the draws are those of before: the same tasks.
    assert generate_splits(**settings, distractor_ops=None) == plain
