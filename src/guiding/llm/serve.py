"""``guiding serve``: a small OpenAI-compatible HTTP server on 127.0.0.1 in front of any backend.

It answers ``POST /v1/chat/completions`` and ``GET /v1/models`` like an OpenAI-compatible
endpoint, so the very client that talks to a paper-mode endpoint can be tested and timed against
it: optional fixed latency, faults injected at a given rate (429 with retry-after, 5xx, 4xx, a
request left hanging past the client's timeout, a connection dropped without an answer), and a
count of what it was asked (``GET /stats``, and one JSON line per request with ``--log``).

    guiding serve --backend echo --port 8000 --latency 0.2 --fault-rate 0.2
    guiding serve --backend simulated --option "teachers={main: {step_error: 0.15, error_style: slip}}"
    python -m guiding.llm.serve ...     # the same

A request with ``response_format`` of type ``json_schema`` (OpenAI's structured outputs) hands the
schema to the backend with the request; the simulated world then answers as that JSON. Reasoning
that a backend returns apart from its answer goes out as ``message.reasoning_content``.

aiohttp: its HTTP parser is compiled, so the server costs little next to the client it is
measured against, and a handler can close its connection without answering (the dropped-connection fault).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import ipaddress
import json
import math
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

from .backends import Backend, PermanentError, TransientError, create_backend
from .requests import ChatRequest, Sampling
from .schemas import schema_in

FAULT_STATUSES = ("400", "401", "403", "404", "408", "409", "422", "429", "500", "502", "503")
FAULT_KINDS = (*FAULT_STATUSES, "timeout", "drop")
KEY_HEADER = "X-Guiding-Request-Key"


@dataclass(frozen=True)
class Faults:
    """Faults injected into chat requests (after the fixed latency), each drawn independently."""

    rate: float = 0.0
    """Fraction of chat requests that get a fault instead of an answer."""
    kinds: tuple[str, ...] = ("429", "500", "timeout", "drop")
    """Which faults, drawn uniformly: an HTTP status among FAULT_STATUSES (a 429 with retry-after),
    "timeout" (no answer for ``hang_s``, then 504) or "drop" (the connection closed unanswered)."""
    retry_after_s: float = 1.0
    """What a 429 asks the client to wait (sent as ``retry-after-ms`` and, rounded up, ``retry-after``)."""
    hang_s: float = 30.0
    """How long a "timeout" fault keeps the request unanswered; set it above the client's timeout."""
    seed: int = 0
    """Seed of the draws, so a run's faults can be repeated."""

    def __post_init__(self):
        unknown = set(self.kinds) - set(FAULT_KINDS)
        if unknown or not self.kinds or not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"faults: rate in [0, 1] and kinds among {FAULT_KINDS}, got {self.rate}, {self.kinds}")


def _error(status: int, message: str, kind: str, headers: dict | None = None):
    from aiohttp import web

    body = {"error": {"message": message, "type": kind, "param": None, "code": None}}
    return web.json_response(body, status=status, headers=headers)


def sampling_from_body(body: dict) -> Sampling:
    """The sampling parameters of an OpenAI-style request body (``max_completion_tokens`` too)."""
    stop = body.get("stop") or ()
    defaults = Sampling()
    return Sampling(
        temperature=float(body.get("temperature", defaults.temperature)),
        top_p=float(body.get("top_p", defaults.top_p)),
        max_tokens=int(body.get("max_tokens") or body.get("max_completion_tokens") or defaults.max_tokens),
        stop=(stop,) if isinstance(stop, str) else tuple(stop),
        seed=body.get("seed"),
        top_k=body.get("top_k"),
        min_p=body.get("min_p"),
        repetition_penalty=body.get("repetition_penalty"),
        n=int(body.get("n", 1)),
    )


def response_format_from_body(body: dict) -> dict | None:
    """The request's ``response_format`` when it asks for a JSON schema (handed to the backend,
    whose answer must then be that JSON); None for free text. Any other shape is refused."""
    value = body.get("response_format")
    if value is None or value == {"type": "text"}:
        return None
    if schema_in(value) is None:
        raise ValueError(
            f"response_format: only type json_schema (with json_schema.schema) or text is served, got {value!r}"
        )
    return value


