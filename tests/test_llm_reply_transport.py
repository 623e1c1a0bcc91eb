"""Replies as real models write them, on the transport side: reasoning kept apart and never
parsed, cut-off replies refused, structured outputs asked and read, and a job that would pay twice
for answers its cache lost stops first."""

import json
import os
from pathlib import Path

import pytest

from guiding.llm import ResponseCache
from guiding.llm.backends.openai_api import completion_of, request_body
from guiding.llm.ledger import LostAnswers, ledger_path, read_ledger
from guiding.llm.roles import Question, RoleSpec, Runtime, ask, build_requests
from guiding.llm.schemas import SCHEMAS, response_format
from guiding.llm.serve import ServeProcess
from guiding.llm.structured import parse_structured
from guiding.world.program import read_problem, reference_solution

TESTS = Path(__file__).parent
TEACHERS = {"main": {"step_error": 0.5, "error_style": "slip"}}
PROBLEM = "Let a = 3. Let b = a + 4. Let c = b * 2. Let d = c - 5. Find d."
SOLUTION = "Step 1: b = a + 4 = 3 + 4 = 7\nThe answer is \\boxed{7}."
REFERENCE = reference_solution(read_problem(PROBLEM))
SHAPED = (
    "decompose",
    "filter_ill_defined",
    "filter_near_duplicate",
    "filter_too_few_steps",
    "judge_final",
    "judge_steps",
    "convert_open",
)


def simulated(**extra) -> RoleSpec:
    return RoleSpec("simulated", "simulated", "judge", {"teachers": TEACHERS}, temperature=0.0, max_tokens=64, **extra)


def scripted(reply: str, finish: str = "stop", reasoning: str | None = None, **extra) -> RoleSpec:
    settings = {"reply": reply, "finish": finish, "reasoning": reasoning}
    return RoleSpec("reply_backend:ScriptedReply", "scripted", "m", settings, **extra)


def judge(item: str = "t1", solution: str = SOLUTION) -> Question:
    return Question(item, {"problem": PROBLEM, "reference": REFERENCE, "solution": solution})


# ---------------------------------------------------------------- keys


def test_free_text_keys_are_those_of_schema_1_and_structured_ones_key_their_schema():
    spec = simulated()
    # The keys today's main gives these requests: free-text requests keep their cached answers.
    pinned = {
        "solve": ({"problem": PROBLEM, "min_words": 5, "max_words": 20}, "76824ca89ed5f6a7"),
        "judge_final": ({"problem": PROBLEM, "reference": SOLUTION, "solution": SOLUTION}, "371f82fc66b464f9"),
        "filter_ill_defined": ({"problem": PROBLEM, "solution": SOLUTION}, "669afb2849aee182"),
    }
    for template, (fields, key) in pinned.items():
        (free,) = build_requests(spec, template, [Question("t1", fields)])
        assert free.key.startswith(key) and "response_format" not in free.canonical
        assert "response_format" not in request_body(free)
        (shaped,) = build_requests(simulated(structured_outputs="json_schema"), template, [Question("t1", fields)])
        if template == "solve":  # free text never asks for a shape
            assert shaped.key == free.key and shaped.response_format is None
        else:
            assert shaped.key != free.key
            assert json.loads(shaped.canonical)["response_format"] == response_format(shaped.template)
            sent = request_body(shaped)["response_format"]
            assert sent["type"] == "json_schema" and sent["json_schema"]["strict"] is True
            assert sent["json_schema"]["schema"] == SCHEMAS[f"{template}.v1"]
    assert sorted(name.split(".")[0] for name in SCHEMAS) == sorted(SHAPED)
    for free_text in ("solve", "rewrite", "paraphrase", "translate"):
        assert response_format(f"{free_text}/v1") is None


def test_structured_outputs_are_refused_for_local_engines():
    with pytest.raises(ValueError, match="structured_outputs"):
        RoleSpec("vllm", "local", "m", structured_outputs="json_schema")
    with pytest.raises(ValueError, match="structured_outputs"):
        RoleSpec("openai", "api", "m", structured_outputs="xml")


