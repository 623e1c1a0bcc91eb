"""Request keys: stable, and made of exactly what decides an answer (never secrets or timeouts)."""

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guiding.llm import ChatRequest, Sampling, derive_seed
from guiding.llm.backends.openai_api import OpenAIBackend

BASE = dict(
    endpoint="https://api.example.org/v1",
    model="gpt-test",
    messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is 2+2? Ünïcode."}],
    sampling=Sampling(temperature=1.0, top_p=0.95, max_tokens=512, stop=("</s>",), seed=derive_seed(42, "task-7", 2)),
    sample=2,
    template="solve/v1",
    item_id="task-7",
)


def request(**changes) -> ChatRequest:
    return ChatRequest.build(**{**BASE, **changes})


def test_the_key_is_pinned():
    # A change of this value silently invalidates every cache: bump KEY_VERSION on purpose, then update it.
    assert request().key == "cd380819a5afc927c598b74dd2e674264e3eaf8f98e0ecf025b0bfb8c5e0ac22"
    assert derive_seed(42, "task-7", 2) == 1862724604


@pytest.mark.parametrize(
    "change",
    [
        {"endpoint": "http://127.0.0.1:8000/v1"},
        {"model": "gpt-test-2"},
        {"messages": BASE["messages"][1:]},
        {"messages": [BASE["messages"][0], {"role": "user", "content": "What is 2+3?"}]},
        {"messages": list(reversed(BASE["messages"]))},
        {"sample": 0},
        {"template": "solve/v2"},
    ],
    ids=lambda c: next(iter(c)),
)
def test_every_keyed_field_changes_the_key(change):
    assert request(**change).key != request().key


@pytest.mark.parametrize(
    "field,value",
    [
        ("temperature", 0.7),
        ("top_p", 0.9),
        ("max_tokens", 513),
        ("stop", ("</s>", "\n\n")),
        ("seed", 7),
        ("top_k", 50),
        ("min_p", 0.05),
        ("repetition_penalty", 1.0),
    ],
)
def test_every_sampling_parameter_changes_the_key(field, value):
    changed = dataclasses.replace(BASE["sampling"], **{field: value})
    assert request(sampling=changed).key != request().key


def test_the_item_id_names_a_request_but_the_seed_carries_it_into_the_key():
    assert request(item_id="another name").key == request().key
    seeded = dataclasses.replace(BASE["sampling"], seed=derive_seed(42, "task-8", 2))
    assert request(item_id="task-8", sampling=seeded).key != request().key


def test_one_spelling_per_value():
    ints = dataclasses.replace(BASE["sampling"], temperature=1, top_p=0.95, stop=["</s>"])
    assert request(sampling=ints).key == request().key


def test_secrets_timeouts_and_retry_settings_cannot_reach_the_key(monkeypatch):
    # The key is made of the request alone; backends hold keys, timeouts and concurrency.
    assert set(request().keyed_fields()) == {
        "key_version",
        "endpoint",
        "model",
        "messages",
        "sampling",
        "sample",
        "template",
    }
    monkeypatch.setenv("GUIDING_TEST_KEY", "sk-secret-value")
    a = OpenAIBackend("https://api.example.org/v1", api_key_env="GUIDING_TEST_KEY", timeout_s=5, concurrency=2)
    b = OpenAIBackend("https://api.example.org/v1/", api_key_env="OTHER", timeout_s=600, concurrency=64)
    assert a.identity == b.identity == BASE["endpoint"]
    assert "sk-secret-value" not in request(endpoint=a.identity).canonical


def test_samples_are_requests_of_their_own():
    with pytest.raises(ValueError, match="n must be 1"):
        Sampling(n=3)
    keys = {request(sample=i, sampling=Sampling(seed=derive_seed(0, "t", i))).key for i in range(3)}
    assert len(keys) == 3


def test_unknown_roles_and_empty_conversations_are_refused():
    with pytest.raises(ValueError, match="role"):
        request(messages=[{"role": "tool", "content": "x"}])
    with pytest.raises(ValueError, match="no messages"):
        request(messages=[])


@given(st.integers(-(2**40), 2**40), st.text(max_size=30), st.integers(0, 1000))
def test_derived_seeds_are_deterministic_31_bit_integers(base, item, sample):
    seed = derive_seed(base, item, sample)
    assert seed == derive_seed(base, item, sample)
    assert 0 <= seed < 2**31


def test_derived_seeds_differ_across_items_and_samples():
    seeds = {derive_seed(42, f"task-{i}", s) for i in range(200) for s in range(5)}
    assert len(seeds) == 1000