class Server:
    """The HTTP application around ``backend``; ``stats()`` is what ``GET /stats`` returns.

    ``model``: the one model name served (others get 404); None accepts any name.
    ``api_key``: the key clients must send; a wrong one gets 401 with the presented key echoed in
    the message (worse than real servers, which mask it: a test of the client's scrubbing).
    """

    def __init__(
        self,
        backend: Backend,
        *,
        model: str | None = None,
        latency_s: float = 0.0,
        faults: Faults | None = None,
        api_key: str | None = None,
        log_path: str | os.PathLike | None = None,
    ):
        self.backend, self.model, self.latency_s = backend, model, latency_s
        self.faults = faults or Faults()
        self.api_key = api_key
        self._rng = random.Random(self.faults.seed)
        self._log = open(log_path, "a", buffering=1, encoding="utf-8") if log_path else None
        self._lock = asyncio.Lock() if backend.concurrency == 1 else None
        self._start_lock = asyncio.Lock()  # the first requests arrive together; the backend starts once
        self._started = False
        self.received = 0
        self.answered = 0
        self.in_flight = 0
        self.fault_counts: Counter[str] = Counter()
        self.by_key: Counter[str] = Counter()
        # The sha256 of each Authorization header received (a test can check that a key arrived
        # without the server keeping the key itself).
        self.authorizations: Counter[str] = Counter()

    def stats(self) -> dict:
        return {
            "received": self.received,
            "answered": self.answered,
            "in_flight": self.in_flight,
            "faults": dict(self.fault_counts),
            "by_key": dict(self.by_key),
            "authorization_sha256": dict(self.authorizations),
        }

    def app(self):
        from aiohttp import web

        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.chat)
        app.router.add_get("/v1/models", self.models)
        app.router.add_get("/stats", self.get_stats)
        app.router.add_get("/health", self.health)
        app.on_cleanup.append(self._cleanup)
        return app

    async def _cleanup(self, _app) -> None:
        if self._started:
            await self.backend.close()
        if self._log:
            self._log.close()

    def _write(self, event: str, key: str, **fields) -> None:
        if self._log:
            self._log.write(json.dumps({"time": time.time(), "event": event, "key": key, **fields}) + "\n")

    async def health(self, request):
        from aiohttp import web

        return web.json_response({"ok": True})

    async def get_stats(self, request):
        from aiohttp import web

        return web.json_response(self.stats())

    async def models(self, request):
        from aiohttp import web

        entry = {"id": self.model or self.backend.identity, "object": "model", "created": 0, "owned_by": "guiding"}
        return web.json_response({"object": "list", "data": [entry]})

    async def chat(self, request):
        from aiohttp import web

        raw = await request.read()
        key = request.headers.get(KEY_HEADER) or hashlib.sha256(raw).hexdigest()
        self.received += 1
        self.by_key[key] += 1
        self.authorizations[hashlib.sha256(request.headers.get("Authorization", "").encode()).hexdigest()] += 1
        self.in_flight += 1
        self._write("received", key)
        try:
            if self.api_key is not None:
                presented = request.headers.get("Authorization", "").removeprefix("Bearer ")
                if presented != self.api_key:
                    self._write("refused", key, status=401)
                    return _error(401, f"Incorrect API key provided: {presented}", "invalid_request_error")
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
            if self.faults.rate and self._rng.random() < self.faults.rate:
                kind = self._rng.choice(self.faults.kinds)
                self.fault_counts[kind] += 1
                self._write("fault", key, fault=kind)
                return await self._fault(kind, request)
            try:
                body = json.loads(raw)
                if self.model is not None and body.get("model") != self.model:
                    return _error(404, f"The model {body.get('model')!r} does not exist", "not_found_error")
                chat = ChatRequest(
                    endpoint=self.backend.identity,
                    model=body["model"],
                    messages=tuple((m["role"], m["content"]) for m in body["messages"]),
                    sampling=sampling_from_body(body),
                    response_format=response_format_from_body(body),
                )
            except (ValueError, KeyError, TypeError) as e:
                return _error(400, f"invalid request: {e}", "invalid_request_error")
            try:
                async with self._start_lock:
                    if not self._started:
                        await self.backend.start()
                        self._started = True
                if self._lock is not None:
                    async with self._lock:
                        (completion,) = await self.backend.complete([chat])
                else:
                    (completion,) = await self.backend.complete([chat])
            except TransientError as e:
                return _error(503, e.reason, "server_error")
            except PermanentError as e:
                return _error(400, e.reason, "invalid_request_error")
            self.answered += 1
            self._write("answered", key)
            usage = {
                "prompt_tokens": completion.prompt_tokens or 0,
                "completion_tokens": completion.completion_tokens or 0,
                "total_tokens": (completion.prompt_tokens or 0) + (completion.completion_tokens or 0),
            }
            message = {"role": "assistant", "content": completion.text}
            if completion.reasoning is not None:  # as vLLM's reasoning parsers return it
                message["reasoning_content"] = completion.reasoning
            return web.json_response(
                {
                    "id": f"chatcmpl-{uuid.uuid4().hex}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": chat.model,
                    "choices": [
                        {
                            "index": 0,
                            "message": message,
                            "finish_reason": completion.finish_reason,
                            "logprobs": None,
                        }
                    ],
                    "usage": usage,
                }
            )
        finally:
            self.in_flight -= 1

    async def _fault(self, kind: str, request):
        f = self.faults
        if kind == "429":
            seconds = str(max(1, math.ceil(f.retry_after_s)))
            headers = {"retry-after-ms": str(round(f.retry_after_s * 1000)), "retry-after": seconds}
            return _error(429, "Rate limit reached (injected)", "rate_limit_error", headers)
        if kind in FAULT_STATUSES:
            return _error(
                int(kind), f"HTTP {kind} (injected)", "server_error" if kind >= "500" else "invalid_request_error"
            )
        if kind == "timeout":
            await asyncio.sleep(f.hang_s)
            return _error(504, "Answered too late (injected)", "server_error")
        # "drop": close the connection without a byte of answer.
        from aiohttp import web

        request.transport.close()
        return web.Response(status=500)  # never sent: the connection is gone


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", default="echo", help="echo, simulated, transformers, vllm, openai or module:Class")
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a backend setting (value read as YAML), repeatable",
    )
    parser.add_argument("--model", default=None, help="the model name served (default: any name)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (loopback unless --allow-remote)")
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host other than loopback: this is a test server with fault injection, not for a network",
    )
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port (see --port-file)")
    parser.add_argument("--port-file", default=None, help="write the port here once listening")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every chat request")
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--faults", default=",".join(Faults.kinds), help=f"comma-separated, among {FAULT_KINDS}")
    parser.add_argument("--retry-after", type=float, default=Faults.retry_after_s, help="seconds a 429 asks for")
    parser.add_argument("--hang", type=float, default=Faults.hang_s, help="seconds a timeout fault stays unanswered")
    parser.add_argument("--seed", type=int, default=0, help="seed of the fault draws")
    parser.add_argument("--api-key-env", default=None, help="require the key in this environment variable")
    parser.add_argument("--log", default=None, help="append one JSON line per request event to this file")


