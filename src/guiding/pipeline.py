"""The workflow's steps as plain functions from files to files: each script calls one of them.

Keeping them here (not in the scripts) makes every step testable without Snakemake.
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict

from .config import subtask_parts
from .decompose import decompose, subtask_problems
from .io import read_jsonl, write_json, write_jsonl
from .judge import judge_samples
from .pairs import make_pairs
from .sets import (
    build_error_rate_set,
    combine_sets,
    paraphrase_set,
    select_hard_tasks,
    select_subtasks,
    set_statistics,
)
from .teachers import SimulatedTeacher, sample_solutions
from .world import SPLITS, generate_splits

log = logging.getLogger("guiding")


def generate_tasks(outputs: list[str], world: dict) -> None:
    splits = generate_splits(world["seed"], world["sizes"], world["easy_steps"], world["hard_steps"],
                             shuffle=world["shuffle_definitions"], max_value=world["max_value"],
                             distractor_steps=tuple(world["distractor_steps"]))
    for split, path in zip(SPLITS, outputs):
        write_jsonl(path, splits[split])
        log.info("%s: %d tasks", split, len(splits[split]))


def decompose_tasks(tasks_path: str, out_path: str, decomposition: dict, shuffle: bool) -> None:
    subtasks = []
    for task in read_jsonl(tasks_path):
        rng = random.Random(f"{decomposition['seed']}:decompose:{task['id']}")
        subtasks.extend(decompose(task, subtask_parts(task["n_steps"], decomposition), rng, shuffle))
    write_jsonl(out_path, subtasks)
    log.info("%d subtasks", len(subtasks))


def filter_subtasks(subtasks_path: str, tasks_path: str, kept_path: str, report_path: str, decomposition: dict) -> None:
    parents = {t["id"]: t for t in read_jsonl(tasks_path)}
    kept, dropped = [], defaultdict(int)
    for sub in read_jsonl(subtasks_path):
        reasons = subtask_problems(sub, parents[sub["parent_id"]], decomposition["min_steps"], decomposition["max_fraction"])
        for reason in reasons:
            dropped[reason] += 1
        if not reasons:
            kept.append(sub)
    write_jsonl(kept_path, kept)
    write_json(report_path, {"kept": len(kept), "dropped_by_reason": dict(sorted(dropped.items()))})
    log.info("kept %d subtasks, dropped %s", len(kept), dict(dropped))


def sample(tasks_path: str, out_path: str, teacher_name: str, teacher: dict, sampling: dict) -> None:
    spec = SimulatedTeacher(teacher_name, teacher["step_error"], teacher["error_style"])
    samples = sample_solutions(spec, read_jsonl(tasks_path), sampling["samples_per_task"], sampling["seed"])
    write_jsonl(out_path, samples)
    log.info("teacher %s: %d samples", teacher_name, len(samples))


def judge(tasks_path: str, samples_path: str, out_path: str) -> None:
    judged = judge_samples(read_jsonl(tasks_path), read_jsonl(samples_path))
    write_jsonl(out_path, judged)
    log.info("%d judged, %d correct", len(judged), sum(j["correct"] for j in judged))


def pairs(tasks_path: str, judged_path: str, pairs_path: str, stats_path: str, seed: int) -> None:
    made, stats = make_pairs(read_jsonl(tasks_path), read_jsonl(judged_path), seed)
    write_jsonl(pairs_path, made)
    write_json(stats_path, stats)
    log.info("%s", stats)


def error_rate_set(name: str, kind: str, error_rate: int, pairs_path: str, hard_pairs_path: str | None,
                   out_path: str, hard_size: int, subtask_size: int, seed: int) -> None:
    hard_pairs = read_jsonl(hard_pairs_path or pairs_path)
    selected = select_hard_tasks(hard_pairs, hard_size, seed, name)
    if kind == "hard":
        items = build_error_rate_set(hard_pairs, selected, error_rate, seed, name)
    else:
        subtask_pairs = read_jsonl(pairs_path)
        chosen = select_subtasks(subtask_pairs, selected, subtask_size, seed, name)
        items = build_error_rate_set(subtask_pairs, chosen, error_rate, seed, name)
    write_jsonl(out_path, items)
    log.info("set %s: %s", name, set_statistics(items))


def paraphrased_set(in_path: str, out_path: str, name: str, seed: int) -> None:
    write_jsonl(out_path, paraphrase_set(read_jsonl(in_path), seed, name))


def combined_set(parts: dict[str, str], out_path: str, name: str) -> None:
    items = combine_sets({part: read_jsonl(path) for part, path in parts.items()}, name)
    write_jsonl(out_path, items)
    log.info("set %s: %s", name, set_statistics(items))


def statistics(set_path: str, out_path: str, name: str) -> None:
    write_json(out_path, {"set": name, **set_statistics(read_jsonl(set_path))})
