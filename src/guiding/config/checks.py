"""Cross-field checks that a JSON schema cannot express.

``check_config`` runs in ``rules/common.smk`` after schema validation, before any job: every
refusal that the config alone decides is raised here, naming the key.
"""

from __future__ import annotations

import math
import os
from pathlib import Path, PurePosixPath

from ..artifacts import CONVERTER, OPERATIONS, SPLITS, WORLD_SOURCE
from ..config_values import (
    ConfigError,
    check_api_keys,
    check_architecture,
    check_endpoint_settings,
    check_recipe,
    sft_config_specs,
)
from ..design import RECIPE_STAGES, replicate_seeds, sampled_decoding, set_specs, stage2_runs
from ..estimate_inputs import converted_benchmarks, estimated_calls, llm_role_settings
from ..implementations import SIMULATED_BACKENDS, TEACHERS_OWN_MODEL
from ..llm import cost
from ..llm.backends import BACKENDS as LLM_BACKENDS

# The student keys each base implementation takes (required, optional).
STUDENT_KEYS = {"tiny": ({"vocab_size", "architecture"}, {"seed"}), "pretrained": ({"model"}, {"dtype"})}


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


def _check_student(config: dict) -> None:
    implementation = config["backends"]["student_base"]
    required, optional = STUDENT_KEYS[implementation]
    given = set(config["student"])
    if missing := sorted(required - given):
        raise ConfigError(f"student.{missing[0]}: needed by backends.student_base {implementation!r}")
    if extra := sorted(given - required - optional):
        raise ConfigError(f"student.{extra[0]}: not a setting of backends.student_base {implementation!r}")
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


def _check_teachers(config: dict) -> None:
    """A teacher that the synthetic world plays needs its per-step error and error style."""
    if config["backends"]["pairs_source"] == "released":
        return  # no teacher is asked: the released data hold their answers
    implementation = config["backends"]["teacher"]
    for name, teacher in config["teachers"].items():
        if implementation == "llm":
            endpoint = teacher.get("endpoint", config["llm"]["roles"]["teacher"]["endpoint"])
            simulated = config["llm"]["endpoints"].get(endpoint, {}).get("backend") in SIMULATED_BACKENDS
        else:
            simulated = implementation in SIMULATED_BACKENDS
        if simulated and (missing := [k for k in ("step_error", "error_style") if k not in teacher]):
            raise ConfigError(f"teachers.{name}.{missing[0]}: needed by a teacher that the simulated world plays")


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


def _check_evaluation_seeds(config: dict) -> None:
    """Greedy decoding gives the same answers at every seed: several seeds would repeat one evaluation."""
    seeds = config["evaluation"]["seeds"]
    if len(seeds) > 1 and not sampled_decoding(config):
        raise ConfigError(
            f"evaluation.seeds: {len(seeds)} seeds {seeds} with greedy decoding (evaluation.temperature 0), "
            "which answers the same at every seed; give one seed or a temperature above 0"
        )
