"""Any OpenAI-compatible HTTP endpoint, through the official ``openai`` client (async).

The client is built with ``max_retries=0``: retries live in one layer, ``guiding.llm.client``,
so a timeout is never retried twice over (the API takes no idempotency key: each retry may be
billed). This module only classifies a failed attempt: 408, 409, 429 and 5xx, timeouts and
dropped connections are transient (with the server's ``retry-after``); every other status
(400, 401, 403, 404, 422, ...) is permanent.

The API key is read from the environment variable whose name is configured, only in ``start``
(replay never calls it), and is scrubbed from every reason this module reports. Errors are
re-raised without their cause, so a server that echoes the key cannot leak it through a traceback.

The request goes through the client's own ``post`` (its base URL, auth, headers, timeouts and
error classes) with a body that is already plain JSON, and the answer is read as JSON: the typed
``chat.completions.create`` path rebuilds and validates both through pydantic, which costs more
CPU per request than everything else in the client together, and that CPU is what caps the
requests per second of one process. The connections go through aiohttp by default (the openai
client's own ``DefaultAioHttpClient``), whose connection pool stays cheap at hundreds of
connections; ``http="httpx"`` keeps the client's default transport.

``client="aiohttp"`` sends the very same request (body, bearer key, key header) with aiohttp
alone and reads the same answer, classified by the same rules. The openai client's transport
layer (its request and response models over the HTTP library) costs about three times the CPU
per request of aiohttp alone, which caps one process's rate against a fast local server (vLLM
or ``guiding serve`` answering hundreds of requests a second); against a remote API, whose
latency is seconds, the official client's CPU is no limit and it stays the default.
"""

from __future__ import annotations

import asyncio
import email.utils
import errno
import json
import os
import time
import urllib.parse
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
    """The JSON body of the chat completion request: every sampling parameter that is set
    (top_k, min_p and repetition_penalty are extensions that vLLM and others read)."""
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
    body.update({k: v for k, v in extra.items() if v is not None})
    if request.response_format is not None:  # OpenAI's structured outputs; vLLM reads the same field
        body["response_format"] = request.response_format
    return body


def _root(error: BaseException) -> BaseException:
    """The innermost exception behind ``error`` (transports wrap each other's errors)."""
    seen = {id(error)}
    while (inner := error.__cause__ or error.__context__) is not None and id(inner) not in seen:
        seen.add(id(inner))
        error = inner
    return error


def _is_timeout(error: BaseException) -> bool:
    return isinstance(error, TimeoutError) or "timeout" in type(error).__name__.lower()


def address(base_url: str) -> str:
    """``host:port`` of a base URL (the scheme's port where none is written): where a failure happened."""
    url = urllib.parse.urlsplit(base_url)
    port = url.port or {"http": 80, "https": 443}.get(url.scheme, "")
    return f"{url.hostname}:{port}"


def connection_reason(error: BaseException, where: str) -> str:
    """What went wrong on the way to ``where``: the OS error behind the transport's wrappers."""
    seen, chain = set(), []
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        chain.append(error)
        error = error.__cause__ or error.__context__
    os_errors = [e for e in chain if isinstance(e, OSError) and e.errno]
    if any(isinstance(e, ConnectionRefusedError) or e.errno == errno.ECONNREFUSED for e in os_errors):
        return f"connection refused ({where})"
    if os_errors:
        return f"connection failed ({where}: {os_errors[-1].strerror or os_errors[-1]})"
    root = chain[-1]
    return f"connection failed ({where}: {type(root).__name__}: {root})"


def parse_answer(data) -> tuple[str, str, int | None, int | None]:
    """(text, finish_reason, prompt_tokens, completion_tokens) of a chat completion's JSON.

    Raises PermanentError for an answer without text (a refusal, a tool call) or of another shape.
    """
    try:
        choice = data["choices"][0]
        text, finish = choice["message"].get("content"), choice.get("finish_reason") or "unknown"
        usage = data.get("usage") or {}
        tokens = usage.get("prompt_tokens"), usage.get("completion_tokens")
    except (KeyError, IndexError, TypeError, AttributeError) as e:
        raise PermanentError(f"the answer is not a chat completion ({type(e).__name__}: {e})") from None
    if not isinstance(text, str):
        raise PermanentError(f"the answer has no text (finish_reason {finish!r})")
    return text, str(finish), *tokens


# Where servers put the reasoning they return apart from the answer: vLLM's reasoning parsers
# and DeepSeek's API write ``reasoning_content``, newer vLLM and OpenRouter ``reasoning``.
REASONING_FIELDS = ("reasoning_content", "reasoning")


def reasoning_of(data) -> str | None:
    """The reasoning of a chat completion's JSON returned apart from its answer, or None."""
    try:
        message = data["choices"][0]["message"]
    except (KeyError, IndexError, TypeError):
        return None
    for name in REASONING_FIELDS:
        value = message.get(name) if isinstance(message, dict) else None
        if isinstance(value, str) and value:
            return value
    return None


def completion_of(data, latency_s: float) -> Completion:
    """The Completion of a chat completion's JSON (see ``parse_answer``), its reasoning kept apart."""
    text, finish, prompt_tokens, completion_tokens = parse_answer(data)
    return Completion(text, finish, prompt_tokens, completion_tokens, latency_s, reasoning_of(data))


