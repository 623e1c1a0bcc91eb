"""The one way the study asks a model anything: ``generate(requests, backend, cache)``.

Cached answers are served from the cache; the rest are leased (so that another job asking for the
same key at once waits instead of paying again), sent with a concurrency limit, and committed one
by one as they arrive. Retries live here and only here (backends and the openai client do not
retry): a transient failure is retried with backoff, honouring the server's ``retry-after``;
every attempt is logged with its reason. A request that still fails is recorded in the cache's
failures table and never becomes an empty sample: the call raises, listing the failures, unless
a failure budget allows them, and then they are returned for the caller to write out.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from .backends import Backend, PermanentError, TransientError
from .cache import DONE, HELD, LEASED, ResponseCache, new_holder
from .requests import ChatRequest, Completion, Failure, Response

# Called with each batch of answers right after it is committed (e.g. to note them in a ledger).
OnCommit = Callable[[Sequence[tuple[ChatRequest, Completion]]], None]

log = logging.getLogger("guiding.llm")


@dataclass(frozen=True)
class ClientSettings:
    """How ``generate`` sends what the cache does not hold (none of it enters a request key)."""

    replay: bool = False
    """Serve from the cache only: never start the backend (no client, no key read, no model) and
    raise CacheMiss, naming a request, if any answer is missing."""
    concurrency: int | None = None
    """Backend calls in flight at once; None takes the backend's own."""
    max_attempts: int = 6
    """Attempts per request, the first included, before it is recorded as failed."""
    backoff_s: float = 1.0
    """Wait before the second attempt when the server names none; doubles each attempt, with
    jitter (a random 50-100% of it) so that many failed requests do not return in step."""
    max_backoff_s: float = 60.0
    """Longest wait between attempts that the client chooses itself."""
    max_retry_after_s: float = 300.0
    """Longest ``retry-after`` honoured; a server asking for more gets the request recorded as failed."""
    failure_budget: float = 0.0
    """Fraction of the call's distinct requests that may fail without raising; their failures are
    returned in ``Generation.failures``. 0 raises on the first failure (after in-flight requests end)."""
    lease_ttl_s: float = 60.0
    """Lease lifetime; renewed every quarter of it while the request is being worked on, so only a
    holder that stopped renewing (killed on another host) makes others wait this long."""
    poll_s: float = 0.2
    """How often to look for answers that another job is fetching."""

    def __post_init__(self):
        if self.max_attempts < 1 or not 0.0 <= self.failure_budget <= 1.0 or self.lease_ttl_s <= 0:
            raise ValueError(f"invalid client settings: {self}")

    def backoff(self, attempt: int) -> float:
        """The wait after failed attempt ``attempt`` (1-based) when the server named none."""
        return min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)


@dataclass
class Generation:
    """What ``generate`` got, in request order."""

    responses: list[Response | None]
    """One per request, in order; None only for a request listed in ``failures``."""
    failures: list[Failure] = field(default_factory=list)
    """Requests that failed after their attempts, within the failure budget."""
    stats: dict[str, int] = field(default_factory=dict)
    """requests, distinct, cached (found at the start), sent (answered by this call), from_others
    (answered by another job while this one waited), failed, attempts, retried."""

    def texts(self) -> list[str]:
        """The answers' texts; only for a generation without failures (a failure has no text)."""
        if self.failures:
            raise ValueError(f"{len(self.failures)} requests failed: they have no text; use .responses")
        return [r.text for r in self.responses]


class CacheMiss(LookupError):
    """Replay found a request without an answer in the cache."""

    def __init__(self, missing: list[ChatRequest], total: int, path):
        self.requests = missing
        super().__init__(
            f"replay: {len(missing)} of {total} requests have no answer in the cache at {path}; "
            f"first: {missing[0].describe()}"
        )


class GenerationError(RuntimeError):
    """More requests failed than the failure budget allows."""

    def __init__(self, failures: list[Failure], total: int, allowed: int):
        self.failures = failures
        shown = "\n".join(
            f"  item {f.item_id!r} sample {f.sample} (key {f.key[:12]}): {f.reason}" for f in failures[:20]
        )
        more = f"\n  ... and {len(failures) - 20} more" if len(failures) > 20 else ""
        super().__init__(
            f"{len(failures)} of {total} requests failed after retries (failure budget allows {allowed}); "
            f"they are in the cache's failures table:\n{shown}{more}"
        )


