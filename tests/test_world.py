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
