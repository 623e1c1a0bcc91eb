"""What is asked of a model and what comes back, and the cache key that names a request.

A request carries everything that decides its answer: the endpoint it goes to, the model, the
full message list, every sampling parameter that is sent, the sample index and the version of
the prompt template that wrote the messages. Its ``key`` hashes exactly those, so a cached answer
is reused only for the very same question, and three samples at temperature 1 stay three rows.
Secrets, timeouts and retry settings live in the backend, never in a request: they cannot reach
the key or the cache.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from functools import cached_property

# Part of every key: bump it when the key's JSON layout changes, so old rows are never misread.
KEY_VERSION = 1
ROLES = ("system", "user", "assistant")
SEED_BITS = 31  # non-negative and within int32: vLLM, transformers and OpenAI all accept it


def derive_seed(base_seed: int, item_id: str, sample: int) -> int:
    """The seed of sample ``sample`` of item ``item_id``: the first 31 bits of
    sha256("{base_seed}\\x1f{item_id}\\x1f{sample}"), big-endian.

    A hash rather than ``base_seed + sample``: neighbouring items and samples get unrelated seeds,
    and a request's seed does not move when other items are added or reordered.
    """
    digest = hashlib.sha256(f"{base_seed}\x1f{item_id}\x1f{sample}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> (64 - SEED_BITS)


@dataclass(frozen=True)
class Sampling:
    """Every sampling parameter that is sent with a request (all of them enter the key).

    Servers fill an omitted parameter from the model's generation config, so the defaults here
    are sent explicitly. ``None`` means "not sent" and is only allowed for parameters that some
    endpoints refuse (OpenAI's own API has no ``top_k``, ``min_p`` or ``repetition_penalty``).
    """

    temperature: float = 1.0
    """Softmax temperature; 0 is greedy."""
    top_p: float = 1.0
    """Nucleus sampling mass."""
    max_tokens: int = 1024
    """Most completion tokens; a longer answer is cut and kept with finish_reason "length"."""
    stop: tuple[str, ...] = ()
    """Strings that end the completion (not included in the text)."""
    seed: int | None = None
    """Per-request seed (see ``derive_seed``); ``None`` sends none."""
    top_k: int | None = None
    """Top-k cut (vLLM, transformers); sent as an extra body field, ``None`` sends none."""
    min_p: float | None = None
    """Min-p cut (vLLM, transformers); ``None`` sends none."""
    repetition_penalty: float | None = None
    """Repetition penalty (vLLM, transformers); ``None`` sends none. Send 1.0 to a vLLM server
    whose model config sets another value you do not want."""
    n: int = 1
    """Choices per request: always 1, samples are separate requests with their own index and seed."""

    def __post_init__(self):
        # One spelling per value, so that temperature=1 and temperature=1.0 give one key.
        for name, kind in (("temperature", float), ("top_p", float), ("max_tokens", int), ("n", int)):
            object.__setattr__(self, name, kind(getattr(self, name)))
        for name, kind in (("seed", int), ("top_k", int), ("min_p", float), ("repetition_penalty", float)):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, kind(getattr(self, name)))
        object.__setattr__(self, "stop", tuple(str(s) for s in self.stop))
        if self.n != 1:
            raise ValueError("Sampling.n must be 1: ask for k samples as k requests with sample indices 0..k-1")
        if self.temperature < 0 or not 0 < self.top_p <= 1 or self.max_tokens < 1:
            raise ValueError(f"invalid sampling parameters: {self}")

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)} | {"stop": list(self.stop)}


@dataclass(frozen=True)
class ChatRequest:
    """One chat completion to obtain: one sample of one item.

    ``messages`` is a tuple of (role, content) pairs; ``build`` accepts OpenAI-style dicts.
    ``item_id`` names the request in logs, errors and failure lists; it is not part of the key
    (the seed, derived from it, is), so two items with the same prompt and no seed share a row.
    """

    endpoint: str
    """Identity of the endpoint that answers (a backend's ``identity``: base URL or a configured
    name for HTTP, model path for local backends)."""
    model: str
    """Model name as sent to the endpoint."""
    messages: tuple[tuple[str, str], ...]
    """The full conversation, (role, content) pairs."""
    sampling: Sampling = field(default_factory=Sampling)
    """Every sampling parameter sent."""
    sample: int = 0
    """Sample index among the samples of one item (0..k-1)."""
    template: str = ""
    """Name and version of the prompt template that wrote ``messages`` (e.g. "solve/v1")."""
    item_id: str = ""
    """What the request is about, for names in logs and errors (not hashed)."""
    response_format: dict | None = field(default=None, hash=False)
    """The shape the answer must have, as sent in OpenAI's ``response_format`` field (a JSON
    schema, see ``guiding.llm.schemas``); None sends none. Keyed only when set, so the keys of
    free-text requests are those they always had."""

    def __post_init__(self):
        messages = tuple((str(role), str(content)) for role, content in self.messages)
        for role, _ in messages:
            if role not in ROLES:
                raise ValueError(f"request {self.item_id!r}: unknown message role {role!r} (known: {ROLES})")
        if not messages:
            raise ValueError(f"request {self.item_id!r}: no messages")
        object.__setattr__(self, "messages", messages)

    @classmethod
    def build(
        cls,
        *,
        endpoint: str,
        model: str,
        messages: Iterable[Mapping[str, str]],
        sampling: Sampling | None = None,
        sample: int = 0,
        template: str = "",
        item_id: str = "",
        response_format: dict | None = None,
    ) -> ChatRequest:
        """A request from OpenAI-style ``[{"role": ..., "content": ...}]`` messages."""
        pairs = tuple((m["role"], m["content"]) for m in messages)
        return cls(endpoint, model, pairs, sampling or Sampling(), sample, template, item_id, response_format)

    def message_dicts(self) -> list[dict[str, str]]:
        return [{"role": role, "content": content} for role, content in self.messages]

    def keyed_fields(self) -> dict:
        """Exactly what the key hashes (``response_format`` only when one is sent)."""
        keyed = {
            "key_version": KEY_VERSION,
            "endpoint": self.endpoint,
            "model": self.model,
            "messages": self.message_dicts(),
            "sampling": self.sampling.as_dict(),
            "sample": self.sample,
            "template": self.template,
        }
        if self.response_format is not None:
            keyed["response_format"] = self.response_format
        return keyed

    @cached_property
    def canonical(self) -> str:
        """The keyed fields as JSON with sorted keys, no whitespace and UTF-8 kept: the same request
        always gives the same bytes. Stored with the answer, so a row says what it answers."""
        return json.dumps(self.keyed_fields(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    @cached_property
    def key(self) -> str:
        return hashlib.sha256(self.canonical.encode("utf-8")).hexdigest()

    def describe(self) -> str:
        """A short name for logs and errors: item, sample, template, model, endpoint and key prefix."""
        return (
            f"item {self.item_id!r} sample {self.sample} ({self.template or 'no template'}, "
            f"model {self.model!r} at {self.endpoint!r}, key {self.key[:12]})"
        )


@dataclass(frozen=True)
class Completion:
    """What a backend returns for one request."""

    text: str
    finish_reason: str
    """"stop", "length" (cut at max_tokens: kept, and marked by this), or the endpoint's own reason."""
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_s: float | None = None
    """Wall time of the successful attempt."""
    reasoning: str | None = None
    """Reasoning the server returned apart from the answer (``reasoning_content`` or ``reasoning``,
    as vLLM's reasoning parsers and DeepSeek's API return it); None when it returned none. Kept in
    the cache, never read by a parser."""


@dataclass(frozen=True)
class Response:
    """A completion as stored in the cache, under its request's key."""

    key: str
    text: str
    finish_reason: str
    prompt_tokens: int | None
    completion_tokens: int | None
    latency_s: float | None
    created: float
    """Unix time at which the response was committed."""
    reasoning: str | None = None
    """Reasoning returned apart from the answer (see ``Completion.reasoning``); never parsed."""

    @property
    def truncated(self) -> bool:
        return self.finish_reason == "length"


@dataclass(frozen=True)
class Failure:
    """A request that got no response after its attempts; it never becomes an empty sample."""

    key: str
    item_id: str
    sample: int
    reason: str
    attempts: int
