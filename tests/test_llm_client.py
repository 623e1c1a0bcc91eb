"""generate(): order, cache hits, one retry layer, failures that never become samples, replay."""

import asyncio
import logging
import time

import pytest

from guiding.llm import (
    CacheMiss,
    ChatRequest,
    ClientSettings,
    GenerationError,
    PermanentError,
    ResponseCache,
    Sampling,
    TransientError,
    derive_seed,
    generate,
)
from guiding.llm.backends.echo import EchoBackend, echo_text
from guiding.llm.backends.openai_api import OpenAIBackend

FAST = ClientSettings(backoff_s=0.01, max_backoff_s=0.05)


def requests_for(n: int, endpoint: str = "echo", samples: int = 1) -> list[ChatRequest]:
    return [
        ChatRequest.build(
            endpoint=endpoint,
            model="m",
            messages=[{"role": "user", "content": f"question {i}"}],
            sampling=Sampling(seed=derive_seed(0, f"t{i}", s)),
            sample=s,
            template="test/v1",
            item_id=f"t{i}",
        )
        for i in range(n)
        for s in range(samples)
    ]


class Scripted(EchoBackend):
    """Echo, but an item's scripted errors are raised first, one per attempt; counts what it is asked."""

    def __init__(self, script=None, **kw):
        super().__init__(**kw)
        self.script = {k: list(v) for k, v in (script or {}).items()}
        self.calls: list[tuple[str, float]] = []
        self.starts = 0

    async def start(self):
        self.starts += 1

    async def complete(self, requests):
        (r,) = requests
        self.calls.append((r.item_id, time.monotonic()))
        errors = self.script.get(r.item_id)
        if errors:
            raise errors.pop(0)
        return await super().complete(requests)


@pytest.fixture
def cache(tmp_path):
    with ResponseCache(tmp_path / "responses.db") as c:
        yield c


def test_answers_come_in_request_order_and_only_missing_ones_are_sent(cache):
    reqs = requests_for(20, samples=3)
    backend = Scripted()
    first = generate(reqs[:30], backend, cache, FAST)
    assert first.stats["sent"] == 30 and len(backend.calls) == 30
    shuffled = list(reversed(reqs)) + reqs[:5]  # duplicates are served, not sent twice
    second = generate(shuffled, backend, cache, FAST)
    assert [r.text for r in second.responses] == [echo_text(r)[0] for r in shuffled]
    assert second.stats == {**second.stats, "requests": 65, "distinct": 60, "cached": 30, "sent": 30}
    assert len(backend.calls) == 60 and cache.count() == 60 and cache.leases() == []


def test_a_fully_cached_call_never_starts_the_backend(cache):
    reqs = requests_for(5)
    generate(reqs, Scripted(), cache, FAST)
    backend = Scripted()
    assert generate(reqs, backend, cache, FAST).stats["cached"] == 5
    assert backend.starts == 0 and backend.calls == []


def test_the_three_samples_of_an_item_stay_three_answers(cache):
    reqs = requests_for(1, samples=3)
    texts = generate(reqs, Scripted(), cache, FAST).texts()
    assert len(set(texts)) == 3 and cache.count() == 3


def test_truncated_answers_are_kept_and_marked(cache):
    (r,) = requests_for(1)
    short = ChatRequest.build(
        endpoint="echo", model="m", messages=r.message_dicts(), sampling=Sampling(max_tokens=2), item_id="short"
    )
    (answer,) = generate([short], Scripted(), cache, FAST).responses
    assert answer.truncated and answer.text == "Echo: question"


def test_transient_failures_are_retried_and_every_attempt_is_logged_with_its_reason(cache, caplog):
    backend = Scripted({"t3": [TransientError("HTTP 500: boom"), TransientError("timed out after 1 s")]})
    with caplog.at_level(logging.DEBUG, logger="guiding.llm"):
        result = generate(requests_for(5), backend, cache, FAST)
    assert result.failures == [] and result.stats["retried"] == 2 and result.stats["attempts"] == 7
    assert [r.text for r in result.responses] == [echo_text(r)[0] for r in requests_for(5)]
    failed = [m for m in caplog.messages if "'t3'" in m and "failed" in m]
    assert len(failed) == 2 and "HTTP 500: boom" in failed[0] and "timed out" in failed[1]
    assert sum("answered in" in m for m in caplog.messages) == 5  # successful attempts too, at debug level


def test_retry_after_is_honoured(cache):
    backend = Scripted({"t0": [TransientError("HTTP 429: slow down", retry_after_s=0.3)]})
    generate(requests_for(1), backend, cache, FAST)
    (_, first), (_, second) = backend.calls
    assert second - first >= 0.3


def test_a_retry_after_beyond_the_limit_is_a_recorded_failure(cache):
    backend = Scripted({"t0": [TransientError("HTTP 429", retry_after_s=3600)]})
    with pytest.raises(GenerationError, match="server asked to wait 3600 s"):
        generate(requests_for(1), backend, cache, ClientSettings(max_retry_after_s=10))
    assert len(backend.calls) == 1


