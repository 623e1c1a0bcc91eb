"""The simulated chat backend: the world reads the study's prompts and answers them in their formats."""

import asyncio
import random

import pytest

from guiding.llm import ChatRequest, PermanentError, Sampling, create_backend, parsers, prompts
from guiding.tasks.embedded import decompose
from guiding.teachers.embedded import SimulatedTeacher
from guiding.world.generate import generate_splits
from guiding.world.program import Program, check_steps, read_problem

SIZES = {"train_easy": 5, "train_hard": 150, "eval_easy": 5, "eval_hard": 5}
TASKS = generate_splits(5, SIZES, [1, 2], [3, 7], shuffle=True, distractor_steps=(0, 3))["train_hard"]
TEACHERS = {"main": {"step_error": 0.3, "error_style": "slip"}, "weak": {"step_error": 0.6, "error_style": "wrong_op"}}


@pytest.fixture(scope="module")
def chat():
    return create_backend("simulated", teachers=TEACHERS, shuffle=True, near_duplicate_fraction=0.8)


def request(template, model="main", seed=1, **fields):
    t = prompts.load(template)
    return ChatRequest.build(
        endpoint="simulated", model=model, messages=t.render(**fields), sampling=Sampling(seed=seed), template=t.label
    )


def test_problems_are_read_back_exactly_with_shuffles_and_distractors():
    assert all(read_problem(t["problem"]) == Program.from_dict(t["program"]) for t in TASKS)
    assert read_problem("Let b = a + 3. Find b.") is None  # a is never defined
    assert read_problem("Let a = 1. Let a = 2. Let b = a + 1. Find b.") is None
    assert read_problem("Let a = 1. Let b = a + 1.") is None  # no question


def test_decomposition_answers_parse_into_the_exact_decomposition(chat):
    for task in TASKS[:40]:
        parts = 2 if task["n_steps"] <= 5 else 3
        answer = chat.answer(
            request("decompose", seed=7, problem=task["problem"], reference=task["solution"], parts=parts)
        )
        parsed = parsers.parse_subtasks(answer, parts)
        assert parsed.ok, answer
        exact = decompose({"id": "task", "program": task["program"]}, parts, random.Random("7:decompose"), True)
        assert [(s["problem"], s["solution"], s["answer"]) for s in parsed.value] == [
            (s["problem"], s["solution"], s["answer"]) for s in exact
        ]


def test_solutions_follow_the_named_teacher_and_the_seed(chat):
    task = TASKS[0]
    fields = {"problem": task["problem"], **prompts.length_hint(task["solution"])}
    main = [chat.answer(request("solve", "main", seed, **fields)) for seed in range(40)]
    assert main == [chat.answer(request("solve", "main", seed, **fields)) for seed in range(40)]  # deterministic
    assert len(set(main)) > 1  # seeds differ, samples differ
    teacher = SimulatedTeacher("main", 0.3, "slip")
    assert main[3] == teacher.solve_program(Program.from_dict(task["program"]), random.Random("3:solve"))
    weak_wrong = sum(
        v is False
        for i, t in enumerate(TASKS)
        for v in check_steps(
            Program.from_dict(t["program"]),
            chat.answer(request("solve", "weak", i, problem=t["problem"], min_words=1, max_words=9)),
        )
    )
    steps = sum(t["n_steps"] for t in TASKS)
    assert 0.5 < weak_wrong / steps < 0.7  # the configured 60% per step
    with pytest.raises(PermanentError, match="no teacher named 'gpt'"):
        chat.answer(request("solve", "gpt", **fields))
    with pytest.raises(PermanentError, match="no known template"):
        chat.answer(ChatRequest.build(endpoint="simulated", model="main", messages=[{"role": "user", "content": "Hi"}]))


