"""What the study's LLM calls cost: an estimate before anything is sent, and the bill after the run.

Before: :func:`estimate` counts the requests of every role from the config alone (pool sizes,
samples per task, subtasks per task) and bounds their tokens:

- prompt tokens = (characters of the role's templates + characters of the texts filled into them)
  / ``chars_per_token``. A template's characters are read from its file in
  ``guiding/llm/templates/`` when it exists, else ``cost.estimate.template_chars``; the filled-in
  texts are counted at ``problem_chars`` per problem and ``solution_chars`` per solution.
- completion tokens = the role's ``max_tokens`` (every answer as long as allowed): an upper bound.

Request counts are upper bounds too: every hard task gets ``subtasks_per_task`` subtasks, every
subtask passes the filters, and every task needs a rewrite.

After: :func:`cost_rows` reads the usage that the response cache stores with every answer, for
exactly the keys that the run's jobs listed in their request manifests (one JSONL row per
request: ``{"key", "teacher", "template", "model", "prompt_chars", "max_tokens"}``), and prices it
with the config's price table. A listed key is billed from its cache row; without a row it is
"unanswered" when the cache's failures table records it (a failure within the failure budget,
never paid), else its row was lost (the cache was deleted, truncated or restored from an older
copy after the answer was paid): it is billed at an estimated upper bound from its manifest row,
prompt characters / ``chars_per_token`` and ``max_tokens`` completion tokens, on a row of its own.

A request's role comes from its prompt template's name (``ChatRequest.template``, "solve.v1" or
"solve/v1"), through :data:`TEMPLATE_ROLES`, the one place that maps the two.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .cache import ResponseCache

# Template name (without its version) -> role. A template not listed is billed under
# "other:<name>", so a new template is never left out of the bill; add it here to name its role.
TEMPLATE_ROLES: dict[str, str] = {
    "decompose": "decomposer",
    "filter_ill_defined": "subtask_filter",
    "filter_too_few_steps": "subtask_filter",
    "filter_near_duplicate": "subtask_filter",
    "solve": "teacher",
    "judge_final": "final_judge",
    "judge_steps": "step_judge",
    "rewrite": "rewriter",
    "paraphrase": "paraphraser",
    "convert_open": "converter",
    "translate": "converter",
}
ROLES = (
    "decomposer",
    "subtask_filter",
    "teacher",
    "final_judge",
    "step_judge",
    "rewriter",
    "paraphraser",
    "converter",
)
_VERSIONED = re.compile(r"^(?P<name>.+?)[./]v\d+$")
TEMPLATE_DIR = Path(__file__).parent / "templates"
PER_MILLION = 1_000_000


def template_base(template: str) -> str:
    """``"solve.v1"`` and ``"solve/v1"`` -> ``"solve"``; a name without a version stays as it is."""
    m = _VERSIONED.match(template)
    return m["name"] if m else template


def role_of(template: str) -> str:
    """The role that a request written by ``template`` serves."""
    base = template_base(template)
    return TEMPLATE_ROLES.get(base, f"other:{base or 'no template'}")


def templates_of(role: str) -> list[str]:
    return [name for name, r in TEMPLATE_ROLES.items() if r == role]


# ---------------------------------------------------------------- prices


@dataclass(frozen=True)
class Price:
    """USD per million tokens of one model."""

    prompt: float
    """USD per 1M prompt tokens."""
    completion: float
    """USD per 1M completion tokens."""

    def usd(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.prompt + completion_tokens * self.completion) / PER_MILLION


def price_table(cost_config: dict) -> dict[str, Price]:
    return {model: Price(p["prompt"], p["completion"]) for model, p in cost_config.get("prices", {}).items()}


def usd(prices: dict[str, Price], model: str, prompt_tokens: int, completion_tokens: int) -> float:
    """The price of the tokens; NaN for a model the price table lacks (unpriced, never free)."""
    price = prices.get(model)
    return price.usd(prompt_tokens, completion_tokens) if price else math.nan


# ---------------------------------------------------------------- the estimate


@dataclass(frozen=True)
class RoleCall:
    """The requests one role (of one teacher) will send, and their models."""

    role: str
    teacher: str
    """The teacher the requests serve ("" for roles that serve no single teacher)."""
    model: str
    requests: int
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class Workload:
    """How many items each role works on: what the estimate's counts come from."""

    hard_tasks: int
    """Hard tasks in the pool (decomposed, solved by every teacher)."""
    subtasks_per_task: int
    """Subtasks per hard task (upper bound: 3)."""
    samples_per_task: int
    """Solutions sampled per task and teacher."""
    paraphrased_items: int
    """Items of every paraphrased set together."""
    converted_items: int = 0
    """Items of every benchmark that the converter turns open or translates (upper bound: all of them)."""


