"""One role of the study asking its questions: templates in, parsed answers out, through the cache.

A role (decomposer, teacher, judge, ...) is configured by an endpoint and its sampling; the
stages' LLM implementations describe each question by its template fields, and ``ask`` turns them
into keyed requests, sends the ones the cache lacks in one concurrent batch, and parses every
answer. A request that failed within the failure budget, or an answer that could not be read,
comes back as a ``Parsed`` with a reason: the caller drops the item and counts the reason, so a
failure never becomes an empty sample.

How requests are sent (cache path, replay, client settings) is the job's ``Runtime``, set once per
job from config ``llm`` (``guiding.core.steps.run_step`` does it); none of it enters a key or a
rule's params, since none of it changes an answer.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .backends import create_backend
from .cache import DEFAULT_CACHE, DONE, ResponseCache
from .client import ClientSettings, generate
from .cost import Price, append_to_manifest, price_table
from .ledger import Ledger, LostAnswers, ledger_path, lost_answers
from .parsers import PARSERS, Parsed, failed
from .prompts import load
from .replies import answer_part
from .requests import ChatRequest, Sampling, derive_seed
from .schemas import response_format
from .spending import SpendingLimit
from .structured import parse_structured

log = logging.getLogger("guiding.llm")

HTTP_BACKENDS = ("openai",)
STRUCTURED_OUTPUTS = ("none", "json_schema")
# Local engines that would ignore a request's JSON schema (an in-process "module:Class" backend,
# like the simulated world, gets the request with its schema and may honour it).
NO_STRUCTURED_BACKENDS = ("vllm", "transformers", "echo")


@dataclass(frozen=True)
class Runtime:
    """How a job sends its requests (config ``llm`` minus the endpoints and roles)."""

    cache: str = DEFAULT_CACHE
    """The response cache (SQLite, WAL): outside the rules' outputs, on a local disk."""
    replay: bool = False
    """Serve every answer from the cache; never build a client or read a key; a miss fails the job."""
    failure_budget: float = 0.0
    """Share of a batch's requests that may fail after retries; those items are dropped and counted."""
    concurrency: int = 16
    """Requests in flight at once (HTTP endpoints)."""
    timeout_s: float = 120.0
    """Per-request timeout (HTTP endpoints)."""
    max_attempts: int = 6
    """Attempts per request, the first included."""
    backoff_s: float = 1.0
    """Wait before the second attempt when the server names none (doubles each attempt, with jitter)."""
    manifest: str | None = None
    """The job's request manifest: every ``ask`` appends its requests' keys (the cost table bills them)."""
    teacher: str = ""
    """The teacher the job's requests serve (its ``{teacher}`` wildcard), recorded in the manifest."""
    resend_lost: bool = False
    """Send again the requests that the job's answered ledger lists but the cache lacks (a lost or
    replaced cache); by default the job stops before paying for them twice (guiding.llm.ledger)."""
    prices: dict[str, Price] = field(default_factory=dict)
    """Config ``cost.prices``: to say what lost answers cost."""
    spending: SpendingLimit | None = None
    """Config ``cost``'s limit, checked before each batch is sent (None: no limit)."""

    @classmethod
    def from_config(cls, llm: dict, cost: dict | None = None) -> Runtime:
        client = llm.get("client", {})
        return cls(
            cache=llm.get("cache", cls.cache),
            replay=llm.get("replay", cls.replay),
            failure_budget=llm.get("failure_budget", cls.failure_budget),
            resend_lost=llm.get("resend_lost", cls.resend_lost),
            prices=price_table(cost or {}),
            spending=SpendingLimit.from_config(cost),
            **{k: client[k] for k in ("concurrency", "timeout_s", "max_attempts", "backoff_s") if k in client},
        )


_runtime = Runtime()


def set_runtime(runtime: Runtime) -> None:
    """The runtime of every ``ask`` in this process (a Snakemake job sets it from config ``llm``)."""
    global _runtime
    _runtime = runtime


def runtime() -> Runtime:
    return _runtime


