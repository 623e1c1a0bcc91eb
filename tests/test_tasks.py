import random

import pytest

from guiding.tasks.embedded import ChainDecomposer, ExactSubtaskFilter, decompose, split_sizes, subtask_problems
from guiding.world.generate import generate_splits
from guiding.world.program import Program

SIZES = {"train_easy": 1, "train_hard": 300, "eval_easy": 1, "eval_hard": 1}
DECOMPOSER = ChainDecomposer(two_parts_up_to=5, seed=0, shuffle=True)


@pytest.fixture(scope="module")
def hard_tasks():
    return generate_splits(5, SIZES, [1, 2], [4, 7])["train_hard"]


def test_split_sizes_cover_the_chain_with_parts_of_at_least_min_steps():
    rng = random.Random(0)
    for n in range(2, 10):
        for parts in (2, 3):
            if parts > n:
                with pytest.raises(ValueError):
                    split_sizes(n, parts, rng)
                continue
            sizes = split_sizes(n, parts, rng)
            assert sum(sizes) == n and len(sizes) == parts
            # Parts of 2 steps at least where the chain allows it, else as even as it allows.
            assert min(sizes) >= min(2, n // parts)


def test_a_short_hard_task_keeps_only_its_subtask_with_enough_steps():
    short = generate_splits(5, SIZES, [1, 2], [3, 3])["train_hard"]
    for task in short[:50]:
        subs = decompose(task, DECOMPOSER.parts(task["n_steps"]), random.Random(task["id"]))
        assert sorted(s["n_steps"] for s in subs) == [1, 2]
        kept = [s for s in subs if not subtask_problems(s, task, 2, 0.8)]
        assert [s["n_steps"] for s in kept] == [2]
        assert subtask_problems(next(s for s in subs if s["n_steps"] == 1), task, 2, 0.8) == ["too_few_steps"]


def test_subtasks_are_contiguous_parts_of_the_hard_solution(hard_tasks):
    for task in hard_tasks:
        parts = DECOMPOSER.parts(task["n_steps"])
        subs = decompose(task, parts, random.Random(task["id"]))
        assert len(subs) == parts == (2 if task["n_steps"] <= 5 else 3)
        # Strip the step labels: the concatenated sub-solutions are the hard solution's steps, in order.
        strip = lambda line: line.split(": ", 1)[1]
        hard_steps = [strip(line) for line in task["solution"].splitlines()[:-1]]
        sub_steps = [strip(line) for s in subs for line in s["solution"].splitlines()[:-1]]
        assert sub_steps == hard_steps
        # The last subtask answers the hard task; each subtask is strictly easier.
        assert subs[-1]["answer"] == task["answer"]
        assert all(s["n_steps"] < task["n_steps"] for s in subs)
        assert all(s["parent_id"] == task["id"] for s in subs)


def test_subtasks_hold_no_information_the_hard_task_lacks(hard_tasks):
    for task in hard_tasks:
        full = Program.from_dict(task["program"])
        intermediates = {full.start_var: full.start_value, **{s.target: v for s, v in zip(full.steps, full.values())}}
        for sub in decompose(task, DECOMPOSER.parts(task["n_steps"]), random.Random(0)):
            program = Program.from_dict(sub["program"])
            assert intermediates[program.start_var] == program.start_value
            assert set(program.steps) <= set(full.steps)
            assert subtask_problems(sub, task, 2, 0.8) == []


def test_filters_catch_ill_defined_short_duplicate_and_leaking_subtasks(hard_tasks):
    task = next(t for t in hard_tasks if t["n_steps"] == 5)
    sub = decompose(task, 2, random.Random(0))[0]
    ill = {**sub, "problem": sub["problem"].replace(f"Let {sub['program']['start_var']} = ", "Let Q = ", 1)}
    assert "ill_defined" in subtask_problems(ill, task, 2, 0.8)
    assert "too_few_steps" in subtask_problems(sub, task, sub["n_steps"] + 1, 0.8)
    assert "near_duplicate" in subtask_problems(sub, task, 2, sub["n_steps"] / task["n_steps"])
    leaking = {**sub, "program": {**sub["program"], "start_value": sub["program"]["start_value"] + 1}}
    assert "adds_information" in subtask_problems(leaking, task, 2, 0.8)


def test_subtasks_keep_the_hard_tasks_distractor_chain_and_nothing_else():
    task = generate_splits(6, SIZES, [1, 2], [4, 6], distractor_steps=(2, 3))["train_hard"][0]
    parent = Program.from_dict(task["program"])
    for sub in decompose(task, 2, random.Random(0), shuffle=False):
        program = Program.from_dict(sub["program"])
        # Stated like the world's problems (with the parent's distractors), adding nothing new.
        assert (program.distractor_start, program.distractor_steps) == (
            parent.distractor_start,
            parent.distractor_steps,
        )
        assert f"Let {parent.distractor_start[0]} = {parent.distractor_start[1]}." in sub["problem"]
        assert subtask_problems(sub, task, 2, 0.8) == []
    foreign = {**sub, "program": {**sub["program"], "distractor_start": [parent.distractor_start[0], 99]}}
    assert "adds_information" in subtask_problems(foreign, task, 2, 0.8)


def test_the_llm_filter_sends_its_three_checks_as_one_batch_with_the_keys_each_has_alone(
    hard_tasks, monkeypatch, tmp_path
):
    from guiding.llm import ResponseCache, roles
    from guiding.tasks.llm import LLMSubtaskFilter

    tasks = [t for t in hard_tasks if t["n_steps"] >= 4][:6]
    pairs = [(sub, task) for task in tasks for sub in decompose(task, 2, random.Random(0))]
    spec = {"backend": "simulated", "endpoint": "simulated", "model": "filter", "temperature": 0.0}
    spec["settings"] = {"near_duplicate_fraction": 0.6}
    checks = LLMSubtaskFilter(spec, min_steps=2)
    calls = []
    generate = roles.generate
    monkeypatch.setattr(
        roles, "generate", lambda requests, *a, **k: calls.append(len(requests)) or generate(requests, *a, **k)
    )
    cache = tmp_path / "c.sqlite"
    roles.set_runtime(roles.Runtime(cache=str(cache)))
    try:
        together = checks.problems_all(pairs)
        assert calls == [3 * len(pairs)]  # one batch of every check of every subtask
        alone = {
            check: [r.key for r in roles.build_requests(checks.spec, check, [roles.Question(s["id"], f) for s, f in q])]
            for check, q in _filter_fields(pairs).items()
        }
        with ResponseCache(cache) as responses:
            assert responses.keys() == {k for keys in alone.values() for k in keys}  # keys as when asked one by one
    finally:
        roles.set_runtime(roles.Runtime())
    expected = [subtask_problems(s, t, 2, 0.6) for s, t in pairs]
    assert together == [[r for r in e if r != "adds_information"] for e in expected]
    assert any(together) and not all(together)


def _filter_fields(pairs):
    return {
        "filter_ill_defined": [(s, {"problem": s["problem"], "solution": s["solution"]}) for s, _ in pairs],
        "filter_too_few_steps": [(s, {"problem": s["problem"], "solution": s["solution"]}) for s, _ in pairs],
        "filter_near_duplicate": [(s, {"problem": s["problem"], "parent_problem": p["problem"]}) for s, p in pairs],
    }


def test_subtasks_inherit_the_operation_that_stage_1_never_saw():
    # Easy tasks use + and - only; every hard task multiplies somewhere, and its subtasks carry it.
    tasks = generate_splits(8, SIZES, [1, 2], [3, 5], easy_ops=("+", "-"))["train_hard"]
    check = ExactSubtaskFilter(min_steps=2, max_fraction=0.8)
    carried = 0
    for task in tasks:
        subs = DECOMPOSER.decompose(task)
        kept = [s for s in subs if not check.problems(s, task)]
        ops = lambda subtasks: {step["op"] for s in subtasks for step in s["program"]["steps"]}
        assert "*" in ops(subs)  # the parts cover the whole chain
        if task["n_steps"] >= 4:  # 2+2 or 2+3: every part passes the filter
            assert len(kept) == len(subs) and "*" in ops(kept)
        carried += any("*" in s["problem"] for s in kept)
    assert carried > 0.8 * len(tasks)
