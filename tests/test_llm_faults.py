"""Faults of the LLM path name their cause (issue 24): a refused connection, the cost of lost rows,
the spending limit at run time."""

import socket

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
        timeout=60,
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