# What one item of each role sends besides the templates: (problems, solutions) filled in, over
# all of the item's requests.
PER_ITEM_TEXTS = {
    "decomposer": (1, 1),  # the task and its reference
    "subtask_filter": (2, 1),  # the subtask, its solution and the full task (near-duplicate check)
    "teacher": (1, 0),  # the task (the length hint is a number)
    "final_judge": (1, 2),  # the task, the reference and the sample
    "step_judge": (1, 1),  # the task and the sample
    "rewriter": (1, 1),  # the task and its reference
    "paraphraser": (1, 1),  # the problem and the solution of a set item, one request each
    "converter": (1, 0),  # a benchmark question with its options
}
# Requests per item where not one: the three filter checks of a subtask; a set item's problem
# and solution are paraphrased separately.
REQUESTS_PER_ITEM = {"subtask_filter": 3, "paraphraser": 2}


def template_chars(role: str, fallback: int, template_dir: Path = TEMPLATE_DIR) -> int:
    """Mean characters of the role's templates (the latest version's file where present, else ``fallback``)."""
    sizes = []
    for name in templates_of(role):
        versions = {}
        for file in template_dir.glob(f"{name}.v*.txt") if template_dir.is_dir() else []:
            if (version := file.name[len(name) + 2 : -len(".txt")]).isdigit():
                versions[int(version)] = file
        sizes.append(len(versions[max(versions)].read_text(encoding="utf-8")) if versions else fallback)
    return round(sum(sizes) / len(sizes)) if sizes else fallback


def role_items(workload: Workload) -> dict[str, int]:
    """Items per role, for one teacher's share (teacher, final judge, step judge, rewriter) or in all."""
    tasks = workload.hard_tasks * (1 + workload.subtasks_per_task)  # hard tasks and their subtasks
    samples = tasks * workload.samples_per_task
    return {
        "decomposer": workload.hard_tasks,
        "subtask_filter": workload.hard_tasks * workload.subtasks_per_task,
        "teacher": samples,
        "final_judge": samples,
        "step_judge": samples,
        "rewriter": tasks,  # at most one per task: only when no sample is correct
        "paraphraser": workload.paraphrased_items,
        "converter": workload.converted_items,
    }


PER_TEACHER = ("teacher", "final_judge", "step_judge", "rewriter")


def estimate(
    workload: Workload,
    models: dict[str, str | None],
    teachers: dict[str, str],
    max_tokens: dict[str, int],
    estimate_config: dict,
    template_dir: Path = TEMPLATE_DIR,
) -> list[RoleCall]:
    """Requests and tokens per role (per teacher for the teachers' roles), from counts alone.

    ``models``: role -> model of each role that asks an LLM (a role not in it sends nothing; None:
    each teacher's own model, as the teacher and the rewriter send); ``teachers``: teacher -> its
    own model. The teacher, final judge, step judge and rewriter work once per teacher.
    ``max_tokens``: role -> completion bound (``estimate_config["completion_tokens"]`` where not given).
    """
    items = role_items(workload)
    chars_per_token = estimate_config["chars_per_token"]
    calls = []
    for role in ROLES:
        if role not in models:
            continue
        if role in PER_TEACHER:
            shares = [(teacher, models[role] or own) for teacher, own in sorted(teachers.items())]
        else:
            shares = [("", models[role])]
        per_item = REQUESTS_PER_ITEM.get(role, 1)
        problems, solutions = PER_ITEM_TEXTS[role]
        filled = problems * estimate_config["problem_chars"] + solutions * estimate_config["solution_chars"]
        template = template_chars(role, estimate_config["template_chars"], template_dir)
        prompt_per_item = math.ceil((per_item * template + filled) / chars_per_token)
        completion = max_tokens.get(role, estimate_config["completion_tokens"])
        n = items[role]
        calls += [
            RoleCall(role, teacher, model, n * per_item, n * prompt_per_item, n * per_item * completion)
            for teacher, model in shares
            if n
        ]
    return calls


def total_usd(calls: Iterable[RoleCall], prices: dict[str, Price]) -> float:
    return sum(usd(prices, c.model, c.prompt_tokens, c.completion_tokens) for c in calls)


def unpriced_models(calls: Iterable[RoleCall], prices: dict[str, Price]) -> list[str]:
    return sorted({c.model for c in calls if c.requests and c.model not in prices})


# ---------------------------------------------------------------- after the run


def append_to_manifest(path: str | Path, requests: Iterable, teacher: str = "") -> None:
    """Add the keys of one batch of a job's requests (``ChatRequest``s) to the job's manifest, before
    they are sent; ``teacher`` names the teacher they serve (the job's ``{teacher}`` wildcard), if
    any. The cost table bills the manifests' keys; a key listed twice counts once."""
    unique = {r.key: r for r in requests}
    with open(path, "a", encoding="utf-8") as f:
        for key, r in unique.items():
            # What bounds its cost should its cache row be lost: its role, model and lengths.
            facts = {"template": r.template, "model": r.model, "max_tokens": r.sampling.max_tokens}
            facts["prompt_chars"] = prompt_chars(r)
            f.write(json.dumps({"key": key, "teacher": teacher, **facts}, sort_keys=True) + "\n")


