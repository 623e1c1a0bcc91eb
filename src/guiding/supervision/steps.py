"""Step functions of rules/supervision.smk."""

from __future__ import annotations

import logging

from .. import implementations
from ..artifacts import EXPORT_LLAMAFACTORY, SET, error_rate_set_name, parse
from ..core.io import read_jsonl, write_json, write_jsonl
from . import exports
from .sets import (
    build_error_rate_items,
    combine_items,
    describe_set,
    paraphrase_items,
    select_hard_tasks,
    select_subtasks,
)

log = logging.getLogger("guiding")


def build_error_rate_set(
    *,
    pairs: str,
    supervision_set: str,
    kind: str,
    teacher: str,
    error_rate: str,
    sizes: dict,
    seed: int,
    hard_pairs: str | None = None,
) -> None:
    """A hard or subtask set at an exact outcome error rate. A subtask set needs the hard pairs and
    ``sizes["hard_size"]`` too: it holds the subtasks of the hard tasks the teacher's hard sets hold."""
    rate = int(error_rate)
    name = error_rate_set_name(kind, teacher, rate)
    hard = read_jsonl(hard_pairs or pairs)
    selected = select_hard_tasks(hard, sizes["hard_size"], seed, name)
    if kind == "hard":
        items = build_error_rate_items(hard, selected, rate, seed, name)
    else:
        subtask_pairs = read_jsonl(pairs)
        chosen = select_subtasks(subtask_pairs, selected, sizes["subtask_size"], seed, name)
        items = build_error_rate_items(subtask_pairs, chosen, rate, seed, name)
    write_jsonl(supervision_set, items)
    log.info("set %s: %s", name, describe_set(items))


def paraphrase_set(
    *,
    base_set: str,
    paraphrased: str,
    base: str,
    backend: str,
    seed: int,
    settings: dict | None = None,
    released_paraphrases: str | None = None,
) -> None:
    """``released_paraphrases``: the imported reworded pairs that the released paraphraser reads."""
    settings = {**(settings or {}), **({"paraphrases": released_paraphrases} if released_paraphrases else {})}
    paraphraser = implementations.create("paraphraser", backend, seed=seed, **settings)
    write_jsonl(paraphrased, paraphrase_items(read_jsonl(base_set), paraphraser, f"para-{base}"))


def combine_sets(*, parts: list[str], combined: str, name: str) -> None:
    """The union of whole sets; each part is named by its file (results/sets/<part>.jsonl)."""
    items = combine_items({parse(SET, path)["name"]: read_jsonl(path) for path in parts}, f"combo-{name}")
    write_jsonl(combined, items)
    log.info("set combo-%s: %s", name, describe_set(items))


def set_statistics(*, supervision_set: str, stats: str, name: str) -> None:
    write_json(stats, {"set": name, **describe_set(read_jsonl(supervision_set))})


def export_set(*, supervision_set: str, trl: str, llamafactory: str) -> None:
    """One set as TRL prompt/completion JSONL and as LLaMA-Factory alpaca JSON."""
    items = read_jsonl(supervision_set)
    exports.write_trl(trl, items)
    exports.write_alpaca(llamafactory, items)


def llamafactory_dataset_info(*, alpaca: list[str], dataset_info: str) -> None:
    """LLaMA-Factory's dataset_info.json: an entry per set (named by its file) with its columns."""
    exports.write_dataset_info(dataset_info, {parse(EXPORT_LLAMAFACTORY, path)["name"]: path for path in alpaca})
