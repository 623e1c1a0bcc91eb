"""Local backends: transformers on a tiny model built here, and vLLM's calls (vllm itself is not
installable on a CPU machine: a stand-in module records what the backend asks of ``vllm.LLM``)."""

import sys
import types

import pytest

from guiding.llm import BackendError, ChatRequest, ClientSettings, ResponseCache, Sampling, derive_seed, generate
from guiding.llm.backends import create_backend
from guiding.llm.backends.openai_api import OpenAIBackend
from guiding.llm.backends.vllm_offline import VLLMBackend
from guiding.llm.serve import ServeProcess


def chat(endpoint, i, sampling, sample=0):
    return ChatRequest.build(
        endpoint=endpoint,
        model="tiny",
        messages=[{"role": "user", "content": f"Let a = {i}. Add {i + 3} to a."}],
        sampling=sampling,
        sample=sample,
        item_id=f"t{i}",
    )


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    pytest.importorskip("torch")
    from guiding.student.embedded import build_student_base

    path = tmp_path_factory.mktemp("tiny")
    texts = [f"Let a = {i}. Add {i + 3} to a.\nStep 1: a = {2 * i + 3}. The answer is {2 * i + 3}." for i in range(60)]
    arch = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2)
    build_student_base(texts, path, 300, {**arch, "max_position_embeddings": 256}, seed=0)
    return str(path)


@pytest.fixture(scope="module")
def tiny(tiny_model):
    return create_backend("transformers", model_path=tiny_model, batch_size=4, threads=1, endpoint="tiny")


def test_transformers_greedy_answers_in_order_truncated_ones_marked(tiny, tmp_path):
    reqs = [chat("tiny", i, Sampling(temperature=0, max_tokens=12)) for i in range(6)]
    with ResponseCache(tmp_path / "c.db") as cache:
        answers = generate(reqs, tiny, cache).responses
        again = generate(list(reversed(reqs)), tiny, cache)
    assert again.stats["cached"] == 6 and [a.text for a in again.responses] == [a.text for a in reversed(answers)]
    for a in answers:
        assert a.prompt_tokens > 0 and 0 < a.completion_tokens <= 12
        assert a.finish_reason == ("length" if a.completion_tokens == 12 else "stop")


