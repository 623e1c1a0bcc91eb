"""Any OpenAI-compatible HTTP endpoint, through the official ``openai`` client (async).

The client is built with ``max_retries=0``: retries live in one layer, ``guiding.llm.client``,
so a timeout is never retried twice over (the API takes no idempotency key: each retry may be
billed). This module only classifies a failed attempt: 408, 409, 429 and 5xx, timeouts and
dropped connections are transient (with the server's ``retry-after``); every other status
(400, 401, 403, 404, 422, ...) is permanent.

The API key is read from the environment variable whose name is configured, only in ``start``
(replay never calls it), and is scrubbed from every reason this module reports. Errors are
re-raised without their cause, so a server that echoes the key cannot leak it through a traceback.
"""

from __future__ import annotations

import email.utils
import os
import time
from collections.abc import Sequence

from ..requests import ChatRequest, Completion
from . import BackendError, PermanentError, TransientError

RETRIED_STATUSES = {408, 409, 429}  # and every 5xx
KEY_HEADER = "X-Guiding-Request-Key"  # the cache key, so a test server can count what it was asked
REASON_CHARS = 500


def retry_after_s(headers) -> float | None:
    """Seconds the server asks to wait: ``retry-after-ms``, else ``retry-after`` (seconds or an HTTP date)."""
    value = headers.get("retry-after-ms")
    if value is not None:
        try:
            return float(value) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def request_body(request: ChatRequest) -> dict:
    """The keyword arguments of ``chat.completions.create``: every sampling parameter that is set."""
    s = request.sampling
    body = {
        "model": request.model,
        "messages": request.message_dicts(),
        "temperature": s.temperature,
        "top_p": s.top_p,
        "max_tokens": s.max_tokens,
        "n": s.n,
    }
    if s.stop:
        body["stop"] = list(s.stop)
    if s.seed is not None:
        body["seed"] = s.seed
    extra = {"top_k": s.top_k, "min_p": s.min_p, "repetition_penalty": s.repetition_penalty}
    extra = {k: v for k, v in extra.items() if v is not None}
    if extra:
        body["extra_body"] = extra
    return body


class OpenAIBackend:
    """An OpenAI-compatible endpoint at ``base_url``.

    - ``api_key_env``: name of the environment variable holding the key; None for a local server
      that checks none (a placeholder is sent, since the client refuses to start without a key).
    - ``endpoint``: identity in request keys; default ``base_url``. Name it when the same model is
      served at changing addresses (a test server on a free port) or moves.
    - ``timeout_s``: limit of one attempt (connect 10 s at most).
    - ``concurrency``: requests in flight at once (also the size of the connection pool).
    """

    batch_size = 1

    def __init__(
        self,
        base_url: str,
        api_key_env: str | None = "OPENAI_API_KEY",
        endpoint: str | None = None,
        timeout_s: float = 600.0,
        concurrency: int = 32,
    ):
        self.base_url = base_url.rstrip("/")
        self.api_key_env = api_key_env
        self.identity = endpoint or self.base_url
        self.timeout_s = timeout_s
        self.concurrency = concurrency
        self._client = None
        self._secret: str | None = None

    @property
    def started(self) -> bool:
        return self._client is not None

    async def start(self) -> None:
        if self._client is not None:
            return
        import httpx2
        import openai

        if self.api_key_env:
            key = os.environ.get(self.api_key_env)
            if not key:
                raise BackendError(f"endpoint {self.identity!r}: environment variable {self.api_key_env} is not set")
            self._secret = key
        else:
            key = "no-key"
        limits = httpx2.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
        self._client = openai.AsyncOpenAI(
            base_url=self.base_url,
            api_key=key,
            max_retries=0,
            timeout=httpx2.Timeout(self.timeout_s, connect=min(10.0, self.timeout_s)),
            http_client=openai.DefaultAsyncHttpxClient(limits=limits),
        )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    def redact(self, text: str) -> str:
        """``text`` without the key, cut to a readable length."""
        if self._secret:
            text = text.replace(self._secret, "[key redacted]")
        return text if len(text) <= REASON_CHARS else text[:REASON_CHARS] + "..."

    async def complete(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        import openai

        (request,) = requests
        if self._client is None:
            raise BackendError("OpenAIBackend.complete before start")
        start = time.monotonic()
        try:
            answer = await self._client.chat.completions.create(
                **request_body(request), extra_headers={KEY_HEADER: request.key}
            )
        except openai.APITimeoutError:
            raise TransientError(f"timed out after {self.timeout_s:g} s") from None
        except openai.APIConnectionError as e:
            cause = f"{type(e.__cause__).__name__}: {e.__cause__}" if e.__cause__ else str(e)
            raise TransientError(self.redact(f"connection failed ({cause})")) from None
        except openai.APIStatusError as e:
            status = e.status_code
            reason = self.redact(f"HTTP {status}: {e.message}")
            if status in RETRIED_STATUSES or status >= 500:
                raise TransientError(reason, retry_after_s(e.response.headers)) from None
            raise PermanentError(reason) from None
        except openai.APIError as e:  # an answer that is not a chat completion
            raise PermanentError(self.redact(f"{type(e).__name__}: {e}")) from None
        latency = time.monotonic() - start
        if not answer.choices:
            raise PermanentError("the answer has no choices")
        choice = answer.choices[0]
        if choice.message.content is None:
            raise PermanentError(f"the answer has no text (finish_reason {choice.finish_reason!r})")
        usage = answer.usage
        return [
            Completion(
                text=choice.message.content,
                finish_reason=choice.finish_reason or "unknown",
                prompt_tokens=usage.prompt_tokens if usage else None,
                completion_tokens=usage.completion_tokens if usage else None,
                latency_s=latency,
            )
        ]