# ---------------------------------------------------------------- structured replies


def test_structured_replies_map_to_the_free_text_parsers_values():
    assert parse_structured("judge_final/v1", '{"verdict": "N/A"}').value is None
    assert parse_structured("judge_final/v1", '{"verdict": "0"}').value is False
    assert parse_structured("judge_steps/v1", '{"steps": [1, 0]}', 3).value == [True, False, None]
    assert parse_structured("filter_too_few_steps/v1", '{"steps": 4}').value == 4
    assert parse_structured("filter_near_duplicate/v1", '{"answer": 1}').value is True
    subtasks = parse_structured(
        "decompose/v1", json.dumps({"subtasks": [{"problem": "P", "solution": "x = 1\n\\boxed{1}"}]}), 2
    )
    assert subtasks.value == [{"problem": "P", "solution": "x = 1\n\\boxed{1}", "answer": "1"}]
    dropped = parse_structured("convert_open/v1", '{"drop": "needs options", "question": null, "answer": null}')
    assert dropped.reason == "dropped_needs_options"
    opened = parse_structured("convert_open/v1", '{"drop": null, "question": "What is 2 + 3?", "answer": "5"}')
    assert opened.value == {"problem": "What is 2 + 3?", "answer": "5"}
    # Nothing is guessed: a reply that is not the promised JSON is refused.
    assert parse_structured("judge_final/v1", "Verdict: 1").reason == "invalid_json"
    assert parse_structured("judge_final/v1", '{"verdict": 1}').reason == "schema_mismatch"
    assert parse_structured("judge_steps/v1", '{"steps": [1, 2]}').reason == "schema_mismatch"
    assert parse_structured("filter_ill_defined/v1", '{"answer": 1, "why": "x"}').reason == "schema_mismatch"


def shaped_questions() -> dict[str, list[Question]]:
    sub = "Let a = 3. Let b = a + 4. Find b."
    wrong = "Step 1: b = a + 4 = 3 + 4 = 8\nStep 2: c = b * 2 = 8 * 2 = 16\nThe answer is \\boxed{16}."
    return {
        "decompose": [
            Question("t1", {"problem": PROBLEM, "reference": REFERENCE, "parts": 2}, parse_args=(2,)),
            Question("t2", {"problem": "Find q.", "reference": REFERENCE, "parts": 3}, parse_args=(3,)),
        ],
        "judge_final": [judge("t1", REFERENCE), judge("t2", wrong), judge("t3", "no answer here")],
        "judge_steps": [
            Question("t1", {"problem": PROBLEM, "solution": REFERENCE}, parse_args=(4,)),
            Question("t2", {"problem": PROBLEM, "solution": wrong}, parse_args=(2,)),
        ],
        "filter_ill_defined": [Question("s1", {"problem": sub, "solution": SOLUTION})],
        "filter_too_few_steps": [Question("s1", {"problem": sub, "solution": REFERENCE})],
        "filter_near_duplicate": [Question("s1", {"problem": sub, "parent_problem": PROBLEM})],
    }


def test_the_simulated_world_answers_a_schema_as_json_with_the_free_text_decisions(tmp_path):
    run = Runtime(cache=str(tmp_path / "c.sqlite"))
    for template, questions in shaped_questions().items():
        free = ask(simulated(), template, questions, run=run)
        shaped = ask(simulated(structured_outputs="json_schema"), template, questions, run=run)
        assert [json.loads(t) for t in shaped.texts]  # every structured reply is JSON
        assert [(p.value, p.reason) for p in shaped.parsed] == [(p.value, p.reason) for p in free.parsed], template
    assert any(p.ok for p in free.parsed)


