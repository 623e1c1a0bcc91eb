"""A role's questions through the cache: keys, replay, drops with reasons, never an empty answer."""

import pytest

from guiding.llm import CacheMiss, ResponseCache
from guiding.llm.parsers import Parsed, boxed_answer, written_steps
from guiding.llm.roles import Question, RoleSpec, Runtime, ask, build_requests, identity
from guiding.llm.serve import ServeProcess

TEACHERS = {"main": {"step_error": 0.5, "error_style": "slip"}}
PROBLEM = "Let a = 3. Let b = a + 4. Let c = b * 2. Let d = c - 5. Find d."


def simulated(**settings) -> RoleSpec:
    return RoleSpec("simulated", "simulated", "main", {"teachers": TEACHERS, **settings}, temperature=1.0)


def solve(item: str, sample: int = 0) -> Question:
    return Question(item, {"problem": PROBLEM, "min_words": 5, "max_words": 20}, sample=sample)


def test_keys_name_the_endpoint_settings_and_sample_but_no_runtime(tmp_path):
    spec = simulated()
    a = build_requests(spec, "solve", [solve("t1", 0), solve("t1", 1), solve("t2", 0)])
    assert len({r.key for r in a}) == 3 and len({r.sampling.seed for r in a}) == 3
    assert [r.key for r in a] == [
        r.key for r in build_requests(spec, "solve", [solve("t1", 0), solve("t1", 1), solve("t2", 0)])
    ]
    assert a[0].template == "solve/v1"
    # Another teacher behind the simulated endpoint answers differently: another identity, other keys.
    other = simulated(teachers={"main": {"step_error": 0.1, "error_style": "slip"}})
    assert identity(other) != identity(spec) and build_requests(other, "solve", [solve("t1")])[0].key != a[0].key
    http = RoleSpec("openai", "api", "gpt", {"base_url": "http://127.0.0.1:9/v1", "api_key_env": "KEY"})
    moved = RoleSpec("openai", "api", "gpt", {"base_url": "http://10.0.0.1:8/v1", "api_key_env": "OTHER"})
    assert identity(http) == identity(moved) == "api"  # a port or key variable is no part of a key


def test_answers_are_cached_replayed_and_misses_named(tmp_path):
    run = Runtime(cache=str(tmp_path / "c.sqlite"))
    questions = [solve(f"t{i}", s) for i in range(5) for s in range(3)]
    first = ask(simulated(), "solve", questions, run=run)
    assert all(p.ok and boxed_answer(p.value) for p in first.parsed)
    replay = Runtime(cache=run.cache, replay=True)
    assert ask(simulated(), "solve", questions, run=replay).texts == first.texts
    with pytest.raises(CacheMiss, match="item 't9'"):
        ask(simulated(), "solve", [solve("t9")], run=replay)


def test_unreadable_answers_and_failed_requests_are_drops_with_reasons(tmp_path):
    run = Runtime(cache=str(tmp_path / "c.sqlite"))
    unreadable = ask(simulated(), "solve", [solve("t1")], parse=lambda text: Parsed(None, "no_verdict"), run=run)
    assert unreadable.drops() == {"no_verdict": 1}
    with ServeProcess("--backend", "simulated", "--fault-rate", "1", "--faults", "400") as server:
        spec = RoleSpec("openai", "served", "main", {"base_url": server.base_url, "api_key_env": None})
        budget = Runtime(cache=run.cache, failure_budget=1.0, max_attempts=2, backoff_s=0.01)
        failed = ask(spec, "solve", [solve("t1"), solve("t2")], run=budget)
    assert failed.drops() == {"request_failed": 2} and failed.texts == [None, None]
    with ResponseCache(run.cache) as cache:
        assert len(cache.failures()) == 2  # recorded, never an empty sample


def test_written_steps_and_boxed_answers():
    solution = "Step 1: b = 7\n\nStep 2: c = 14\nSo the answer is \\boxed{\\frac{1}{2}}."
    assert written_steps(solution) == 2
    assert boxed_answer(solution) == "\\frac{1}{2}"
    assert boxed_answer("\\boxed{1") is None and boxed_answer("no box") is None
