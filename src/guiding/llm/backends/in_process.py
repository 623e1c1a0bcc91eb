"""A backend that answers in this process, at once, one request at a time (echo, the simulated world).

A word counts as a token, for the usage the cache records.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..requests import ChatRequest, Completion


class InProcessBackend:
    """Subclasses give ``identity``, ``batch_size``, ``concurrency`` and ``respond``."""

    def respond(self, request: ChatRequest) -> tuple[str, str]:
        """(text, finish_reason) of the answer to ``request``."""
        raise NotImplementedError

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def complete(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        out = []
        for request in requests:
            text, finish = self.respond(request)
            prompt = sum(len(content.split()) for _, content in request.messages)
            out.append(Completion(text, finish, prompt, len(text.split()), 0.0))
        return out