def test_guiding_serve_honours_response_format(tmp_path):
    run = Runtime(cache=str(tmp_path / "c.sqlite"))
    questions = shaped_questions()
    with ServeProcess("--backend", "simulated", "--option", f"teachers={json.dumps(TEACHERS)}") as server:
        for client in ("openai", "aiohttp"):
            settings = {"base_url": server.base_url, "api_key_env": None, "client": client}
            spec = RoleSpec("openai", f"served-{client}", "judge", settings, structured_outputs="json_schema")
            for template in ("judge_final", "judge_steps", "decompose"):
                served = ask(spec, template, questions[template], run=run)
                local = ask(simulated(), template, questions[template], run=run)
                assert all(text.startswith("{") for text in served.texts)
                assert [p.value for p in served.parsed] == [p.value for p in local.parsed]


# ---------------------------------------------------------------- reasoning and truncation


def test_reasoning_returned_apart_is_stored_and_never_parsed(tmp_path):
    run = Runtime(cache=str(tmp_path / "c.sqlite"))
    spec = scripted("Verdict: 0", reasoning="Draft: Verdict: 1. No wait.")
    (parsed,) = ask(spec, "judge_final", [judge()], run=run).parsed
    assert parsed.ok and parsed.value is False
    with ResponseCache(run.cache) as cache:
        (key,) = cache.keys()
        assert cache.get(key).reasoning == "Draft: Verdict: 1. No wait."
    inline = ask(scripted("<think>Verdict: 1 surely</think>\nVerdict: 0"), "judge_final", [judge()], run=run)
    assert inline.parsed[0].value is False
    unfinished = ask(scripted("<think>Verdict: 1, let me see"), "judge_final", [judge()], run=run)
    assert unfinished.parsed[0].reason == "reasoning_only"


