"""A deterministic backend for tests and benchmarks: it answers with the last message, at once.

Its answer depends only on the request's messages, model and sampling, so an answer served from
the cache, from ``guiding serve`` or from this class directly can be compared word for word. A
word counts as a token; an answer longer than ``max_tokens`` is cut and marked "length".
"""

from __future__ import annotations

from collections.abc import Sequence

from ..requests import ChatRequest, Completion


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


class EchoBackend:
    """Echoes the last message; ``identity`` names it in keys."""

    batch_size = 1

    def __init__(self, identity: str = "echo", concurrency: int = 64):
        self.identity = identity
        self.concurrency = concurrency

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def complete(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        out = []
        for r in requests:
            text, finish = echo_text(r)
            prompt = sum(len(content.split()) for _, content in r.messages)
            out.append(Completion(text, finish, prompt, len(text.split()), 0.0))
        return out
