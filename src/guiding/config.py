"""What the workflow derives from its config: the sets to build, the training runs, and the
cross-field checks that a JSON schema cannot express.

``check_config`` runs in ``rules/common.smk`` after schema validation, before any job: every
refusal that the config alone decides is raised here, naming the key.
"""

from __future__ import annotations

import math
import os
from pathlib import Path, PurePosixPath

import yaml

from .artifacts import (
    BASELINE,
    CONVERTER,
    KINDS,
    OPERATIONS,
    SPLITS,
    WORLD_SOURCE,
    combination_name,
    error_rate_set_name,
    paraphrase_name,
    stage2_model,
)
from .config_values import (
    ConfigError,
    check_api_keys,
    check_architecture,
    check_endpoint_settings,
    check_recipe,
    sft_config_specs,
)
from .core.datasets import column, is_local, load_rows, select_where
from .llm import cost
from .llm.backends import BACKENDS as LLM_BACKENDS

__all__ = ["ConfigError"]  # defined in config_values, raised by every check here


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


def sft_config_fields() -> frozenset[str]:
    """Field names of TRL's SFTConfig, read from a list kept beside the code (importing trl takes
    seconds, too slow for every dry run; a test checks the list against the installed trl)."""
    return frozenset(sft_config_specs())


def _check_recipe(key: str, recipe: dict) -> None:
    check_recipe(key, recipe)  # field names and value kinds


def _check_compute(config: dict) -> None:
    """GPU counts against the recipes, and the launcher's file, before any job runs."""
    training = config["training"]
    gpus, launcher = training.get("gpus", 0), training.get("launcher")
    for stage in RECIPE_STAGES:
        recipe = training[stage]
        if gpus and recipe.get("use_cpu"):
            raise ConfigError(f"training.gpus: {gpus} GPU(s) per job, but training.{stage} sets use_cpu: true")
    if launcher is not None and not Path(launcher).is_file():
        raise ConfigError(f"training.launcher: no accelerate config file {launcher!r}")
    if gpus > 1 and launcher is None:
        raise ConfigError(
            f"training.gpus: {gpus} GPUs per job need training.launcher (an accelerate config, config/accelerate/)"
        )


# The student keys each base backend takes (required, optional).
STUDENT_KEYS = {"tiny": ({"vocab_size", "architecture"}, {"seed"}), "pretrained": ({"model"}, {"dtype"})}


def _check_student(config: dict) -> None:
    backend = config["backends"]["student_base"]
    required, optional = STUDENT_KEYS[backend]
    given = set(config["student"])
    if missing := sorted(required - given):
        raise ConfigError(f"student.{missing[0]}: needed by backends.student_base {backend!r}")
    if extra := sorted(given - required - optional):
        raise ConfigError(f"student.{extra[0]}: not a setting of backends.student_base {backend!r}")
    if "architecture" in given:
        check_architecture(config["student"]["architecture"])


def _check_benchmarks(config: dict) -> None:
    benchmarks = config["evaluation"]["benchmarks"]
    held_out = [s for s in SPLITS if s.startswith("eval_")]
    labels: dict[str, str] = {}
    for name, spec in benchmarks.items():
        if spec["source"] == WORLD_SOURCE and name not in held_out:
            raise ConfigError(f"evaluation.benchmarks.{name}: a world benchmark is a held-out split {held_out}")
        if spec["label"] in labels:
            raise ConfigError(
                f"evaluation.benchmarks.{name}.label: {spec['label']!r} is also the label of {labels[spec['label']]!r}"
            )
        labels[spec["label"]] = name


def _check_whole_counts(config: dict) -> None:
    """A set at x% over n tasks needs n*x/100 to be a whole number (refused here, not mid-DAG)."""
    sizes = {"hard": "sets.hard_size", "subtask": "sets.subtask_size"}
    for name, spec in set_specs(config).items():
        if spec["type"] != "error_rate":
            continue
        key = sizes[spec["kind"]]
        size, rate = config["sets"][key.split(".")[1]], spec["error_rate"]
        if (size * rate) % 100:
            step = 100 // math.gcd(rate, 100)
            raise ConfigError(
                f"{key}: set {name!r} needs {rate}% of {size} tasks, {size * rate / 100:g}, which is not a "
                f"whole number; use a {key.split('.')[1]} that is a multiple of {step}"
            )