@dataclass(frozen=True)
class RoleSpec:
    """What a role's answers depend on: its endpoint, model and sampling (a rule param)."""

    backend: str
    """openai, vllm, transformers or simulated (guiding.llm.backends.BACKENDS)."""
    endpoint: str
    """The endpoint's name in config: its identity in request keys (a port or host may change)."""
    model: str
    """Model name sent; a teacher role sends the teacher's own model instead."""
    settings: dict = field(default_factory=dict)
    """The backend's own settings (base_url, api_key_env, model path, the simulated world's teachers)."""
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 1024
    seed: int = 0
    """Base seed: each request's seed derives from (seed, item id, sample index)."""
    structured_outputs: str = "none"
    """The endpoint's ``structured_outputs``: "json_schema" sends the answer's JSON schema with every
    request of a template that has one (guiding.llm.schemas) and reads the reply as that JSON;
    "none" asks for free text."""
    allow_truncated: bool = False
    """Read replies cut off at ``max_tokens`` (finish_reason "length") like whole ones. By default
    they are refused as ``truncated``: the decision line or final answer may be what was cut."""

    def __post_init__(self):
        if self.structured_outputs not in STRUCTURED_OUTPUTS:
            raise ValueError(f"structured_outputs must be one of {STRUCTURED_OUTPUTS}, got {self.structured_outputs!r}")
        if self.structured_outputs != "none" and self.backend in NO_STRUCTURED_BACKENDS:
            raise ValueError(
                f"endpoint {self.endpoint!r}: a {self.backend} backend does not send structured_outputs; set none"
            )

    @classmethod
    def from_dict(cls, spec: dict) -> RoleSpec:
        return cls(**spec)


@dataclass(frozen=True)
class Question:
    """One request of a role: the template's fields for one sample of one item."""

    item_id: str
    fields: dict
    sample: int = 0
    model: str | None = None
    """Overrides the role's model (a teacher's own model)."""
    parse_args: tuple = ()
    """Extra arguments of the template's parser (e.g. the expected number of subtasks)."""


@dataclass
class Answers:
    """One ``Parsed`` per question, in order, and the texts they were read from (None if failed)."""

    parsed: list[Parsed]
    texts: list[str | None]
    finish_reasons: list[str | None]

    def drops(self) -> dict[str, int]:
        """Reasons of the answers that were not read, counted."""
        return dict(sorted(Counter(p.reason for p in self.parsed if not p.ok).items()))


def build_backend(spec: RoleSpec, run: Runtime):
    settings = {**spec.settings, "endpoint": identity(spec)}
    if spec.backend in HTTP_BACKENDS:
        settings.setdefault("timeout_s", run.timeout_s)
        settings.setdefault("concurrency", run.concurrency)
    return create_backend(spec.backend, **settings)


def identity(spec: RoleSpec) -> str:
    """The endpoint's identity in request keys: its config name for an HTTP endpoint (a port may
    change, the model behind it may not), the name and a digest of the settings for an engine that
    runs here (a model path or the simulated world's teachers decide its answers)."""
    if spec.backend in HTTP_BACKENDS:
        return spec.endpoint
    settings = json.dumps(spec.settings, sort_keys=True, separators=(",", ":"))
    return f"{spec.endpoint}:{hashlib.sha256(settings.encode()).hexdigest()[:12]}"


def build_requests(spec: RoleSpec, template_name: str, questions: Sequence[Question]) -> list[ChatRequest]:
    template = load(template_name)
    shape = response_format(template.label) if spec.structured_outputs == "json_schema" else None
    return [
        ChatRequest.build(
            endpoint=identity(spec),
            model=q.model or spec.model,
            messages=template.render(**q.fields),
            sampling=Sampling(
                temperature=spec.temperature,
                top_p=spec.top_p,
                max_tokens=spec.max_tokens,
                seed=derive_seed(spec.seed, q.item_id, q.sample),
            ),
            sample=q.sample,
            template=template.label,
            item_id=q.item_id,
            response_format=shape,
        )
        for q in questions
    ]


def ask(
    spec: RoleSpec,
    template_name: str,
    questions: Sequence[Question],
    parse: Callable[..., Parsed] | None = None,
    run: Runtime | None = None,
) -> Answers:
    """Every question's parsed answer, in order; sent in one batch through the response cache."""
    return ask_together(spec, [(template_name, questions, parse)], run)[0]


