"""Backends: what answers chat requests. One small interface for HTTP endpoints and local engines.

A backend only answers; it never retries, caches or leases (the client does, in one place). It
reports a failed attempt as ``TransientError`` (worth another attempt, maybe after the server's
``retry-after``) or ``PermanentError`` (asking again cannot help). Anything else it raises is a
bug and stops the run.

Backends are named in config and created by ``create_backend``, which imports the implementation
only then: a run that needs no model (replay, the embedded default) never imports openai, torch
or vllm.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from ..requests import ChatRequest, Completion


class BackendError(RuntimeError):
    """A backend cannot be set up (missing package, missing key variable, bad settings)."""


class TransientError(Exception):
    """A failed attempt that another attempt may fix: rate limit, server error, timeout, dropped connection."""

    def __init__(self, reason: str, retry_after_s: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s


class PermanentError(Exception):
    """A failed attempt that another attempt would repeat: a rejected request, a missing model, no text."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@runtime_checkable
class Backend(Protocol):
    identity: str
    """The endpoint identity in request keys: the same model behind the same identity gives the
    same answers, so a cached answer may stand in for it."""
    batch_size: int
    """Requests per ``complete`` call: 1 for HTTP endpoints, a chunk for local engines."""
    concurrency: int
    """``complete`` calls in flight at once."""

    async def start(self) -> None:
        """Get ready to answer (build the client, read the key, load the model); called only when
        something must be sent, so replay never calls it. Idempotent."""
        ...

    async def complete(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        """One completion per request, in order; raises TransientError or PermanentError for the whole call."""
        ...

    async def close(self) -> None:
        """Drop what was built for this run (HTTP connections); a loaded model may stay loaded."""
        ...


# name -> "module:class"; config picks one by name, a "module:class" string works as well.
BACKENDS: dict[str, str] = {
    "openai": "guiding.llm.backends.openai_api:OpenAIBackend",
    "transformers": "guiding.llm.backends.transformers_local:TransformersBackend",
    "vllm": "guiding.llm.backends.vllm_offline:VLLMBackend",
    "echo": "guiding.llm.backends.echo:EchoBackend",
    # The synthetic world answering the study's prompts; named by string, so guiding.llm never imports it.
    "simulated": "guiding.simulated_chat:SimulatedChat",
}


def create_backend(name: str, **settings) -> Backend:
    """The backend ``name`` (a key of BACKENDS or "module:Class") built from its config ``settings``."""
    target = BACKENDS.get(name, name)
    if ":" not in target:
        raise ValueError(f"unknown LLM backend {name!r} (known: {sorted(BACKENDS)}, or 'module:Class')")
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls)(**settings)