RECIPE_STAGES = ("stage1", "stage2")


def load_recipes(config: dict, root: str | os.PathLike) -> dict:
    """Replace each recipe given as a file path (one YAML per stage) by the file's fields.

    A relative path is looked up in the working directory, then under ``root`` (the workflow's
    directory), so the shipped recipes work from any ``--directory``. Runs before the schema
    check, which then sees the fields themselves.
    """
    training = config.get("training", {})
    for stage in RECIPE_STAGES:
        recipe = training.get(stage)
        if not isinstance(recipe, str):
            continue
        candidates = [Path(recipe)] if Path(recipe).is_absolute() else [Path(recipe), Path(root) / recipe]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise ConfigError(f"training.{stage}: no recipe file {recipe!r} (looked in {[str(c) for c in candidates]})")
        fields = yaml.safe_load(found.read_text())
        if not isinstance(fields, dict):
            raise ConfigError(f"training.{stage}: {recipe} holds no mapping of SFTConfig fields")
        training[stage] = fields
    launcher = training.get("launcher")
    if isinstance(launcher, str) and not Path(launcher).is_absolute() and not Path(launcher).is_file():
        if (Path(root) / launcher).is_file():
            training["launcher"] = str(Path(root) / launcher)
    return config


def hard_pool_size(config: dict) -> int | None:
    """Hard tasks in the pool, as far as the config alone tells: the world's ``train_hard`` size, or
    the sum of the hub sources' ``limit``s (None when a source has none: its size is unknown)."""
    if config["backends"]["task_source"] == "released":
        return config["sets"]["hard_size"]  # only paraphrases may be asked of an LLM: of the sets' items
    if config["backends"]["task_source"] == "hub":
        limits = [source.get("limit") for source in config["hub_tasks"]["sources"]]
        return None if None in limits else sum(limits)
    return config["world"]["sizes"]["train_hard"]


# Role of the cost estimate -> the backends keys that make it ask an LLM (value "llm"); its
# settings are llm.roles.<role>. The step judge asks one as the step judge or as its check.
LLM_ROLE_SWITCHES = {"step_judge": ("step_judge", "step_judge_check")}
TEACHERS_OWN_MODEL = ("teacher", "rewriter")  # roles that send each teacher's own model
# Roles whose work the released pairs replace (backends.pairs_source released): never asked.
RELEASED_REPLACES = ("decomposer", "subtask_filter", "teacher", "step_judge", "final_judge", "rewriter")


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
            asks = any(backends.get(switch) == "llm" for switch in LLM_ROLE_SWITCHES.get(role, (role,)))
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
        if not models:
            return []
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
    if config["backends"]["task_source"] == "hub" and models:
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


def _check_conversions(config: dict) -> None:
    """A converted benchmark needs the converter's role at an endpoint that can answer its prompts."""
    converted = converted_benchmarks(config)
    if not converted:
        return
    roles = config["llm"]["roles"]
    if CONVERTER not in roles:
        raise ConfigError(
            f"llm.roles.{CONVERTER}: needed by evaluation.benchmarks.{converted[0]}.convert (its endpoint, model, "
            "temperature and max_tokens)"
        )
    endpoint = roles[CONVERTER]["endpoint"]
    if config["llm"]["endpoints"].get(endpoint, {}).get("backend") in SIMULATED_BACKENDS:
        raise ConfigError(
            f"llm.roles.{CONVERTER}.endpoint: {endpoint!r} is the simulated world, which writes no benchmark "
            "conversions; name a model's endpoint"
        )