def check_host(host: str, allow_remote: bool) -> None:
    """Refuse to listen beyond this machine unless asked to with ``--allow-remote``."""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback and not allow_remote:
        raise SystemExit(
            f"guiding serve: --host {host} would listen beyond this machine; it is a test server with "
            "fault injection. Pass --allow-remote to do so anyway."
        )


def build_server(args: argparse.Namespace) -> Server:
    check_host(args.host, getattr(args, "allow_remote", False))
    options = {}
    for item in args.option:
        name, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--option {item!r}: expected KEY=VALUE")
        options[name] = yaml.safe_load(value)
    api_key = None
    if args.api_key_env:
        api_key = os.environ.get(args.api_key_env)
        if not api_key:
            raise SystemExit(f"--api-key-env: environment variable {args.api_key_env} is not set")
    faults = Faults(
        rate=args.fault_rate,
        kinds=tuple(k for k in args.faults.split(",") if k),
        retry_after_s=args.retry_after,
        hang_s=args.hang,
        seed=args.seed,
    )
    backend = create_backend(args.backend, **options)
    return Server(backend, model=args.model, latency_s=args.latency, faults=faults, api_key=api_key, log_path=args.log)


async def _serve(args: argparse.Namespace) -> None:
    from aiohttp import web

    server = build_server(args)
    runner = web.AppRunner(server.app(), access_log=None, handle_signals=False)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    site = web.SockSite(runner, sock, backlog=1024)
    await site.start()
    port = sock.getsockname()[1]
    if args.port_file:
        tmp = Path(args.port_file).with_suffix(".tmp")
        tmp.write_text(str(port))
        tmp.replace(args.port_file)
    print(f"guiding serve: {args.backend} on http://{args.host}:{port}/v1", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def run(args: argparse.Namespace) -> None:
    asyncio.run(_serve(args))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="guiding serve", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    run(parser.parse_args(argv))


class ServeProcess:
    """``guiding serve`` in a child process, for tests and benchmarks: ``with ServeProcess(...) as s: s.base_url``.

    ``args`` are the command-line arguments (``--port-file`` is added); the child's output goes to
    ``output`` (a path) or is discarded.
    """

    def __init__(self, *args: str, output: str | os.PathLike | None = None, env: dict | None = None, start_s=30.0):
        self._dir = tempfile.TemporaryDirectory()
        port_file = Path(self._dir.name) / "port"
        self._out = open(output, "ab") if output else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "guiding.llm.serve", *args, "--port", "0", "--port-file", str(port_file)],
            stdout=self._out,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.monotonic() + start_s
        while not port_file.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"guiding serve did not start (exit code {self.proc.returncode})")
            time.sleep(0.05)
        self.port = int(port_file.read_text())
        self.base_url = f"http://127.0.0.1:{self.port}/v1"

    def stats(self) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/stats", timeout=10) as answer:
            return json.load(answer)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._out is not subprocess.DEVNULL:
            self._out.close()
        self._dir.cleanup()

    def __enter__(self) -> ServeProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


if __name__ == "__main__":
    main()