def test_openai_answers_keep_reasoning_fields_apart():
    data = {
        "choices": [{"message": {"content": "Verdict: 1", "reasoning_content": "hmm"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 4},
    }
    completion = completion_of(data, 0.5)
    assert (completion.text, completion.reasoning, completion.completion_tokens) == ("Verdict: 1", "hmm", 4)
    data["choices"][0]["message"] = {"content": "x", "reasoning": "other servers"}
    assert completion_of(data, 0.1).reasoning == "other servers"
    data["choices"][0]["message"] = {"content": "x"}
    assert completion_of(data, 0.1).reasoning is None


def test_reasoning_comes_through_guiding_serve_into_the_cache(tmp_path):
    run = Runtime(cache=str(tmp_path / "c.sqlite"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    options = ["--option", 'reply="Verdict: 1"', "--option", 'reasoning="Verdict: 0 at first"']  # YAML values
    with ServeProcess("--backend", "reply_backend:ScriptedReply", *options, env=env) as server:
        for client in ("openai", "aiohttp"):
            settings = {"base_url": server.base_url, "api_key_env": None, "client": client}
            answers = ask(RoleSpec("openai", f"served-{client}", "m", settings), "judge_final", [judge()], run=run)
            assert answers.parsed[0].value is True
    with ResponseCache(run.cache) as cache:
        assert [r.reasoning for r in cache.get_many(cache.keys()).values()] == ["Verdict: 0 at first"] * 2


def test_a_cut_off_reply_is_refused_unless_the_role_opts_in(tmp_path):
    run = Runtime(cache=str(tmp_path / "c.sqlite"))
    questions = [judge()]
    cut = ask(scripted("Verdict: 1", finish="length"), "judge_final", questions, run=run)
    assert cut.drops() == {"truncated": 1} and cut.finish_reasons == ["length"]
    allowed = ask(scripted("Verdict: 1", finish="length", allow_truncated=True), "judge_final", questions, run=run)
    assert allowed.parsed[0].value is True
    shaped = scripted('{"verdict": "1"', finish="length", structured_outputs="json_schema")
    assert ask(shaped, "judge_final", questions, run=run).drops() == {"truncated": 1}
    shaped = scripted('{"verdict": "1"', finish="length", structured_outputs="json_schema", allow_truncated=True)
    assert ask(shaped, "judge_final", questions, run=run).drops() == {"invalid_json": 1}


# ---------------------------------------------------------------- lost answers


def job_runtime(tmp_path, **extra) -> Runtime:
    manifest = tmp_path / "results" / "data" / "requests" / "job.jsonl"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text("")  # as run_step starts every job's manifest
    return Runtime(cache=str(tmp_path / "cache" / "c.sqlite"), manifest=str(manifest), **extra)


def judges(n: int) -> list[Question]:
    return [judge(f"t{i}", f"Step 1: x = {i}\nThe answer is \\boxed{{{i}}}.") for i in range(n)]


@pytest.mark.parametrize("loss", ["deleted", "emptied"])
def test_a_job_stops_before_paying_again_for_answers_its_cache_lost(tmp_path, loss):
    run = job_runtime(tmp_path, prices={})
    first = ask(simulated(), "judge_final", judges(6), run=run)
    ledger = read_ledger(ledger_path(run.manifest))
    assert len(ledger) == 6 and all(row["completion_tokens"] for row in ledger.values())
    cache = Path(run.cache)
    if loss == "deleted":
        cache.unlink()
    else:
        cache.write_bytes(b"")
    for suffix in ("-wal", "-shm"):
        Path(f"{cache}{suffix}").unlink(missing_ok=True)
    rerun = job_runtime(tmp_path)  # the rerun starts its manifest afresh; the ledger stays
    with pytest.raises(LostAnswers) as error:
        ask(simulated(), "judge_final", judges(8), run=rerun)
    message = str(error.value)
    assert "6 of this job's 8 requests" in message and str(cache) in message and "llm.resend_lost" in message
    with ResponseCache(cache) as c:
        assert c.count() == 0  # nothing was sent
    again = ask(simulated(), "judge_final", judges(8), run=job_runtime(tmp_path, resend_lost=True))
    assert [p.value for p in again.parsed[:6]] == [p.value for p in first.parsed]
    assert len(read_ledger(ledger_path(run.manifest))) == 8


def test_the_estimate_of_lost_answers_uses_the_price_table(tmp_path):
    from guiding.llm.cost import Price

    run = job_runtime(tmp_path)
    ask(simulated(), "judge_final", judges(2), run=run)
    Path(run.cache).unlink()
    priced = job_runtime(tmp_path, prices={"judge": Price(1_000_000.0, 0.0)})
    with pytest.raises(LostAnswers) as error:
        ask(simulated(), "judge_final", judges(2), run=priced)
    tokens = sum(row["prompt_tokens"] for row in read_ledger(ledger_path(run.manifest)).values())
    assert f"about ${float(tokens):.4f}" in str(error.value)


def test_a_stopped_jobs_answers_are_in_its_ledger_and_failures_are_not(tmp_path):
    from guiding.llm import GenerationError

    spec = RoleSpec("reply_backend:ScriptedReply", "scripted", "m", {"reply": "Verdict: 1", "fail_after": 3})
    run = job_runtime(tmp_path, max_attempts=1)
    with pytest.raises(GenerationError):  # the job stops midway: its committed answers are in the ledger
        ask(spec, "judge_final", judges(5), run=run)
    with ResponseCache(run.cache) as cache:
        answered = cache.keys()
    assert set(read_ledger(ledger_path(run.manifest))) == answered and len(answered) == 3
    # Listed in the manifest (asked) is not answered: the two failures are no lost answers.
    assert len(Path(run.manifest).read_text().splitlines()) == 5


def test_replay_reads_a_read_only_cache_and_writes_no_ledger(tmp_path):
    run = job_runtime(tmp_path)
    first = ask(simulated(), "judge_final", judges(3), run=run)
    ledger_path(run.manifest).unlink()
    os.chmod(run.cache, 0o444)
    replay = job_runtime(tmp_path, replay=True)
    assert ask(simulated(), "judge_final", judges(3), run=replay).texts == first.texts
    assert not ledger_path(run.manifest).exists()
    from guiding.llm import CacheError

    missing = Runtime(cache=str(tmp_path / "nowhere" / "c.sqlite"), replay=True)
    with pytest.raises(CacheError, match="no response cache at .*nowhere"):
        ask(simulated(), "judge_final", judges(1), run=missing)
    assert not (tmp_path / "nowhere").exists()