def test_judges_and_filters_answer_exactly(chat):
    task = TASKS[1]
    program = Program.from_dict(task["program"])
    for seed in range(10):
        solution = chat.answer(request("solve", "weak", seed, problem=task["problem"], min_words=1, max_words=9))
        verdicts = parsers.parse_step_verdicts(
            chat.answer(request("judge_steps", "judge", problem=task["problem"], solution=solution))
        )
        assert verdicts.value == check_steps(program, solution)
        final = parsers.parse_verdict(
            chat.answer(
                request("judge_final", "judge", problem=task["problem"], reference=task["solution"], solution=solution)
            )
        )
        assert final.value == (solution.splitlines()[-1] == task["solution"].splitlines()[-1])
    sub_problem = "Let d = 4. Let e = d + 2. Let f = e - 1. Find f."
    yes_no = lambda template, **f: parsers.parse_yes_no(chat.answer(request(template, "filter", **f))).value
    assert yes_no("filter_ill_defined", problem=sub_problem, solution="x") is True
    assert yes_no("filter_ill_defined", problem="Let e = d + 2. Find e.", solution="x") is False
    long_parent = "Let d = 4. Let e = d + 2. Let f = e - 1. Let g = f + 3. Let h = g - 2. Let k = h + 1. Find k."
    assert yes_no("filter_near_duplicate", problem=sub_problem, parent_problem=long_parent) is False
    assert yes_no("filter_near_duplicate", problem=long_parent, parent_problem=long_parent) is True
    steps = chat.answer(request("filter_too_few_steps", "filter", problem=sub_problem, solution=task["solution"]))
    assert parsers.parse_count(steps).value == task["n_steps"]


def test_paraphrases_keep_the_math_and_the_backend_completes_batches(chat):
    task = TASKS[2]
    reqs = [
        request("paraphrase", "paraphraser", seed, part=part, text=task[part])
        for seed in range(3)
        for part in ("problem", "solution")
    ]
    completions = asyncio.run(chat.complete(reqs))
    assert all(c.finish_reason == "stop" and c.completion_tokens > 0 for c in completions)
    texts = [parsers.parse_paraphrase(c.text).value for c in completions]
    assert read_problem(texts[0]) == Program.from_dict(task["program"])  # same math, new words
    assert texts[0] != task["problem"] or texts[2] != task["problem"]


def test_a_world_whose_easy_tasks_leave_out_an_operation_goes_through_every_template(chat):
    # Hard tasks that each multiply, from a world whose easy tasks only add and subtract.
    tasks = generate_splits(9, SIZES, [1, 2], [4, 5], shuffle=True, distractor_steps=(0, 2), easy_ops=("+", "-"))
    for task in tasks["train_hard"][:30]:
        program = Program.from_dict(task["program"])
        assert "*" in {s.op for s in program.steps} and read_problem(task["problem"]) == program
        answer = chat.answer(request("decompose", seed=3, problem=task["problem"], reference=task["solution"], parts=2))
        subtasks = parsers.parse_subtasks(answer, 2).value
        exact = decompose({"id": "task", "program": task["program"]}, 2, random.Random("3:decompose"), True)
        assert [s["solution"] for s in subtasks] == [s["solution"] for s in exact]
        assert any(" * " in s["problem"] for s in subtasks)
        solution = chat.answer(request("solve", "weak", 5, problem=task["problem"], min_words=1, max_words=9))
        verdicts = chat.answer(request("judge_steps", "judge", problem=task["problem"], solution=solution))
        assert parsers.parse_step_verdicts(verdicts).value == check_steps(program, solution)
        # The step checker tells the new operation apart: the reference with * read as + fails at those steps.
        misread = check_steps(program, task["solution"].replace(" * ", " + "))
        assert misread == [s.op != "*" for s in program.steps]
        reworded = chat.answer(request("paraphrase", "paraphraser", 1, part="problem", text=task["problem"]))
        assert read_problem(parsers.parse_paraphrase(reworded).value) == program


def test_a_teacher_of_the_chat_backend_can_err_at_one_operation_only():
    star = {"star": {"step_error": 0.7, "error_style": "wrong_op", "error_ops": ["*"]}}
    chat = create_backend("simulated", teachers=star)
    tasks = generate_splits(9, SIZES, [1, 2], [3, 4], easy_ops=("+", "-"))["train_hard"]
    wrong_at = {"*": 0, "other": 0}
    for i, task in enumerate(tasks):
        program = Program.from_dict(task["program"])
        solution = chat.answer(request("solve", "star", i, problem=task["problem"], min_words=1, max_words=9))
        for step, ok in zip(program.steps, check_steps(program, solution)):
            wrong_at["*" if step.op == "*" else "other"] += not ok
    assert wrong_at["other"] == 0 and wrong_at["*"] > 50