def _check_hub_tasks(config: dict) -> None:
    """The hub task source needs its section, length thresholds in increasing order, sources of
    distinct names, and no world benchmarks or world stage-1 data (it fills the hard pool only)."""
    if config["backends"]["task_source"] != "hub":
        return
    if "hub_tasks" not in config:
        raise ConfigError("hub_tasks: needed by backends.task_source 'hub' (its sources and pre-filters)")
    lengths = config["hub_tasks"]["prefilter"]["reference_tokens"]
    if not lengths["min_tokens"] <= lengths["two_up_to"] < lengths["three_up_to"]:
        raise ConfigError(
            "hub_tasks.prefilter.reference_tokens: needs min_tokens <= two_up_to < three_up_to, got "
            f"{lengths['min_tokens']}, {lengths['two_up_to']}, {lengths['three_up_to']}"
        )
    # The hub source fills the hard pool only: the world's other splits are empty.
    for name, spec in config["evaluation"]["benchmarks"].items():
        if spec["source"] == WORLD_SOURCE:
            raise ConfigError(
                f"evaluation.benchmarks.{name}.source: a world benchmark needs backends.task_source 'world' "
                "(the hub source has no held-out splits); name a dataset instead"
            )
    if any(s["source"] == WORLD_SOURCE for s in config["training"]["stage1_data"]["sources"]):
        raise ConfigError(
            "training.stage1_data.sources: the world's easy split needs backends.task_source 'world' "
            "(the hub source has none); name a dataset instead"
        )
    names = [source.get("name", source["source"]) for source in config["hub_tasks"]["sources"]]
    if len(set(names)) < len(names):
        raise ConfigError(f"hub_tasks.sources: two sources share a name ({names}); give each its own name")


RELEASED_FOLDERS = ("task_sol_pairs", "weaker_sampling", "paraphrase", "test_data")


def released_local_files(config: dict) -> list[str]:
    """The files of the released data's local copy that the import reads (none without one, or
    without released pairs): its inputs, so that editing one reruns the import."""
    released = config.get("released") or {}
    if config["backends"].get("pairs_source") != "released" or not released.get("local_dir"):
        return []
    root = Path(released["local_dir"])

    def files(folder: str, subfolders) -> list[Path]:
        bases = [root / folder] if subfolders is None else [root / folder / sub for sub in subfolders]
        return [p for base in bases if base.is_dir() for p in base.rglob("*") if p.suffix in (".json", ".jsonl")]

    found = files("task_sol_pairs", released["pair_pools"])
    found += files("weaker_sampling", list(released["weaker_sampling"].values()))
    found += files("paraphrase", released["paraphrase_pools"])
    found += [root / "test_data" / name for name in released["test_data"].values()]
    return sorted({str(p) for p in found if p.is_file()})


def _check_released(config: dict) -> None:
    """Released pairs cover the pairs teacher's hard tasks and subtasks and the weaker teachers'
    hard tasks only: every set must be one of those; the local copy must be there."""
    backends = config["backends"]
    released_sources = [k for k in ("task_source", "paraphraser") if backends.get(k) == "released"]
    if backends["pairs_source"] != "released":
        if released_sources:
            raise ConfigError(f"backends.{released_sources[0]}: 'released' needs backends.pairs_source 'released'")
        return
    released = config["released"]
    main, weaker = released["pairs_teacher"], released["weaker_sampling"]
    for teacher in (main, *weaker):
        if teacher not in config["teachers"]:
            raise ConfigError(f"released: teacher {teacher!r} is not among teachers {sorted(config['teachers'])}")
    if main in weaker:
        raise ConfigError(f"released.weaker_sampling.{main}: the pairs teacher's pairs come from task_sol_pairs")
    for name, spec in set_specs(config).items():
        if spec["type"] != "error_rate":
            continue
        if spec["teacher"] != main and (spec["kind"] != "hard" or spec["teacher"] not in weaker):
            raise ConfigError(
                f"sets: set {name!r} needs {spec['kind']} pairs of teacher {spec['teacher']!r}, which the released "
                f"data do not give (task_sol_pairs: hard and subtask pairs of released.pairs_teacher {main!r}; "
                f"weaker_sampling: hard pairs of the teachers in released.weaker_sampling {sorted(weaker)})"
            )
    local = released.get("local_dir")
    if local:
        if not Path(local).is_dir():
            raise ConfigError(
                f"released.local_dir: no directory {local!r} (a copy laid out like {released['dataset']})"
            )
        for bench, name in released["test_data"].items():
            if not (Path(local) / "test_data" / name).is_file():
                raise ConfigError(f"released.test_data.{bench}: no file {name!r} in {local}/test_data")