def test_transformers_stop_strings_cut_the_answer(tiny, tmp_path):
    plain = chat("tiny", 1, Sampling(temperature=0, max_tokens=24))
    with ResponseCache(tmp_path / "c.db") as cache:
        (full,) = generate([plain], tiny, cache).texts()
        stop = full[len(full) // 2 : len(full) // 2 + 2]
        if not stop.strip():
            pytest.skip("the tiny model's greedy answer has no usable middle")
        cut = chat("tiny", 1, Sampling(temperature=0, max_tokens=24, stop=(stop,)))
        (answer,) = generate([cut], tiny, cache).responses
    assert answer.text == full[: full.index(stop)] and answer.finish_reason == "stop"


def test_transformers_a_seeded_sample_depends_on_its_seed_not_on_its_batch(tiny, tmp_path):
    def sampled(i, s):
        return chat("tiny", i, Sampling(temperature=1.0, max_tokens=10, seed=derive_seed(7, f"t{i}", s)), sample=s)

    with ResponseCache(tmp_path / "alone.db") as cache:
        (alone,) = generate([sampled(2, 0)], tiny, cache).texts()
    with ResponseCache(tmp_path / "batch.db") as cache:
        batch = generate([sampled(i, s) for i in range(4) for s in range(2)], tiny, cache).texts()
    assert batch[4] == alone
    assert len(set(batch)) > 1


def test_guiding_serve_puts_a_local_model_behind_http_and_starts_it_once(tiny_model, tmp_path):
    argv = ("--backend", "transformers", "--option", f"model_path={tiny_model}", "--option", "threads=1")
    with ServeProcess(*argv, "--model", "tiny", start_s=120) as server, ResponseCache(tmp_path / "c.db") as cache:
        backend = OpenAIBackend(server.base_url, api_key_env=None, endpoint="tiny-http", concurrency=4)
        reqs = [chat("tiny-http", i, Sampling(temperature=0, max_tokens=6)) for i in range(4)]
        result = generate(reqs, backend, cache)  # four first requests at once: one model load, no error
        assert result.stats["attempts"] == 4 and server.stats()["answered"] == 4
    assert all(r.completion_tokens <= 6 for r in result.responses)


def test_transformers_sends_every_parameter_explicitly(tiny):
    config = tiny.generation_config(Sampling(temperature=0.7, top_p=0.9, max_tokens=5))
    assert (config.do_sample, config.temperature, config.top_p, config.top_k) == (True, 0.7, 0.9, 0)
    assert config.repetition_penalty == 1.0 and config.max_new_tokens == 5
    assert tiny.generation_config(Sampling(temperature=0)).do_sample is False


class FakeVLLM(types.ModuleType):
    """Stands in for the ``vllm`` package: records LLM() and LLM.chat calls."""

    def __init__(self, fail_on_call=None):
        super().__init__("vllm")
        self.engines, self.calls, self.fail_on_call = [], [], fail_on_call
        fake = self

        class SamplingParams:
            def __init__(self, **kw):
                self.kw = kw

        class LLM:
            def __init__(self, model, **engine):
                fake.engines.append((model, engine))

            def chat(self, messages, sampling_params, use_tqdm, chat_template):
                fake.calls.append([p.kw for p in sampling_params])
                if len(fake.calls) == fake.fail_on_call:
                    raise RuntimeError("CUDA error (stand-in)")
                return [
                    types.SimpleNamespace(
                        prompt_token_ids=[1, 2, 3],
                        outputs=[
                            types.SimpleNamespace(
                                text=f"{m[-1]['content']} #{p.kw['seed']}", finish_reason="stop", token_ids=[4, 5]
                            )
                        ],
                    )
                    for m, p in zip(messages, sampling_params)
                ]

        self.LLM, self.SamplingParams = LLM, SamplingParams


def vllm_requests(n):
    return [
        chat("vllm:org/model", i, Sampling(temperature=1.0, max_tokens=64, seed=derive_seed(3, f"t{i}", 0)))
        for i in range(n)
    ]


def test_vllm_is_imported_only_when_started():
    assert "vllm" not in sys.modules  # importing the backend did not import it
    backend = VLLMBackend("org/model")
    assert backend.identity == "vllm:org/model" and backend.batch_size == 512
    import asyncio

    with pytest.raises(BackendError, match=r"envs/gpu-generation.yaml"):
        asyncio.run(backend.start())


def test_vllm_chunks_are_committed_as_they_finish_each_request_with_its_own_seed(tmp_path, monkeypatch):
    fake = FakeVLLM(fail_on_call=3)
    monkeypatch.setitem(sys.modules, "vllm", fake)
    backend = VLLMBackend("org/model", chunk_size=4, engine={"tensor_parallel_size": 2})
    reqs = vllm_requests(10)
    with ResponseCache(tmp_path / "c.db") as cache:
        with pytest.raises(RuntimeError, match="stand-in"):
            generate(reqs, backend, cache, ClientSettings(max_attempts=1))
        assert cache.count() == 8  # the two finished chunks are in; the failed one is not
        fake.fail_on_call = None
        result = generate(reqs, backend, cache)
    assert [len(c) for c in fake.calls] == [4, 4, 2, 2]
    assert fake.engines == [("org/model", {"tensor_parallel_size": 2})]  # loaded once, kept between calls
    sent = [kw for call in fake.calls[:2] for kw in call] + fake.calls[3]
    assert [kw["seed"] for kw in sent] == [r.sampling.seed for r in reqs]
    assert all((kw["top_k"], kw["min_p"], kw["repetition_penalty"], kw["n"]) == (0, 0.0, 1.0, 1) for kw in sent)
    assert result.texts() == [f"{r.messages[-1][1]} #{r.sampling.seed}" for r in reqs]
    assert result.responses[0].prompt_tokens == 3 and result.responses[0].completion_tokens == 2