def ask_together(
    spec: RoleSpec,
    groups: Sequence[tuple[str, Sequence[Question], Callable[..., Parsed] | None]],
    run: Runtime | None = None,
) -> list[Answers]:
    """One ``Answers`` per (template, questions, parser or None) group, all sent in one batch.

    A request's key does not depend on its batch, so asking several templates together (the
    subtask filter's three checks) reuses every answer that was cached when they went one by one.
    """
    run = run or _runtime
    requests = [build_requests(spec, name, questions) if questions else [] for name, questions, _ in groups]
    flat = [r for batch in requests for r in batch]
    if not flat:
        return [Answers([], [], []) for _ in groups]
    backend = build_backend(spec, run)
    settings = ClientSettings(
        replay=run.replay,
        # A local engine or the simulated world keeps its own concurrency; HTTP endpoints get the client's.
        concurrency=run.concurrency if spec.backend in HTTP_BACKENDS else None,
        max_attempts=run.max_attempts,
        backoff_s=run.backoff_s,
        failure_budget=run.failure_budget,
    )
    # Replay only reads: the cache must exist and is never written (an archived or read-only one works).
    if not run.replay:
        Path(run.cache).parent.mkdir(parents=True, exist_ok=True)
    ledger = Ledger(ledger_path(run.manifest)) if run.manifest and not run.replay else None
    with ResponseCache(run.cache, read_only=run.replay) as cache:
        if ledger is not None:
            _stop_if_lost(ledger, flat, cache, run)
        if run.spending is not None and not run.replay:  # before anything is listed or sent
            done = cache.status(list(dict.fromkeys(r.key for r in flat)))
            run.spending.check(list({r.key: r for r in flat if done[r.key] != DONE}.values()), run.cache)
        if run.manifest:
            append_to_manifest(run.manifest, flat, run.teacher)
        on_commit = ledger.record if ledger is not None else None
        generation = generate(flat, backend, cache, settings, on_commit)
    if ledger is not None:  # answers served from the cache or fetched by another job
        ledger.record((r, a) for r, a in zip(flat, generation.responses) if a is not None)
    names = "+".join(name for name, questions, _ in groups if questions)
    log.info("%s via %s: %s", names, spec.endpoint, generation.stats)
    out, start = [], 0
    for (name, questions, parse), batch in zip(groups, requests):
        responses = generation.responses[start : start + len(batch)]
        start += len(batch)
        # A structured request is read as its template's JSON, by its versioned label ("judge_final/v1").
        structured = batch[0].template if batch and batch[0].response_format is not None else None
        out.append(_read(name, questions, responses, parse or PARSERS[name], spec.allow_truncated, structured))
    return out


def _stop_if_lost(ledger: Ledger, requests: list[ChatRequest], cache: ResponseCache, run: Runtime) -> None:
    """Raise LostAnswers if the job had answers before that the cache no longer holds (see guiding.llm.ledger)."""
    listed = [r for r in requests if r.key in ledger.known]
    if not listed:
        return
    lost = lost_answers(ledger.known, listed, cache.present(r.key for r in listed))
    if not lost:
        return
    error = LostAnswers(lost, len({r.key for r in requests}), ledger.path, cache.path, run.prices)
    if not run.resend_lost:
        raise error
    log.warning("%s; llm.resend_lost is true: sending them again", error)


def _read(
    template_name: str,
    questions: Sequence[Question],
    responses,
    parse: Callable[..., Parsed],
    allow_truncated: bool = False,
    structured: str | None = None,
) -> Answers:
    """Each response's Parsed value: its answer part (``guiding.llm.replies``: reasoning cut off, a
    cut-off reply refused unless ``allow_truncated``) read by the template's free-text parser, or
    as the JSON of the template ``structured`` names (a request that sent its schema). Reasoning
    returned apart never reaches either."""
    parsed, texts, finishes = [], [], []
    for question, response in zip(questions, responses):
        if response is None:
            parsed.append(failed("request_failed"))
            texts.append(None)
            finishes.append(None)
            continue
        texts.append(response.text)
        finishes.append(response.finish_reason)
        answer = answer_part(response.text, finish_reason=response.finish_reason, allow_truncated=allow_truncated)
        if not answer.ok:
            parsed.append(answer)
        elif structured:
            parsed.append(parse_structured(structured, answer.value, *question.parse_args))
        else:
            parsed.append(_safe_parse(parse, answer.value, question.parse_args))
    answers = Answers(parsed, texts, finishes)
    if answers.drops():
        log.info("%s: dropped %s", template_name, answers.drops())
    return answers


def _safe_parse(parse: Callable[..., Parsed], text: str, args: tuple) -> Parsed:
    result = parse(text, *args)
    return result if isinstance(result, Parsed) else failed("parser_returned_no_result")