def generate(
    requests: Sequence[ChatRequest],
    backend: Backend,
    cache: ResponseCache,
    settings: ClientSettings | None = None,
    on_commit: OnCommit | None = None,
) -> Generation:
    """Answers to ``requests`` in order (see the module docstring); the synchronous form of ``agenerate``."""
    # Outside the handler: an exception raised inside asyncio.run would otherwise carry "no running
    # event loop" as its context, and a failure's cause is read from that chain.
    try:
        asyncio.get_running_loop()
        inside_a_loop = True
    except RuntimeError:
        inside_a_loop = False
    if inside_a_loop:
        raise RuntimeError("generate() was called inside a running event loop; await agenerate() there")
    return asyncio.run(agenerate(requests, backend, cache, settings, on_commit))


async def agenerate(
    requests: Sequence[ChatRequest],
    backend: Backend,
    cache: ResponseCache,
    settings: ClientSettings | None = None,
    on_commit: OnCommit | None = None,
) -> Generation:
    """See ``generate``; ``on_commit`` is called with each batch of answers once it is committed."""
    settings = settings or ClientSettings()
    requests = list(requests)
    unique = {r.key: r for r in requests}
    wrong = [r for r in unique.values() if r.endpoint != backend.identity]
    if wrong:
        raise ValueError(f"{wrong[0].describe()} is for endpoint {wrong[0].endpoint!r}, not {backend.identity!r}")
    found = cache.get_many(unique)
    missing = [k for k in unique if k not in found]
    stats = dict(requests=len(requests), distinct=len(unique), cached=len(found))
    stats.update(sent=0, from_others=0, failed=0, attempts=0, retried=0)
    allowed = math.floor(settings.failure_budget * len(unique) + 1e-9)
    failures: list[Failure] = []
    if missing:
        if settings.replay:
            raise CacheMiss([unique[k] for k in missing], len(unique), cache.path)
        run = _Run(backend, cache, settings, unique, stats, allowed, on_commit)
        failures = await run.fill(missing)
        found = cache.get_many(unique)
    if len(failures) > allowed:
        raise GenerationError(failures, len(unique), allowed)
    failed = {f.key for f in failures}
    unanswered = [r for r in unique.values() if r.key not in found and r.key not in failed]
    if unanswered:  # cannot happen unless the cache lost rows; never hand out a hole as an answer
        raise RuntimeError(f"{len(unanswered)} requests have no answer and no failure: {unanswered[0].describe()}")
    log.info(
        "generate: %d requests (%d distinct): %d cached, %d sent, %d answered by other jobs, %d failed",
        stats["requests"],
        stats["distinct"],
        stats["cached"],
        stats["sent"],
        stats["from_others"],
        stats["failed"],
    )
    return Generation([found.get(r.key) for r in requests], failures, stats)


def _name(batch: Sequence[ChatRequest]) -> str:
    return batch[0].describe() if len(batch) == 1 else f"chunk of {len(batch)} from {batch[0].describe()}"


