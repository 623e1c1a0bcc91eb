"""The study's design as the config gives it: the supervision sets, the training runs and their
recipes, the replicate and evaluation seeds, and the comparisons the findings make."""

from __future__ import annotations

from .artifacts import (
    BASELINE,
    KINDS,
    combination_name,
    error_rate_set_name,
    paraphrase_name,
    stage2_model,
)
from .config_values import ConfigError

RECIPE_STAGES = ("stage1", "stage2")


def _part_name(part: dict, teacher: str) -> str:
    name = error_rate_set_name(part["kind"], part.get("teacher", teacher), part["error_rate"])
    return paraphrase_name(name) if part.get("paraphrase") else name


def set_specs(config: dict) -> dict[str, dict]:
    """Every supervision set the config asks for, by name (names are the set files' stems)."""
    sets = config["sets"]
    sweep = sets["error_rate_sweep"]
    specs: dict[str, dict] = {}

    def add_error_rate_set(kind, teacher, rate):
        specs[error_rate_set_name(kind, teacher, rate)] = {
            "type": "error_rate",
            "kind": kind,
            "teacher": teacher,
            "error_rate": rate,
        }

    for rate in sweep["error_rates"]:
        for kind in KINDS:
            add_error_rate_set(kind, sweep["teacher"], rate)
    comparison = sets["teacher_comparison"]
    for teacher in comparison["teachers"]:
        add_error_rate_set("hard", teacher, comparison["error_rate"])
    for combo, parts in sets["combinations"].items():
        names = []
        for part in parts:
            add_error_rate_set(part["kind"], part.get("teacher", sweep["teacher"]), part["error_rate"])
            name = _part_name(part, sweep["teacher"])
            if part.get("paraphrase"):
                specs[name] = {
                    "type": "paraphrase",
                    "base": error_rate_set_name(
                        part["kind"], part.get("teacher", sweep["teacher"]), part["error_rate"]
                    ),
                }
            names.append(name)
        specs[combination_name(combo)] = {"type": "combination", "parts": names}
    return specs


def studied_sets(config: dict) -> list[str]:
    """Sets that get a stage-2 run of their own (parts built only for a combination do not)."""
    sets = config["sets"]
    sweep, comparison = sets["error_rate_sweep"], sets["teacher_comparison"]
    names = [error_rate_set_name(k, sweep["teacher"], r) for r in sweep["error_rates"] for k in KINDS]
    names += [error_rate_set_name("hard", t, comparison["error_rate"]) for t in comparison["teachers"]]
    names += [combination_name(c) for c in sets["combinations"]]
    return list(dict.fromkeys(names))


def stage2_runs(config: dict) -> dict[str, dict]:
    """Stage-2 training runs: one per studied set, plus the configured extra runs (e.g. more epochs).

    Each run carries its full recipe: the stage-2 recipe with the run's overrides applied.
    """
    stage2 = config["training"]["stage2"]
    runs = {name: {"set": name, "recipe": dict(stage2)} for name in studied_sets(config)}
    for name, extra in config.get("extra_runs", {}).items():
        if name in runs:
            raise ConfigError(f"extra_runs.{name}: the name is already taken by the run of set {name!r}")
        runs[name] = {"set": extra["set"], "recipe": {**stage2, **extra.get("recipe_overrides", {})}}
    return runs


def replicate_seeds(config: dict) -> list[int]:
    """The replicates' training seeds: each trains its own stage 1 and every stage-2 run from it."""
    return list(config["replicates"]["seeds"])


def stage1_recipe(config: dict, seed: int | str) -> dict:
    """The stage-1 recipe at replicate seed ``seed`` (the replicate's seed replaces the recipe's)."""
    return {**config["training"]["stage1"], "seed": int(seed)}


def stage2_recipe(runs: dict[str, dict], run: str, seed: int | str) -> dict:
    """The recipe that trains ``run`` at training seed ``seed`` (the replicate's seed replaces the recipe's)."""
    return {**runs[run]["recipe"], "seed": int(seed)}


def evaluated_models(config: dict) -> dict[str, list[int]]:
    """Every evaluated model with its training seeds: the stage-1 baseline and each stage-2 run,
    all at every replicate seed."""
    seeds = replicate_seeds(config)
    return {BASELINE: seeds, **{stage2_model(run): seeds for run in stage2_runs(config)}}