def test_a_permanent_failure_is_not_retried_and_fails_the_call_loudly(cache):
    backend = Scripted({"t2": [PermanentError("HTTP 400: bad request")]})
    with pytest.raises(GenerationError, match=r"item 't2' sample 0 .*HTTP 400: bad request"):
        generate(requests_for(5), backend, cache, FAST)
    assert [c for c, _ in backend.calls].count("t2") == 1
    (failure,) = cache.failures()
    assert failure.item_id == "t2" and failure.attempts == 1
    assert cache.get(requests_for(5)[2].key) is None  # no empty answer stored in its place
    assert cache.leases() == []


def test_exhausted_retries_are_recorded_with_the_last_reason(cache):
    backend = Scripted({"t0": [TransientError(f"HTTP 503: try {i}") for i in range(3)]})
    with pytest.raises(GenerationError, match="HTTP 503: try 2"):
        generate(requests_for(2), backend, cache, ClientSettings(max_attempts=3, backoff_s=0.01))
    assert cache.failures()[0].attempts == 3


def test_within_the_failure_budget_failures_are_returned_apart_never_as_empty_samples(cache):
    reqs = requests_for(100)
    backend = Scripted({"t7": [PermanentError("HTTP 422: no")]})
    result = generate(reqs, backend, cache, ClientSettings(failure_budget=0.01))
    assert [f.item_id for f in result.failures] == ["t7"]
    assert result.responses[7] is None
    assert all(r is not None and r.text for i, r in enumerate(result.responses) if i != 7)
    with pytest.raises(ValueError, match="1 requests failed"):
        result.texts()
    # The next run asks again for what failed, and only for that.
    again = generate(reqs, Scripted(), cache, FAST)
    assert again.stats["sent"] == 1 and again.failures == []


def test_over_the_budget_the_run_stops_sending(cache):
    script = {f"t{i}": [PermanentError("HTTP 401: no key")] for i in range(100)}
    backend = Scripted(script)
    with pytest.raises(GenerationError, match="failure budget allows 1"):
        generate(requests_for(100), backend, cache, ClientSettings(failure_budget=0.01, concurrency=2))
    assert len(backend.calls) <= 4 and cache.leases() == []


def test_a_backend_bug_stops_the_run_and_frees_its_leases(cache):
    backend = Scripted({"t1": [ValueError("bug")]})
    with pytest.raises(ValueError, match="bug"):
        generate(requests_for(3), backend, cache, ClientSettings(concurrency=1))
    assert cache.leases() == []


def test_requests_for_another_endpoint_are_refused(cache):
    with pytest.raises(ValueError, match="not 'echo'"):
        generate(requests_for(1, endpoint="elsewhere"), Scripted(), cache)


def test_replay_serves_from_the_cache_without_a_client_or_a_key(cache, monkeypatch):
    reqs = requests_for(10, endpoint="sim", samples=2)
    filled = generate(reqs, EchoBackend("sim"), cache, FAST)
    monkeypatch.delenv("GUIDING_UNSET_KEY", raising=False)
    backend = OpenAIBackend("http://127.0.0.1:9/v1", api_key_env="GUIDING_UNSET_KEY", endpoint="sim")
    replayed = generate(reqs, backend, cache, ClientSettings(replay=True))
    assert replayed.responses == filled.responses and not backend.started


def test_a_replay_miss_names_the_request(cache):
    reqs = requests_for(3)
    generate(reqs[:2], Scripted(), cache, FAST)
    backend = Scripted()
    with pytest.raises(CacheMiss, match=r"1 of 3 requests .* item 't2' sample 0 \(test/v1, model 'm'") as miss:
        generate(reqs, backend, cache, ClientSettings(replay=True))
    assert miss.value.requests == [reqs[2]] and backend.starts == 0


def test_generate_inside_an_event_loop_points_to_agenerate(cache):
    async def inside():
        generate(requests_for(1), Scripted(), cache)

    with pytest.raises(RuntimeError, match="agenerate"):
        asyncio.run(inside())


def test_retry_after_is_read_in_milliseconds_seconds_or_as_a_date():
    from email.utils import formatdate

    from guiding.llm.backends.openai_api import retry_after_s

    assert retry_after_s({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_after_s({"retry-after": "2"}) == 2.0
    assert 8 <= retry_after_s({"retry-after": formatdate(time.time() + 10, usegmt=True)}) <= 10
    assert retry_after_s({}) is None and retry_after_s({"retry-after": "soon"}) is None


def test_an_answer_without_text_is_a_permanent_failure_not_an_empty_sample():
    from guiding.llm.backends.openai_api import parse_answer

    ok = {"choices": [{"message": {"content": "4"}, "finish_reason": "length"}], "usage": {"prompt_tokens": 3}}
    assert parse_answer(ok) == ("4", "length", 3, None)
    refusal = {"choices": [{"message": {"content": None, "refusal": "no"}, "finish_reason": "stop"}]}
    for bad in (refusal, {"choices": []}, {"error": "x"}, ["not", "a", "dict"]):
        with pytest.raises(PermanentError):
            parse_answer(bad)