class _Run:
    """One call's worth of sending: leases, concurrency, retries, commits."""

    def __init__(self, backend, cache, settings, unique, stats, allowed, on_commit=None):
        self.backend: Backend = backend
        self.cache: ResponseCache = cache
        self.settings: ClientSettings = settings
        self.unique: dict[str, ChatRequest] = unique
        self.stats = stats
        self.allowed = allowed
        self.failures: list[Failure] = []
        self.holder = new_holder()
        self.started = False
        self.on_commit: OnCommit | None = on_commit

    @property
    def over_budget(self) -> bool:
        return len(self.failures) > self.allowed

    async def fill(self, missing: list[str]) -> list[Failure]:
        settings, backend = self.settings, self.backend
        concurrency = settings.concurrency or backend.concurrency
        pending, waiting, ready = deque(missing), set(), deque()
        # Keys are leased a few slots ahead, in one transaction for many, and sent from ``ready``.
        lease_ahead = max(backend.batch_size, math.ceil(concurrency / 4))
        tasks: set[asyncio.Task] = set()
        finished: asyncio.Queue[asyncio.Task] = asyncio.Queue()  # O(1) per completion, unlike asyncio.wait
        heartbeat = asyncio.create_task(self._heartbeat())
        last_poll = 0.0
        try:
            while True:
                while (ready or pending) and len(tasks) < concurrency and not self.over_budget:
                    if not ready:
                        keys = [pending.popleft() for _ in range(min(lease_ahead, len(pending)))]
                        status = self.cache.lease(keys, self.holder, settings.lease_ttl_s)
                        ready.extend(k for k in keys if status[k] == LEASED)
                        waiting.update(k for k in keys if status[k] == HELD)
                        self.stats["from_others"] += sum(status[k] == DONE for k in keys)
                        continue
                    batch = [ready.popleft() for _ in range(min(backend.batch_size, len(ready)))]
                    if not self.started:
                        await backend.start()
                        self.started = True
                    task = asyncio.create_task(self._send([self.unique[k] for k in batch]))
                    task.add_done_callback(finished.put_nowait)
                    tasks.add(task)
                if self.over_budget:
                    waiting.clear()
                    pending.clear()
                    ready.clear()  # their leases are released below
                if not tasks and not waiting:
                    break
                if tasks:
                    try:
                        done = [await asyncio.wait_for(finished.get(), settings.poll_s if waiting else None)]
                    except TimeoutError:
                        done = []
                    while not finished.empty():
                        done.append(finished.get_nowait())
                    for task in done:
                        tasks.discard(task)
                        task.result()  # a bug in a backend stops the run here
                else:
                    await asyncio.sleep(max(0.0, last_poll + settings.poll_s - time.monotonic()))
                if waiting and time.monotonic() - last_poll >= settings.poll_s:
                    last_poll = time.monotonic()
                    status = self.cache.status(sorted(waiting))
                    for key, state in status.items():
                        if state == DONE:
                            waiting.discard(key)
                            self.stats["from_others"] += 1
                        elif state != HELD:  # its holder finished without an answer, died or let it expire
                            waiting.discard(key)
                            pending.appendleft(key)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            heartbeat.cancel()
            await asyncio.gather(heartbeat, return_exceptions=True)
            self.cache.release(self.holder)
            if self.started:
                await backend.close()
        return self.failures

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.settings.lease_ttl_s / 4)
            self.cache.renew(self.holder, self.settings.lease_ttl_s)

    async def _send(self, batch: list[ChatRequest]) -> None:
        settings = self.settings
        for attempt in range(1, settings.max_attempts + 1):
            self.stats["attempts"] += 1
            start = time.monotonic()
            try:
                completions = await self.backend.complete(batch)
            except TransientError as e:
                reason = e.reason
                if attempt == settings.max_attempts:
                    log.warning("%s: attempt %d/%d failed (%s); giving up", _name(batch), attempt, attempt, reason)
                    break
                if e.retry_after_s is not None and e.retry_after_s > settings.max_retry_after_s:
                    reason = f"{reason}; server asked to wait {e.retry_after_s:g} s, over max_retry_after_s"
                    log.warning("%s: attempt %d failed (%s); giving up", _name(batch), attempt, reason)
                    break
                wait = settings.backoff(attempt) if e.retry_after_s is None else max(0.0, e.retry_after_s)
                log.warning(
                    "%s: attempt %d/%d failed (%s); retrying in %.2f s%s",
                    _name(batch),
                    attempt,
                    settings.max_attempts,
                    reason,
                    wait,
                    " (retry-after)" if e.retry_after_s is not None else "",
                )
                self.stats["retried"] += 1
                await asyncio.sleep(wait)
                continue
            except PermanentError as e:
                reason = e.reason
                log.warning("%s: attempt %d failed (%s); not retried", _name(batch), attempt, reason)
                break
            if len(completions) != len(batch):
                raise RuntimeError(f"backend {self.backend.identity!r}: {len(completions)} answers to {len(batch)}")
            if log.isEnabledFor(logging.DEBUG):
                log.debug("%s: attempt %d answered in %.2f s", _name(batch), attempt, time.monotonic() - start)
            answered = list(zip(batch, completions))
            self.cache.put_many(answered)
            if self.on_commit is not None:
                self.on_commit(answered)
            self.stats["sent"] += len(batch)
            return
        reason = f"{reason} after {attempt} attempt{'s' if attempt > 1 else ''}"
        self.cache.record_failures([(r, reason, attempt) for r in batch], self.holder)
        self.failures += [Failure(r.key, r.item_id, r.sample, reason, attempt) for r in batch]
        self.stats["failed"] += len(batch)