def prompt_chars(request) -> int:
    """Characters of a request's messages: what its prompt tokens are estimated from."""
    return sum(len(m["content"]) for m in request.message_dicts())


@dataclass(frozen=True)
class UsedRequest:
    key: str
    teacher: str
    role: str
    model: str
    answered: bool
    prompt_tokens: int
    completion_tokens: int
    lost: bool = False
    """No cache row and no failure record: paid, its row gone; tokens are an estimated upper bound."""


def read_manifest_rows(paths: Iterable[str | Path]) -> dict[str, dict]:
    """Key -> its first manifest row, over every manifest; a key that several jobs used counts once
    (it was paid once)."""
    keys: dict[str, dict] = {}
    for path in sorted(map(str, paths)):
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                keys.setdefault(row["key"], row)
    return keys


def read_manifests(paths: Iterable[str | Path]) -> dict[str, str]:
    """Key -> teacher, over every manifest; a key that several jobs used counts once (it was paid once)."""
    return {key: row.get("teacher") or "" for key, row in read_manifest_rows(paths).items()}


def used_requests(
    cache_path: str | Path, keys: dict[str, str], listed: dict[str, dict] | None = None, chars_per_token: float = 4
) -> list[UsedRequest]:
    """The cache's row of each key (opened read-only, each row's checksum verified; the cache is
    never copied). A key without a row was not answered when the failures table records it (it
    costs nothing); else its row was lost, and its manifest row in ``listed``
    (``read_manifest_rows``) bounds its tokens (see the module)."""
    if not keys:
        return []
    rows, failed = {}, set()
    if Path(cache_path).is_file():  # a deleted cache: every row lost
        with ResponseCache(cache_path, read_only=True) as cache:
            rows = {
                key: (request, prompt or 0, completion or 0)
                for key, (request, prompt, completion) in cache.usage(keys).items()
            }
            failed = {failure.key for failure in cache.failures()} - set(rows)
    used = []
    for key, teacher in keys.items():
        if key in rows:
            request, prompt, completion = rows[key]
            used.append(
                UsedRequest(key, teacher, role_of(request["template"]), request["model"], True, prompt, completion)
            )
        elif key in failed:
            used.append(UsedRequest(key, teacher, "", "", False, 0, 0))
        else:
            facts = (listed or {}).get(key, {})
            role = role_of(facts["template"]) if "template" in facts else "unknown"
            prompt = math.ceil(facts.get("prompt_chars", 0) / chars_per_token)
            used.append(
                UsedRequest(key, teacher, role, facts.get("model", ""), False, prompt, facts.get("max_tokens", 0), True)
            )
    return used


LOST = "row lost"


COST_COLUMNS = ("role", "teacher", "model", "requests", "unanswered", "prompt_tokens", "completion_tokens", "usd")


def cost_rows(used: Iterable[UsedRequest], prices: dict[str, Price]) -> list[dict]:
    """Requests, tokens and USD per (role, teacher, model), plus a total row; unanswered requests
    are counted on a row of their own (their role is unknown: the cache holds no request for them),
    and so are requests whose cache row was lost, per role ("row lost: <role>"), at an estimated
    upper bound (their model unknown: an older manifest row; NaN USD)."""
    groups: dict[tuple[str, str, str], dict] = {}
    for u in used:
        role = f"{LOST}: {u.role}" if u.lost else u.role or "unanswered"
        row = groups.setdefault(
            (role, u.teacher, u.model), dict(zip(COST_COLUMNS, (role, u.teacher, u.model, 0, 0, 0, 0, 0.0)))
        )
        row["requests"] += 1
        row["unanswered"] += not u.answered
        row["prompt_tokens"] += u.prompt_tokens
        row["completion_tokens"] += u.completion_tokens
    order = {role: i for i, role in enumerate(ROLES)}
    rows = sorted(
        groups.values(),
        key=lambda r: (
            r["role"].startswith(LOST),
            order.get(r["role"], len(order)),
            r["role"],
            r["teacher"],
            r["model"],
        ),
    )
    for row in rows:
        if row["model"]:
            row["usd"] = usd(prices, row["model"], row["prompt_tokens"], row["completion_tokens"])
        else:  # unanswered: nothing paid; a lost row of unknown model: unknown, never free
            row["usd"] = math.nan if row["role"].startswith(LOST) else 0.0
    total = {"role": "total", "teacher": "", "model": ""}
    for column in ("requests", "unanswered", "prompt_tokens", "completion_tokens", "usd"):
        total[column] = sum(r[column] for r in rows)
    return [*rows, total]
