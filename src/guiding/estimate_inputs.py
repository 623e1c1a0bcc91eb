"""What the cost estimate reads from a config: the hard pool's size, the roles that ask an LLM
with their models, the problems' lengths and the converted benchmarks' items (``guiding estimate``
and the spending limit of ``check_config`` turn them into requests and dollars)."""

from __future__ import annotations

import math
from pathlib import Path

from .artifacts import CONVERTER
from .config_values import ConfigError
from .core.datasets import column, is_local, load_rows, select_where
from .design import set_size, set_specs
from .implementations import RELEASED_REPLACES, TEACHERS_OWN_MODEL, llm_switches
from .llm import cost


def hard_pool_size(config: dict) -> int | None:
    """Hard tasks in the pool, as far as the config alone tells: the world's ``train_hard`` size, or
    the sum of the hub sources' ``limit``s (None when a source has none: its size is unknown)."""
    if config["backends"]["task_source"] == "released":
        return config["sets"]["hard_size"]  # only paraphrases may be asked of an LLM: of the sets' items
    if config["backends"]["task_source"] == "hub":
        limits = [source.get("limit") for source in config["hub_tasks"]["sources"]]
        return None if None in limits else sum(limits)
    return config["world"]["sizes"]["train_hard"]


def llm_role_settings(config: dict) -> tuple[dict[str, str | None], dict[str, str], dict[str, int]]:
    """Which roles ask an LLM, with which model and completion bound: (role -> model, None for
    each teacher's own; teacher -> its own model; role -> max_tokens).

    A role asks an LLM where ``backends.<role>`` is ``llm`` and ``llm.roles.<role>`` gives its
    ``model`` and ``max_tokens``. The teacher and the rewriter send the teacher's own model
    (``teachers.<name>.model``, default its name). Without an ``llm`` section no role asks one.
    """
    roles, backends = (config.get("llm") or {}).get("roles", {}), config["backends"]
    models, max_tokens = {}, {}
    for role in cost.ROLES:
        if backends.get("pairs_source") == "released" and role in RELEASED_REPLACES:
            continue
        if role == CONVERTER:  # asked where a benchmark is converted, not switched in backends
            asks = bool(converted_benchmarks(config))
        else:
            asks = any(backends.get(switch) == "llm" for switch in llm_switches(role))
        if role not in roles or not asks:
            continue
        models[role] = None if role in TEACHERS_OWN_MODEL else roles[role]["model"]
        max_tokens[role] = roles[role]["max_tokens"]
    teachers = {name: spec.get("model", name) for name, spec in config["teachers"].items()}
    return models, teachers, max_tokens


def estimated_calls(config: dict) -> list[cost.RoleCall]:
    """The dry-run estimate of every LLM request of the config (see guiding.llm.cost); raises
    ConfigError when the pool size is unknown (a hub source without ``limit``)."""
    models, teachers, max_tokens = llm_role_settings(config)
    if not models:
        return []
    pool = hard_pool_size(config)
    if pool is None:
        raise ConfigError("hub_tasks.sources: the estimate needs every source's limit (the pool size is unknown)")
    specs = set_specs(config)
    workload = cost.Workload(
        hard_tasks=pool,
        subtasks_per_task=config["cost"]["estimate"]["subtasks_per_task"],
        samples_per_task=config["sampling"]["samples_per_task"],
        paraphrased_items=sum(set_size(config, name) for name, spec in specs.items() if spec["type"] == "paraphrase"),
        converted_items=converted_items(config) if CONVERTER in models else 0,
    )
    assumptions = dict(config["cost"]["estimate"])
    if config["backends"]["task_source"] == "hub":
        assumptions["problem_chars"] = hub_problem_chars(config)
    return cost.estimate(workload, models, teachers, max_tokens, assumptions)


def hub_problem_chars(config: dict) -> int:
    """Characters per hard problem that bound the pool's: from each local source file, its ``limit``
    longest problems that its ``where`` and the length pre-filter let through; from a hub dataset
    (or a file that cannot be read here), ``cost.estimate.problem_chars`` each."""
    assumed = config["cost"]["estimate"]["problem_chars"]
    longest = config["hub_tasks"]["prefilter"].get("max_problem_chars")
    total = pool = 0
    for source in config["hub_tasks"]["sources"]:
        limit = source["limit"]  # estimated_calls needs every limit
        pool += limit
        lengths = _problem_lengths(source) if is_local(source["source"]) else None
        if lengths is None:
            total += limit * assumed
            continue
        lengths = sorted((n for n in lengths if longest is None or n <= longest), reverse=True)
        total += sum(lengths[:limit])
    return math.ceil(total / pool) if pool else assumed


def _problem_lengths(source: dict) -> list[int] | None:
    """Characters of each problem of a local source file that its ``where`` keeps; None where the
    file is not there or cannot be read (the job that reads it names what is wrong)."""
    problem = source.get("columns", {}).get("problem", "problem")
    try:
        rows = select_where(load_rows(source["source"]), source.get("where"), source["source"])
        return [len(str(column(row, problem) or "")) for row in rows]
    except (OSError, ValueError, KeyError):
        return None


def converted_benchmarks(config: dict) -> list[str]:
    """The benchmarks that the converter turns open or translates before they are asked."""
    return [name for name, spec in config["evaluation"]["benchmarks"].items() if spec.get("convert")]


def converted_items(config: dict) -> int:
    """Items the converter may be asked about, for the estimate: each converted benchmark's ``limit``,
    else the rows of its local file (an upper bound: ``where`` and already open items are not
    subtracted); a hub source without a limit cannot be counted from the config (ConfigError)."""
    total = 0
    for name in converted_benchmarks(config):
        spec = config["evaluation"]["benchmarks"][name]
        if "limit" in spec:
            total += spec["limit"]
        elif is_local(spec["source"]) and Path(spec["source"]).is_file():
            total += _row_count(spec["source"])
        else:
            raise ConfigError(
                f"evaluation.benchmarks.{name}.limit: the estimate needs the size of a converted benchmark "
                f"({spec['source']!r} is no local file here); give a limit"
            )
    return total


def _row_count(path: str) -> int:
    """Rows of a local data file (JSONL by its lines: the config check stays quick)."""
    if Path(path).suffix == ".jsonl":
        with open(path, encoding="utf-8") as f:
            return sum(1 for line in f if line.strip())
    return len(load_rows(path))
