"""Faults of the LLM path name their cause: a refused connection, the cost of lost rows,
the spending limit at run time."""

import socket
from pathlib import Path

import pytest

from guiding.llm import ChatRequest, ClientSettings, GenerationError, ResponseCache, Sampling, generate
from guiding.llm.backends.openai_api import OpenAIBackend


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chain(error: BaseException) -> list[BaseException]:
    seen = []
    while error is not None and error not in seen:
        seen.append(error)
        error = error.__cause__ or error.__context__
    return seen


@pytest.mark.parametrize("client", ["openai", "aiohttp"])
def test_a_refused_connection_is_recorded_with_the_endpoint_and_the_attempts(tmp_path, client):
    port = free_port()  # closed again: nothing listens there
    backend = OpenAIBackend(f"http://127.0.0.1:{port}/v1", api_key_env=None, endpoint="local", client=client)
    request = ChatRequest.build(
        endpoint="local", model="m", messages=[{"role": "user", "content": "2+2?"}], sampling=Sampling(), item_id="t0"
    )
    with ResponseCache(tmp_path / "c.sqlite") as cache:
        with pytest.raises(GenerationError) as raised:
            generate([request], backend, cache, ClientSettings(max_attempts=3, backoff_s=0.01))
        (failure,) = cache.failures()
    expected = f"connection refused (127.0.0.1:{port}) after 3 attempts"
    assert failure.reason == expected and failure.attempts == 3
    assert expected in str(raised.value)
    assert not any("event loop" in str(e) for e in chain(raised.value))
    assert [type(e) for e in chain(raised.value)] == [GenerationError]