class OpenAIBackend:
    """An OpenAI-compatible endpoint at ``base_url``.

    - ``api_key_env``: name of the environment variable holding the key; None for a local server
      that checks none (a placeholder is sent, since the client refuses to start without a key).
    - ``endpoint``: identity in request keys; default ``base_url``. Name it when the same model is
      served at changing addresses (a test server on a free port) or moves.
    - ``timeout_s``: limit of one attempt (connect 10 s at most).
    - ``concurrency``: requests in flight at once (also the size of the connection pool).
    - ``http``: the openai client's transport, "aiohttp" or "httpx".
    - ``client``: "openai" (the official client) or "aiohttp" (the same request with aiohttp alone).
    """

    batch_size = 1

    def __init__(
        self,
        base_url: str,
        api_key_env: str | None = "OPENAI_API_KEY",
        endpoint: str | None = None,
        timeout_s: float = 600.0,
        concurrency: int = 32,
        http: str = "aiohttp",
        client: str = "openai",
    ):
        if http not in ("aiohttp", "httpx"):
            raise ValueError(f"OpenAIBackend.http must be 'aiohttp' or 'httpx', got {http!r}")
        if client not in ("openai", "aiohttp"):
            raise ValueError(f"OpenAIBackend.client must be 'openai' or 'aiohttp', got {client!r}")
        self.base_url = base_url.rstrip("/")
        self.api_key_env = api_key_env
        self.identity = endpoint or self.base_url
        self.address = address(self.base_url)
        self.timeout_s = timeout_s
        self.concurrency = concurrency
        self.http = http
        self.client = client
        self._client = None  # an openai.AsyncOpenAI, or an aiohttp.ClientSession with client="aiohttp"
        self._secret: str | None = None

    @property
    def started(self) -> bool:
        return self._client is not None

    async def start(self) -> None:
        if self._client is not None:
            return
        if self.api_key_env:
            key = os.environ.get(self.api_key_env)
            if not key:
                raise BackendError(f"endpoint {self.identity!r}: environment variable {self.api_key_env} is not set")
            self._secret = key
        else:
            key = "no-key"
        if self.client == "aiohttp":
            import aiohttp

            self._client = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.concurrency),
                headers={"Authorization": f"Bearer {key}"},
                timeout=aiohttp.ClientTimeout(total=None, connect=min(10.0, self.timeout_s)),
            )
            return
        import httpx2
        import openai

        limits = httpx2.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
        transport = openai.DefaultAioHttpClient if self.http == "aiohttp" else openai.DefaultAsyncHttpxClient
        self._client = openai.AsyncOpenAI(
            base_url=self.base_url,
            api_key=key,
            max_retries=0,
            timeout=httpx2.Timeout(self.timeout_s, connect=min(10.0, self.timeout_s)),
            http_client=transport(limits=limits),
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
        (request,) = requests
        if self._client is None:
            raise BackendError("OpenAIBackend.complete before start")
        if self.client == "aiohttp":
            return [await self._complete_with_aiohttp(request)]
        import httpx2
        import openai

        start = time.monotonic()
        try:
            async with asyncio.timeout(self.timeout_s):  # the whole attempt, whatever the transport counts
                answer = await self._client.post(
                    "/chat/completions",
                    body=request_body(request),
                    cast_to=httpx2.Response,
                    options={"headers": {KEY_HEADER: request.key}},
                )
                data = answer.json()
        except (TimeoutError, openai.APIConnectionError) as e:
            root = _root(e)
            if isinstance(e, TimeoutError) or _is_timeout(root):
                raise TransientError(f"timed out after {self.timeout_s:g} s ({self.address})") from None
            raise TransientError(self.redact(connection_reason(e, self.address))) from None
        except openai.APIStatusError as e:
            status = e.status_code
            reason = self.redact(f"HTTP {status} from {self.address}: {e.message}")
            if status in RETRIED_STATUSES or status >= 500:
                raise TransientError(reason, retry_after_s(e.response.headers)) from None
            raise PermanentError(reason) from None
        except (openai.APIError, ValueError) as e:  # not JSON, or not what the client expects
            raise PermanentError(
                self.redact(f"the answer is not a chat completion ({type(e).__name__}: {e})")
            ) from None
        return [completion_of(data, time.monotonic() - start)]

    async def _complete_with_aiohttp(self, request: ChatRequest) -> Completion:
        """``complete`` with aiohttp alone: the same request, statuses and errors as through the openai client."""
        import aiohttp

        start = time.monotonic()
        try:
            async with asyncio.timeout(self.timeout_s):
                async with self._client.post(
                    f"{self.base_url}/chat/completions", json=request_body(request), headers={KEY_HEADER: request.key}
                ) as answer:
                    status, body = answer.status, await answer.read()
                    retry_after = retry_after_s(answer.headers)
        except TimeoutError:
            raise TransientError(f"timed out after {self.timeout_s:g} s ({self.address})") from None
        except aiohttp.ClientError as e:  # refused, dropped, reset, a broken answer
            raise TransientError(self.redact(connection_reason(e, self.address))) from None
        if status >= 400:
            reason = self.redact(f"HTTP {status} from {self.address}: {_error_message(body)}")
            if status in RETRIED_STATUSES or status >= 500:
                raise TransientError(reason, retry_after)
            raise PermanentError(reason)
        try:
            data = json.loads(body)
        except ValueError as e:
            raise PermanentError(self.redact(f"the answer is not a chat completion (not JSON: {e})")) from None
        return completion_of(data, time.monotonic() - start)


def _error_message(body: bytes) -> str:
    """The message of an error answer: OpenAI's ``{"error": {"message": ...}}``, else the body's text."""
    try:
        error = json.loads(body).get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"]
    except (ValueError, AttributeError):
        pass
    return body.decode("utf-8", "replace")