def claimed_comparisons(config: dict) -> list[dict]:
    """The paper's claims as comparisons fixed before any result is seen: in each, stage-2 run
    ``a`` is claimed to reach a higher held-out accuracy than run ``b``.

    0. The premise of finding 1: clean subtask supervision beats stage 1 alone (``b`` is the
       stage-1 baseline, paired by seed: each replicate's stage 2 against its own stage 1). Where it fails, the
       subtasks teach nothing stage 1 did not, and finding 1 holds by construction.
    1. Hard supervision at the highest studied outcome ER beats clean subtask supervision (the
       sweep's lowest ER, 0 in the paper).
    2. At equal outcome ER, the teacher with the lower step-wise ER gives the higher accuracy:
       every pair of compared teachers. Which of a pair has the lower step-wise ER is measured on
       the sets, so these pairs are marked ``by_stepwise_error`` and oriented by the report.
    3. Hard + subtasks beats hard alone, hard + paraphrases and the hard set with more epochs:
       every combination with a subtask part against its hard parts' own runs, the combinations
       without subtasks, and the extra runs of its hard parts.

    A comparison whose runs the config does not train is left out.
    """
    runs = stage2_runs(config)
    sets = config["sets"]
    sweep = sets["error_rate_sweep"]
    clean_subtasks = error_rate_set_name("subtask", sweep["teacher"], min(sweep["error_rates"]))
    out = [
        {
            "finding": 0,
            "claim": "clean subtask supervision beats stage 1 alone (the subtasks teach)",
            "a": clean_subtasks,
            "b": BASELINE,
        },
        {
            "finding": 1,
            "claim": "hard supervision at the highest studied outcome ER beats clean subtask supervision",
            "a": error_rate_set_name("hard", sweep["teacher"], max(sweep["error_rates"])),
            "b": clean_subtasks,
        },
    ]
    comparison = sets["teacher_comparison"]
    teacher_runs = [error_rate_set_name("hard", t, comparison["error_rate"]) for t in comparison["teachers"]]
    for i, a in enumerate(teacher_runs):
        for b in teacher_runs[i + 1 :]:
            out.append(
                {
                    "finding": 2,
                    "claim": "at equal outcome ER, the teacher with the lower step-wise ER gives the higher accuracy",
                    "a": a,
                    "b": b,
                    "by_stepwise_error": True,
                }
            )
    combos = sets["combinations"]
    with_subtasks = [c for c, parts in combos.items() if any(p["kind"] == "subtask" for p in parts)]
    for combo in with_subtasks:
        hard_parts = [
            error_rate_set_name("hard", p.get("teacher", sweep["teacher"]), p["error_rate"])
            for p in combos[combo]
            if p["kind"] == "hard" and not p.get("paraphrase")
        ]
        rivals = [(part, "hard alone") for part in hard_parts]
        rivals += [(combination_name(c), _combination_kind(combos[c])) for c in combos if c not in with_subtasks]
        rivals += [
            (name, _extra_run_kind(config, name))
            for name, run in runs.items()
            if name != run["set"] and run["set"] in hard_parts
        ]
        for rival, what in rivals:
            out.append(
                {"finding": 3, "claim": f"hard + subtasks beats {what}", "a": combination_name(combo), "b": rival}
            )
    return [c for c in out if c["a"] in runs and c["b"] in {*runs, BASELINE} and c["a"] != c["b"]]


def _combination_kind(parts: list[dict]) -> str:
    return "hard + paraphrases" if any(p.get("paraphrase") for p in parts) else "another combination"


def _extra_run_kind(config: dict, name: str) -> str:
    """What an extra run of a hard set changes: the paper's control is more epochs."""
    overrides, stage2 = config["extra_runs"][name].get("recipe_overrides", {}), config["training"]["stage2"]
    for key, more in (("num_train_epochs", "more epochs"), ("max_steps", "more steps")):
        if key in overrides and key in stage2 and overrides[key] > stage2[key]:
            return f"hard with {more}"
    return f"hard with other training ({', '.join(sorted(overrides)) or 'the same recipe'})"


def findings_runs(config: dict) -> list[str]:
    """The stage-2 runs that the findings compare, in first-use order (the stage-1 baseline is no run)."""
    compared = (run for c in claimed_comparisons(config) for run in (c["a"], c["b"]))
    return list(dict.fromkeys(run for run in compared if run != BASELINE))


def set_size(config: dict, name: str) -> int:
    """Items in set ``name``: its kind's size, a paraphrase as its base, a combination its parts."""
    spec, sets = set_specs(config)[name], config["sets"]
    if spec["type"] == "combination":
        return sum(set_size(config, part) for part in spec["parts"])
    if spec["type"] == "paraphrase":
        return set_size(config, spec["base"])
    return sets["hard_size"] if spec["kind"] == "hard" else sets["subtask_size"]


def stage2_examples(config: dict, run: str) -> int:
    """Examples stage-2 run ``run`` trains on (set size x epochs), to start the longest runs first."""
    spec = stage2_runs(config)[run]
    return round(set_size(config, spec["set"]) * spec["recipe"]["num_train_epochs"])


def sampled_decoding(config: dict) -> bool:
    """Whether the students' answers are sampled (temperature above 0) rather than greedy."""
    return config["evaluation"]["temperature"] > 0


def evaluation_seeds(config: dict) -> list[int]:
    """Seeds of sampled decoding: every model is evaluated once per seed (greedy decoding: one run, no seed)."""
    return list(config["evaluation"]["seeds"]) if sampled_decoding(config) else []