def test_serve_listens_on_loopback_unless_allowed_remote():
    import subprocess
    import sys

    from guiding.llm import serve

    refused = subprocess.run(
        [sys.executable, "-m", "guiding.cli", "serve", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert refused.returncode != 0 and "--allow-remote" in refused.stderr and "0.0.0.0" in refused.stderr
    parser = __import__("argparse").ArgumentParser()
    serve.add_arguments(parser)
    assert parser.parse_args([]).host == "127.0.0.1"
    for host in ("127.0.0.1", "::1", "localhost"):
        serve.check_host(host, allow_remote=False)
    serve.check_host("0.0.0.0", allow_remote=True)
    with pytest.raises(SystemExit, match="--allow-remote"):
        serve.build_server(parser.parse_args(["--host", "192.168.1.7"]))


# ---------------------------------------------------------------- the cost table after lost rows

TEACHERS = {"main": {"step_error": 0.5, "error_style": "slip"}}
PROBLEM = "Let a = 3. Let b = a + 4. Let c = b * 2. Let d = c - 5. Find d."
PRICES = {"main": {"prompt": 1.0, "completion": 2.0}}


def simulated_spec(max_tokens: int = 300):
    from guiding.llm.roles import RoleSpec

    return RoleSpec("simulated", "simulated", "main", {"teachers": TEACHERS}, temperature=1.0, max_tokens=max_tokens)


def solve(item: str):
    from guiding.llm.roles import Question

    return Question(item, {"problem": PROBLEM, "min_words": 5, "max_words": 20})


def test_the_cost_table_bills_lost_rows_at_a_bound_and_failures_at_nothing(tmp_path):
    import math
    import sqlite3

    import pandas as pd

    from guiding.llm.roles import Runtime, ask, build_requests
    from guiding.report.costs import costs_table

    cache, manifest = tmp_path / "c.sqlite", tmp_path / "requests.jsonl"
    manifest.write_text("")
    questions = [solve(f"t{i}") for i in range(6)]
    ask(simulated_spec(), "solve", questions, run=Runtime(cache=str(cache), manifest=str(manifest), teacher="main"))
    requests = build_requests(simulated_spec(), "solve", questions)
    with sqlite3.connect(cache) as db:
        tokens = dict(db.execute("SELECT key, prompt_tokens + 2 * completion_tokens FROM responses"))
        lost, failed = requests[:2], requests[2]
        db.executemany("DELETE FROM responses WHERE key = ?", [(r.key,) for r in (*lost, failed)])
    with ResponseCache(cache) as c:
        c.record_failures([(failed, "HTTP 500 from 127.0.0.1:1 after 6 attempts", 6)])
    out = {ext: str(tmp_path / f"costs.{ext}") for ext in ("csv", "md", "json")}
    costs_table(
        requests=[str(manifest)],
        csv=out["csv"],
        md=out["md"],
        provenance_json=out["json"],
        prices=PRICES,
        response_cache=str(cache),  # chars_per_token: its default, 4
    )
    df = pd.read_csv(out["csv"], keep_default_na=False).set_index("role")
    assert list(df.index) == ["teacher", "unanswered", "row lost: teacher", "total"]
    assert df.loc["teacher", "requests"] == 3
    assert df.loc["teacher", "usd"] == pytest.approx(sum(tokens[r.key] for r in requests[3:]) / 1e6, abs=1e-9)
    assert df.loc["unanswered", "requests"] == 1 and df.loc["unanswered", "usd"] == 0
    bound_prompt = sum(math.ceil(sum(len(m["content"]) for m in r.message_dicts()) / 4) for r in lost)
    assert df.loc["row lost: teacher", "requests"] == 2
    assert df.loc["row lost: teacher", "prompt_tokens"] == bound_prompt
    assert df.loc["row lost: teacher", "completion_tokens"] == 2 * 300  # max_tokens each
    assert df.loc["row lost: teacher", "usd"] == pytest.approx((bound_prompt + 2 * 2 * 300) / 1e6, abs=1e-9)
    # The bound is above what the lost rows had cost.
    assert df.loc["row lost: teacher", "usd"] >= sum(tokens[r.key] for r in lost) / 1e6
    caption = Path(out["md"]).read_text()
    assert "3 requests billed from their cache rows" in caption and "1 unanswered (a failure record" in caption
    assert "2 whose cache row was lost" in caption and "estimated upper bound" in caption


# ---------------------------------------------------------------- the spending limit at run time


def test_a_job_stops_before_sending_what_would_pass_the_spending_limit(tmp_path):
    import math

    from guiding.llm.cost import price_table
    from guiding.llm.roles import Runtime, ask, build_requests
    from guiding.llm.spending import SpendingLimit, SpendingLimitError, billed_usd

    cache, manifest = tmp_path / "c.sqlite", tmp_path / "requests.jsonl"
    manifest.write_text("")
    prices = price_table({"prices": PRICES})
    first = [solve(f"t{i}") for i in range(4)]
    ask(simulated_spec(), "solve", first, run=Runtime(cache=str(cache)))
    billed = billed_usd(cache, prices)
    assert billed > 0
    more = [solve(f"t{i}") for i in range(4, 8)]
    requests = build_requests(simulated_spec(), "solve", more)
    estimate = sum((math.ceil(sum(len(m["content"]) for m in r.message_dicts()) / 4) + 2 * 300) / 1e6 for r in requests)
    limit = SpendingLimit(billed + estimate - 1e-6, prices, 4)
    run = Runtime(cache=str(cache), manifest=str(manifest), spending=limit)
    with pytest.raises(SpendingLimitError) as refused:
        ask(simulated_spec(), "solve", first + more, run=run)  # the cached four are not counted again
    message = str(refused.value)
    assert f"sending 4 requests is estimated at up to ${estimate:,.4f}" in message
    assert f"has already billed ${billed:,.4f}" in message and f"the limit of ${limit.limit_usd:,.4f}" in message
    with ResponseCache(cache) as c:
        assert c.count() == 4  # nothing was sent
    assert manifest.read_text() == ""  # nor listed
    ask(simulated_spec(), "solve", first + more, run=Runtime(cache=str(cache), spending=SpendingLimit(1.0, prices, 4)))
    with ResponseCache(cache) as c:
        assert c.count() == 8
    # A replay sends nothing: no limit to check.
    ask(simulated_spec(), "solve", first + more, run=Runtime(cache=str(cache), replay=True, spending=limit))


def test_the_plan_time_estimate_reads_the_problem_lengths_of_local_sources(tmp_path):
    import yaml

    from guiding.config import estimated_calls, load_config

    root = Path(__file__).resolve().parents[1]
    rows = [{"problem": "p" * n, "solution": "s"} for n in (50_000, 3000, 2000, 100)]
    path = tmp_path / "pool.jsonl"
    path.write_text("".join(__import__("json").dumps(r) + "\n" for r in rows))
    config = yaml.safe_load((root / "tests" / "config" / "small.yaml").read_text())
    config["backends"] = {"task_source": "hub"}
    config["hub_tasks"] = {"sources": [{"source": str(path), "limit": 2}], "prefilter": {}}  # max_problem_chars 10,000
    config["evaluation"] = {"benchmarks": {"b": {"source": str(path), "label": "B", "columns": {"answer": "solution"}}}}
    config["training"]["stage1_data"] = {"sources": [{"source": str(path)}]}
    overlay = tmp_path / "hub.yaml"
    overlay.write_text(yaml.safe_dump(config))
    loaded = load_config(overlay, root, check=False)
    decomposer = next(c for c in estimated_calls(loaded) if c.role == "decomposer")
    # The two longest problems within the length pre-filter: 3000 and 2000 characters, not 1000 each.
    assumed = dict(loaded["cost"]["estimate"])
    from guiding.llm.cost import template_chars

    chars = 2 * template_chars("decomposer", assumed["template_chars"]) + 3000 + 2000 + 2 * assumed["solution_chars"]
    assert decomposer.requests == 2
    assert abs(decomposer.prompt_tokens - chars / assumed["chars_per_token"]) <= 2
