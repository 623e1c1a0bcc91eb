"""Per-item scores from graded predictions, shared by the result tables, the findings table and
the seed planner: read by setting, training seed and evaluation seed, averaged over evaluation
seeds per item, and laid out as seeds x items matrices in one seed and item order."""

from __future__ import annotations

from collections import defaultdict

from ..artifacts import EVAL_SEED, GRADED, parse
from ..core.io import read_jsonl

# {(model, bench): {training seed: {evaluation seed (None: greedy): {task_id: correct}}}}
Graded = dict[tuple[str, str], dict[int, dict[int | None, dict[str, bool]]]]


def read_graded(graded: list[str]) -> Graded:
    """Every verdict of the graded prediction files, by setting, training seed and evaluation seed."""
    out: Graded = defaultdict(dict)
    for path in graded:
        names = parse(GRADED, path)
        by_eval_seed: dict[int | None, dict[str, bool]] = {}
        for r in read_jsonl(path):
            by_eval_seed.setdefault(r.get(EVAL_SEED), {})[r["task_id"]] = bool(r["correct"])
        out[names["model"], names["bench"]][int(names["seed"])] = by_eval_seed
    return dict(out)


def item_scores(by_seed: dict[int, dict[int | None, dict[str, bool]]]) -> dict[int, dict[str, float]]:
    """{training seed: {task_id: share of its evaluation seeds that answered right}}: evaluation seeds
    are nested in (training seed, item), so their verdicts are averaged per item (one: 0 or 1)."""
    out = {}
    for seed, by_eval_seed in by_seed.items():
        runs = list(by_eval_seed.values())
        items = sorted(runs[0])
        if any(sorted(run) != items for run in runs):
            raise ValueError(f"training seed {seed}: the evaluation seeds were graded on different items")
        out[seed] = {item: sum(run[item] for run in runs) / len(runs) for item in items}
    return out


def correctness_matrix(by_seed: dict[int, dict[str, float]], seeds: list[int]):
    """Seeds x items matrix of scores in [0, 1], items in task-id order (every seed answered the same items)."""
    import numpy as np

    items = sorted(by_seed[seeds[0]])
    for seed in seeds:
        if sorted(by_seed[seed]) != items:
            raise ValueError(f"seed {seed} was graded on other items than seed {seeds[0]}")
    return np.array([[by_seed[seed][item] for item in items] for seed in seeds], dtype=float)


def eval_seeds_of(by_seed: dict[int, dict[int | None, dict[str, bool]]]) -> list[int]:
    """The evaluation seeds of a setting (none under greedy decoding); every training seed has the same."""
    found = {tuple(sorted(s for s in by_eval_seed if s is not None)) for by_eval_seed in by_seed.values()}
    if len(found) > 1:
        raise ValueError(f"the training seeds were evaluated at different evaluation seeds: {sorted(found)}")
    return list(found.pop())


def seed_columns(config: dict, graded: dict) -> list[int]:
    """The seeds found in ``graded`` ({setting: {seed: ...}}): the replicate seeds in config order,
    then any other, so that the columns read in the configured order."""
    found = sorted({seed for by_seed in graded.values() for seed in by_seed})
    return [seed for seed in dict.fromkeys([*config["replicates"]["seeds"], *found]) if seed in found]


def benchmark_labels(config: dict, benchmarks: list[str]) -> dict[str, str]:
    """{benchmark: label} in the order of ``benchmarks``, the config's order: a rule's params
    arrive with their mappings' keys sorted (``canonical``), so the order travels as a list."""
    return {bench: config["evaluation"]["benchmarks"][bench]["label"] for bench in benchmarks}


def eval_seed_caption(config: dict, columns: bool = True) -> str:
    """How the evaluation seeds of sampled decoding enter a table (nothing under greedy decoding);
    ``columns``: the table has the per-evaluation-seed columns (the result tables, not the findings)."""
    evaluation = config["evaluation"]
    seeds = evaluation.get("seeds", [])
    if evaluation.get("temperature", 0) == 0 or len(seeds) < 2:  # one run per model, as always
        return ""
    return (
        f" Answers are sampled once per item at each of {len(seeds)} evaluation seeds ({', '.join(map(str, seeds))}): "
        "they are nested in the training seed and the item, so each item's score is the share of its evaluation "
        "seeds that answered right, and accuracies, differences and intervals are taken over these per-item "
        "scores: the decoding noise enters the intervals through them."
        + (
            " With one training seed the interval is then the t interval over these per-item scores (items - 1 "
            "degrees of freedom; it covers the items and the decoding noise, not another training draw), not "
            "Wilson. `_eval<e>_%` is each "
            "evaluation seed's accuracy (mean over training seeds) and `_eval_seed_sd` their standard deviation."
            if columns
            else ""
        )
    )
