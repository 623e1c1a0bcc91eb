"""A deterministic backend for tests and benchmarks: it answers with the last message, at once.

Its answer depends only on the request's messages, model and sampling, so an answer served from
the cache, from ``guiding serve`` or from this class directly can be compared word for word. A
word counts as a token; an answer longer than ``max_tokens`` is cut and marked "length".
"""

from __future__ import annotations

from ..requests import ChatRequest
from .in_process import InProcessBackend


def echo_text(request: ChatRequest) -> tuple[str, str]:
    """(text, finish_reason) of the echo answer to ``request``."""
    s = request.sampling
    words = f"Echo: {request.messages[-1][1]} (seed {s.seed}, temperature {s.temperature:g})".split()
    for stop in s.stop:
        joined = " ".join(words)
        if stop in joined:
            return joined[: joined.index(stop)], "stop"
    if len(words) > s.max_tokens:
        return " ".join(words[: s.max_tokens]), "length"
    return " ".join(words), "stop"


class EchoBackend(InProcessBackend):
    """Echoes the last message; ``identity`` names it in keys."""

    batch_size = 1

    def __init__(self, identity: str = "echo", concurrency: int = 64):
        self.identity = identity
        self.concurrency = concurrency

    def respond(self, request: ChatRequest) -> tuple[str, str]:
        return echo_text(request)