def _check_cost(config: dict) -> None:
    """Refuses to start when the estimate is above ``cost.limit_usd`` or cannot be priced."""
    limit = config["cost"]["limit_usd"]
    if limit is None:
        return
    calls = estimated_calls(config)
    prices = cost.price_table(config["cost"])
    if unpriced := cost.unpriced_models(calls, prices):
        raise ConfigError(f"cost.prices: no price for model(s) {unpriced}, so the spending limit cannot be checked")
    total = cost.total_usd(calls, prices)
    if total > limit:
        raise ConfigError(
            f"cost.limit_usd: the dry-run estimate is ${total:,.2f} "
            f"({sum(c.requests for c in calls):,} requests), above the limit of ${limit:,.2f} "
            "(see `guiding estimate --configfile ...` for the estimate per role)"
        )


def check_config(config: dict) -> None:
    """Checks across fields, after schema validation; raises ConfigError naming the key."""
    teachers = config["teachers"]
    sets = config["sets"]
    sweep = sets["error_rate_sweep"]
    # Value kinds first: the checks below compute with recipe values.
    for stage in RECIPE_STAGES:
        _check_recipe(f"training.{stage}", config["training"][stage])
    for name, run in config.get("extra_runs", {}).items():
        _check_recipe(f"extra_runs.{name}.recipe_overrides", run.get("recipe_overrides", {}))
    if sweep["teacher"] not in teachers:
        raise ConfigError(
            f"sets.error_rate_sweep.teacher: {sweep['teacher']!r} is not among teachers {sorted(teachers)}"
        )
    for t in sets["teacher_comparison"]["teachers"]:
        if t not in teachers:
            raise ConfigError(f"sets.teacher_comparison.teachers: {t!r} is not among teachers {sorted(teachers)}")
    for combo, parts in sets["combinations"].items():
        for i, part in enumerate(parts):
            if part.get("teacher", sweep["teacher"]) not in teachers:
                raise ConfigError(f"sets.combinations.{combo}[{i}].teacher: {part['teacher']!r} is not a teacher")
    if config["backends"]["task_source"] == WORLD_SOURCE:
        _check_world(config)
    _check_teachers(config)
    most_subtasks = sets["hard_size"] * 3  # a hard task has at most 3 subtasks
    if sets["subtask_size"] > most_subtasks:
        raise ConfigError(
            f"sets.subtask_size: {sets['subtask_size']} subtasks per set, but {sets['hard_size']} hard tasks "
            f"(sets.hard_size) have at most {most_subtasks}"
        )
    _check_whole_counts(config)
    _check_compute(config)
    _check_student(config)
    _check_benchmarks(config)
    _check_llm(config)
    _check_conversions(config)
    _check_hub_tasks(config)
    _check_released(config)
    _check_cost(config)
    specs = set_specs(config)
    for name, run in config.get("extra_runs", {}).items():
        if run["set"] not in specs:
            raise ConfigError(f"extra_runs.{name}.set: {run['set']!r} is not a set this config builds")
        if "seed" in run.get("recipe_overrides", {}):
            raise ConfigError(
                f"extra_runs.{name}.recipe_overrides.seed: stage-2 training seeds are replicates.seeds, for every run"
            )
    _check_replicate_seeds(config)
    _check_evaluation_seeds(config)
    stage2_runs(config)


def _check_world(config: dict) -> None:
    """The synthetic world's settings (task source world only)."""
    if "world" not in config:
        raise ConfigError("world: backends.task_source world needs the world section (seed, sizes)")
    sets = config["sets"]
    world = config["world"]
    for key in ("easy_steps", "hard_steps", "distractor_steps"):
        lo, hi = world[key]
        if lo > hi:
            raise ConfigError(f"world.{key}: the minimum {lo} is above the maximum {hi}")
    easy_max, hard_min = world["easy_steps"][1], world["hard_steps"][0]
    left_out = [op for op in OPERATIONS if op not in world["easy_ops"]]
    if hard_min <= easy_max and not left_out:
        # The paper's first condition: hard tasks are strictly more complex than stage 1's easy ones.
        raise ConfigError(
            f"world.hard_steps: a hard task of {hard_min} steps is no harder than an easy task of "
            f"world.easy_steps={world['easy_steps']}: it needs nothing stage 1 lacks; make the hard tasks "
            f"longer, or leave an operation out of world.easy_ops={world['easy_ops']}"
        )
    decomposition = config["decomposition"]
    # The shortest hard task must be able to keep a subtask: min_steps long, not a near-duplicate.
    shortest = world["hard_steps"][0]
    if decomposition["min_steps"] >= decomposition["max_fraction"] * shortest:
        raise ConfigError(
            f"world.hard_steps: a hard task of {shortest} steps has no subtask of at least "
            f"decomposition.min_steps={decomposition['min_steps']} steps that covers less than "
            f"decomposition.max_fraction={decomposition['max_fraction']} of it"
        )
    if sets["hard_size"] > world["sizes"]["train_hard"]:
        raise ConfigError(
            f"sets.hard_size: {sets['hard_size']} hard tasks per set, but the pool holds only "
            f"world.sizes.train_hard={world['sizes']['train_hard']}"
        )


