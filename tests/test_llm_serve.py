"""The client against guiding serve over HTTP: retry classification, faults, kills, two jobs, replay, secrets.

Every count is taken at the server (``/stats`` and its request log), not from the client's word.
"""

import json
import logging
import os
import signal
import subprocess
import sys
import time
import traceback
import uuid
from collections import defaultdict
from pathlib import Path

import openai
import pytest
from conftest import wait_until_committed
from llm_job import ENDPOINT, job_requests

from guiding.llm import CacheMiss, ClientSettings, GenerationError, ResponseCache, generate
from guiding.llm.backends.echo import echo_text
from guiding.llm.backends.openai_api import OpenAIBackend
from guiding.llm.serve import ServeProcess

JOB = Path(__file__).resolve().parent / "llm_job.py"
TRANSIENT = {"408", "409", "429", "500", "502", "503"}
PERMANENT = {"400", "401", "403", "404", "422"}


@pytest.fixture
def serve(tmp_path):
    started = []

    def start(*args, env=None):
        server = ServeProcess(*args, output=tmp_path / f"serve-{len(started)}.out", env=env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def backend_for(server, **kw):
    return OpenAIBackend(server.base_url, **{"api_key_env": None, "endpoint": ENDPOINT, "timeout_s": 10, **kw})


# The official openai client, and the same requests sent with aiohttp alone: both must classify,
# retry and redact alike.
CLIENTS = pytest.mark.parametrize("client", ["openai", "aiohttp"])


def server_log(path) -> dict[str, list[dict]]:
    events = defaultdict(list)
    for line in Path(path).read_text().splitlines():
        event = json.loads(line)
        events[event["key"]].append(event)
    return events


def job(server, cache, start, stop, out, *extra):
    return [sys.executable, str(JOB), server.base_url, str(cache), str(start), str(stop), str(out), *extra]


@CLIENTS
def test_serve_answers_like_an_openai_endpoint(serve, tmp_path, client):
    server = serve("--model", "echo")
    official = openai.OpenAI(base_url=server.base_url, api_key="unused", max_retries=0)
    assert [m.id for m in official.models.list()] == ["echo"]
    reqs = job_requests(0, 5)
    with ResponseCache(tmp_path / "c.db") as cache:
        result = generate(reqs, backend_for(server, client=client), cache)
    assert [r.text for r in result.responses] == [echo_text(r)[0] for r in reqs]
    assert result.responses[0].prompt_tokens == 2 and result.responses[0].finish_reason == "stop"
    assert server.stats()["by_key"] == {r.key: 1 for r in reqs}


@CLIENTS
def test_transient_statuses_are_retried_and_others_never(serve, tmp_path, client):
    log = tmp_path / "requests.jsonl"
    kinds = ",".join(sorted(TRANSIENT | PERMANENT))
    server = serve("--fault-rate", "1", "--faults", kinds, "--retry-after", "0.01", "--log", str(log), "--seed", "1")
    reqs = job_requests(0, 60)
    settings = ClientSettings(max_attempts=4, backoff_s=0.01, failure_budget=1.0)
    with ResponseCache(tmp_path / "c.db") as cache:
        result = generate(reqs, backend_for(server, client=client), cache, settings)
        recorded = {f.key: f.attempts for f in cache.failures()}
    assert len(result.failures) == 60 and all(r is None for r in result.responses)
    finals = set()
    for r in reqs:
        faults = [e["fault"] for e in server_log(log)[r.key] if e["event"] == "fault"]
        assert all(f in TRANSIENT for f in faults[:-1]), faults  # only transient statuses were retried
        assert faults[-1] in PERMANENT or len(faults) == 4, faults  # a permanent one ended it at once
        assert recorded[r.key] == len(faults)
        finals.add(faults[-1])
    assert PERMANENT <= finals  # each of 400, 401, 403, 404, 422 was met and not retried


def test_429_retry_after_is_honoured(serve, tmp_path):
    log = tmp_path / "requests.jsonl"
    server = serve("--fault-rate", "1", "--faults", "429", "--retry-after", "0.4", "--log", str(log))
    reqs = job_requests(0, 3)
    with ResponseCache(tmp_path / "c.db") as cache:
        with pytest.raises(GenerationError, match="HTTP 429"):
            generate(reqs, backend_for(server), cache, ClientSettings(max_attempts=3, backoff_s=0.01))
    for r in reqs:
        times = [e["time"] for e in server_log(log)[r.key] if e["event"] == "received"]
        assert len(times) == 3
        assert min(b - a for a, b in zip(times, times[1:])) >= 0.4


@CLIENTS
def test_with_20_percent_faults_the_run_completes_and_every_fault_is_retried(serve, tmp_path, caplog, client):
    server = serve("--fault-rate", "0.2", "--faults", "429,500,timeout,drop", "--retry-after", "0.05", "--hang", "3")
    reqs = job_requests(0, 150)
    settings = ClientSettings(concurrency=16, max_attempts=8, backoff_s=0.02, max_backoff_s=0.2)
    with caplog.at_level(logging.WARNING, logger="guiding.llm"), ResponseCache(tmp_path / "c.db") as cache:
        result = generate(reqs, backend_for(server, timeout_s=1.0, client=client), cache, settings)
        stored = cache.count()
    stats = server.stats()
    faults = sum(stats["faults"].values())
    assert set(stats["faults"]) == {"429", "500", "timeout", "drop"} and faults >= 15
    assert result.failures == [] and stored == 150
    assert [r.text for r in result.responses] == [echo_text(r)[0] for r in reqs]  # 0 empty samples
    assert all(r.text for r in result.responses)
    attempts_failed = [m for m in caplog.messages if "failed" in m]
    assert len(attempts_failed) == faults == result.stats["retried"]  # each fault seen, logged and retried
    assert stats["received"] == 150 + faults


def test_a_killed_job_resends_at_most_what_was_in_flight_and_nothing_committed(serve, tmp_path):
    server = serve("--latency", "0.2")
    db, out = tmp_path / "responses.db", tmp_path / "out.json"
    command = job(server, db, 0, 120, out, "--concurrency", "8")
    child = subprocess.Popen(command)
    wait_until_committed(db, 40, child)
    child.send_signal(signal.SIGKILL)
    child.wait()
    time.sleep(0.3)  # let the server finish what it was answering
    before = server.stats()["by_key"]
    with ResponseCache(db) as cache:
        committed = cache.keys()
        in_flight = {key for key, _, _ in cache.leases()}
    assert 40 <= len(committed) < 120 and in_flight
    subprocess.run(command, check=True)
    after = server.stats()["by_key"]
    resent = {key for key in before if after[key] > before[key]}
    print(f"killed with {len(committed)} committed, {len(in_flight)} in flight; re-sent {len(resent)}")
    assert all(after[key] == 1 for key in committed)  # 0 of the committed ones re-sent
    assert resent <= in_flight and len(resent) <= 8  # re-sent <= in flight at the kill (leased, at most 8 sent)
    assert sum(after.values()) == 120 + len(resent)
    reqs = job_requests(0, 120)
    assert json.loads(out.read_text())["texts"] == [echo_text(r)[0] for r in reqs]


def test_two_jobs_asking_for_the_same_keys_at_once_pay_for_each_once(serve, tmp_path):
    server = serve("--latency", "0.1")
    db, go = tmp_path / "responses.db", tmp_path / "go"
    ResponseCache(db).close()
    jobs = [
        subprocess.Popen(
            job(
                server,
                db,
                0,
                stop,
                tmp_path / f"{name}.json",
                "--start-file",
                str(go),
                "--ready-file",
                str(tmp_path / name),
            )
        )
        for name, stop in (("a", 100), ("b", 140))
    ]
    deadline = time.monotonic() + 60
    while not ((tmp_path / "a").exists() and (tmp_path / "b").exists()):  # both wait at the start line
        assert time.monotonic() < deadline and all(j.poll() is None for j in jobs)
        time.sleep(0.02)
    go.touch()
    assert [j.wait(120) for j in jobs] == [0, 0]
    by_key = server.stats()["by_key"]
    assert by_key == {r.key: 1 for r in job_requests(0, 140)}
    a, b = (json.loads((tmp_path / f"{n}.json").read_text()) for n in "ab")
    assert a["texts"] == b["texts"][:100]
    assert a["stats"]["sent"] + b["stats"]["sent"] == 140
    assert a["stats"]["cached"] == b["stats"]["cached"] == 0  # both started before any answer was in
    assert a["stats"]["from_others"] + b["stats"]["from_others"] == 100  # each shared key, paid by one job


def test_replay_needs_no_server_and_no_key_and_names_a_miss(serve, tmp_path, monkeypatch):
    server = serve()
    reqs = job_requests(0, 30)
    with ResponseCache(tmp_path / "c.db") as cache:
        live = generate(reqs, backend_for(server), cache)
    url = server.base_url
    server.stop()
    monkeypatch.delenv("GUIDING_TEST_KEY", raising=False)
    backend = OpenAIBackend(url, api_key_env="GUIDING_TEST_KEY", endpoint=ENDPOINT)
    with ResponseCache(tmp_path / "c.db", must_exist=True) as cache:
        replayed = generate(reqs, backend, cache, ClientSettings(replay=True))
        assert replayed.responses == live.responses and not backend.started
        with pytest.raises(CacheMiss, match=r"item 'item-30' sample 0 \(job/v1"):
            generate(job_requests(0, 31), backend, cache, ClientSettings(replay=True))
    assert not backend.started


@CLIENTS
def test_the_api_key_never_reaches_the_cache_the_logs_or_the_errors(serve, tmp_path, monkeypatch, caplog, client):
    secret = f"sk-guiding-test-{uuid.uuid4().hex}"
    monkeypatch.setenv("GUIDING_TEST_KEY", secret)
    good = serve("--api-key-env", "GUIDING_TEST_KEY", env=os.environ.copy())
    wrong = serve("--api-key-env", "SERVER_KEY", env={**os.environ, "SERVER_KEY": "sk-the-server-wants-another"})
    db = tmp_path / "c.db"
    with caplog.at_level(logging.DEBUG), ResponseCache(db) as cache:
        generate(job_requests(0, 5), backend_for(good, api_key_env="GUIDING_TEST_KEY", client=client), cache)
        with pytest.raises(GenerationError) as refused:
            # The wrong server answers 401 with the presented key in its message.
            generate(job_requests(5, 8), backend_for(wrong, api_key_env="GUIDING_TEST_KEY", client=client), cache)
        failures = cache.failures()
    assert "HTTP 401" in str(refused.value) and "[key redacted]" in str(refused.value)
    assert len(failures) == 3 and all(f.attempts == 1 for f in failures)
    error_text = "".join(traceback.format_exception(refused.value))
    log_text = "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    assert "401" in log_text
    files = b"".join(p.read_bytes() for p in tmp_path.glob("c.db*"))
    assert files and secret.encode() not in files
    assert secret not in error_text and secret not in log_text
    assert all(secret not in f.reason for f in failures)