# Teacher backends and endpoints where the synthetic world answers: their teachers need its errors.
SIMULATED_BACKENDS = ("simulated",)


def _check_teachers(config: dict) -> None:
    """A teacher that the synthetic world plays needs its per-step error and error style."""
    if config["backends"]["pairs_source"] == "released":
        return  # no teacher is asked: the released data hold their answers
    backend = config["backends"]["teacher"]
    for name, teacher in config["teachers"].items():
        if backend == "llm":
            endpoint = teacher.get("endpoint", config["llm"]["roles"]["teacher"]["endpoint"])
            simulated = config["llm"]["endpoints"].get(endpoint, {}).get("backend") in SIMULATED_BACKENDS
        else:
            simulated = backend in SIMULATED_BACKENDS
        if simulated and (missing := [k for k in ("step_error", "error_style") if k not in teacher]):
            raise ConfigError(f"teachers.{name}.{missing[0]}: needed by a teacher that the simulated world plays")


# Backends that generate with a model on the job's own machine: their jobs go to compute nodes.
LOCAL_MODEL_BACKENDS = frozenset({"transformers", "vllm"})
# The llm.roles entry of a seam whose name differs from its role's.
LLM_ROLE_OF = {"step_judge_check": "step_judge"}
# Roles with no implementation but an LLM (no backends key): they ask llm.roles.<role> where used.
LLM_ONLY_ROLES = (CONVERTER,)


def runs_on_head_node(config: dict, *roles: str) -> bool:
    """Whether a job of these roles is a `localrule` under a cluster executor: compute nodes get the
    work that wants their GPUs (generation by a local model; training is never local); the head node
    gets calls to remote APIs and downloads (compute nodes are often offline) and bookkeeping of
    seconds. An llm role runs where its endpoint's backend does (its llm.roles endpoint)."""
    return all(_role_backend(config, role) not in LOCAL_MODEL_BACKENDS for role in roles)


def _role_backend(config: dict, role: str) -> str:
    if role in LLM_ONLY_ROLES:  # no backends switch: an LLM role where configured, else nothing to run
        if role not in config["llm"]["roles"]:
            return "none"
        backend = "llm"
    else:
        backend = config["backends"][role]
    if backend == "llm":
        endpoint = config["llm"]["roles"][LLM_ROLE_OF.get(role, role)]["endpoint"]
        backend = config["llm"]["endpoints"][endpoint]["backend"]
    return backend


def _check_llm(config: dict) -> None:
    """Every role and teacher names an endpoint that exists; endpoints have what their backend needs;
    the cache lies outside the rules' outputs."""
    llm = config["llm"]
    endpoints = llm["endpoints"]
    for role, spec in llm["roles"].items():
        if spec["endpoint"] not in endpoints:
            raise ConfigError(
                f"llm.roles.{role}.endpoint: {spec['endpoint']!r} is not among llm.endpoints {sorted(endpoints)}"
            )
    for name, teacher in config["teachers"].items():
        if "endpoint" in teacher and teacher["endpoint"] not in endpoints:
            raise ConfigError(
                f"teachers.{name}.endpoint: {teacher['endpoint']!r} is not among llm.endpoints {sorted(endpoints)}"
            )
    for name, endpoint in endpoints.items():
        if endpoint["backend"] == "openai" and "base_url" not in endpoint:
            raise ConfigError(f"llm.endpoints.{name}.base_url: an openai endpoint needs the server's base URL")
        if endpoint["backend"] != "openai" and ("base_url" in endpoint or "api_key_env" in endpoint):
            raise ConfigError(f"llm.endpoints.{name}: base_url and api_key_env are for openai endpoints only")
        if endpoint.get("structured_outputs", "none") != "none" and endpoint["backend"] not in ("openai", "simulated"):
            raise ConfigError(
                f"llm.endpoints.{name}.structured_outputs: JSON-schema outputs are sent to openai and simulated "
                f"endpoints only, not {endpoint['backend']!r} (set none)"
            )
    check_endpoint_settings(endpoints, LLM_BACKENDS)
    if PurePosixPath(llm["cache"]).parts[:1] == ("results",):
        raise ConfigError(f"llm.cache: {llm['cache']!r} lies under results/, among the rules' outputs; put it outside")


def used_endpoints(config: dict) -> dict[str, str]:
    """Endpoint -> a role that asks it, over the roles this config sends to an LLM (a teacher's own
    endpoint for the teacher and the rewriter)."""
    models, _, _ = llm_role_settings(config)
    roles = config["llm"]["roles"]
    used: dict[str, str] = {}
    for role in models:
        used.setdefault(roles[role]["endpoint"], f"llm.roles.{role}")
        if role in TEACHERS_OWN_MODEL:
            for name, teacher in config["teachers"].items():
                if "endpoint" in teacher:
                    used.setdefault(teacher["endpoint"], f"teachers.{name} ({role})")
    return used


def check_keys(config: dict, environ=os.environ) -> None:
    """The API key variables of the endpoints this run asks are set (not in a replay); run at the
    run's start, before any job (a dry run needs no key)."""
    check_api_keys(config, used_endpoints(config), environ)


def _check_replicate_seeds(config: dict) -> None:
    """A stage-2 recipe's own seed is replaced by each replicate seed: one outside the list would
    look like a setting while changing nothing, so it is refused."""
    recipe_seed, seeds = config["training"]["stage2"].get("seed"), replicate_seeds(config)
    if recipe_seed is not None and recipe_seed not in seeds:
        raise ConfigError(
            f"training.stage2.seed: {recipe_seed} is replaced by each of replicates.seeds {seeds}; "
            "set stage 2's training seeds there (or drop the recipe's seed)"
        )


def sampled_decoding(config: dict) -> bool:
    """Whether the students' answers are sampled (temperature above 0) rather than greedy."""
    return config["evaluation"]["temperature"] > 0


def evaluation_seeds(config: dict) -> list[int]:
    """Seeds of sampled decoding: every model is evaluated once per seed (greedy decoding: one run, no seed)."""
    return list(config["evaluation"]["seeds"]) if sampled_decoding(config) else []


def _check_evaluation_seeds(config: dict) -> None:
    """Greedy decoding gives the same answers at every seed: several seeds would repeat one evaluation."""
    seeds = config["evaluation"]["seeds"]
    if len(seeds) > 1 and not sampled_decoding(config):
        raise ConfigError(
            f"evaluation.seeds: {len(seeds)} seeds {seeds} with greedy decoding (evaluation.temperature 0), "
            "which answers the same at every seed; give one seed or a temperature above 0"
        )


def canonical(value):
    """``value`` with every dict's keys sorted, recursively.

    Snakemake's params trigger compares the printed params, so a dict reordered by an editor
    (or by yaml.safe_dump) would look changed; sorting keeps reruns to real changes.
    """
    if isinstance(value, dict):
        return {k: canonical(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


def layered_config_files(paths, root: str | os.PathLike) -> list:
    """The config files in the order Snakemake reads them from this workflow: ``paths`` alone when
    one names its ``mode`` (a whole study), else the embedded default with ``paths`` layered on it."""
    paths = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    if any("mode" in (yaml.safe_load(Path(path).read_text()) or {}) for path in paths):
        return paths
    return [Path(root) / "config" / "config.yaml", *paths]


def load_config(paths, root: str | os.PathLike, check: bool = True) -> dict:
    """The config file(s) at ``paths`` (one path or several, merged key by key in order, as Snakemake
    merges --configfile; layered on the embedded default where none names its mode) as the workflow
    sees them: recipes read, schema defaults filled and, with ``check``, the cross-field checks
    passed (for tools that run outside Snakemake)."""
    from snakemake.utils import update_config, validate

    config: dict = {}
    for path in layered_config_files(paths, root):
        update_config(config, yaml.safe_load(Path(path).read_text()) or {})
    load_recipes(config, root)
    validate(config, str(Path(root) / "config" / "schema.yaml"), set_default=True)
    if check:
        check_config(config)
    return config
