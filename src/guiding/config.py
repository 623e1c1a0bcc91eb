"""What the workflow derives from its config: the sets to build, the training runs, and the
cross-field checks that a JSON schema cannot express."""

from __future__ import annotations

KINDS = ("hard", "subtask")


class ConfigError(ValueError):
    """A config that names something that does not exist or cannot be built."""


def error_rate_set_name(kind: str, teacher: str, error_rate: int) -> str:
    return f"{kind}-{teacher}-er{error_rate}"


def _part_name(part: dict, teacher: str) -> str:
    name = error_rate_set_name(part["kind"], part.get("teacher", teacher), part["error_rate"])
    return f"para-{name}" if part.get("paraphrase") else name


def set_specs(config: dict) -> dict[str, dict]:
    """Every supervision set the config asks for, by name (names are the set files' stems)."""
    sets = config["sets"]
    sweep = sets["error_rate_sweep"]
    specs: dict[str, dict] = {}

    def add_error_rate_set(kind, teacher, rate):
        specs[error_rate_set_name(kind, teacher, rate)] = {
            "type": "error_rate", "kind": kind, "teacher": teacher, "error_rate": rate}

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
                specs[name] = {"type": "paraphrase", "base": name.removeprefix("para-")}
            names.append(name)
        specs[f"combo-{combo}"] = {"type": "combination", "parts": names}
    return specs


def studied_sets(config: dict) -> list[str]:
    """Sets that get a stage-2 run of their own (parts built only for a combination do not)."""
    sets = config["sets"]
    sweep, comparison = sets["error_rate_sweep"], sets["teacher_comparison"]
    names = [error_rate_set_name(k, sweep["teacher"], r) for r in sweep["error_rates"] for k in KINDS]
    names += [error_rate_set_name("hard", t, comparison["error_rate"]) for t in comparison["teachers"]]
    names += [f"combo-{c}" for c in sets["combinations"]]
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


def stage2_examples(config: dict, run: str) -> int:
    """Examples stage-2 run ``run`` trains on (set size x epochs), to start the longest runs first."""
    specs, sets = set_specs(config), config["sets"]

    def size(name: str) -> int:
        spec = specs[name]
        if spec["type"] == "combination":
            return sum(size(part) for part in spec["parts"])
        if spec["type"] == "paraphrase":
            return size(spec["base"])
        return sets["hard_size"] if spec["kind"] == "hard" else sets["subtask_size"]

    spec = stage2_runs(config)[run]
    return round(size(spec["set"]) * spec["recipe"]["num_train_epochs"])


def check_config(config: dict) -> None:
    """Checks across fields, after schema validation; raises ConfigError naming the key."""
    teachers = config["teachers"]
    sets = config["sets"]
    sweep = sets["error_rate_sweep"]
    if sweep["teacher"] not in teachers:
        raise ConfigError(f"sets.error_rate_sweep.teacher: {sweep['teacher']!r} is not among teachers {sorted(teachers)}")
    for t in sets["teacher_comparison"]["teachers"]:
        if t not in teachers:
            raise ConfigError(f"sets.teacher_comparison.teachers: {t!r} is not among teachers {sorted(teachers)}")
    for combo, parts in sets["combinations"].items():
        for i, part in enumerate(parts):
            if part.get("teacher", sweep["teacher"]) not in teachers:
                raise ConfigError(f"sets.combinations.{combo}[{i}].teacher: {part['teacher']!r} is not a teacher")
    world = config["world"]
    for key in ("easy_steps", "hard_steps", "distractor_steps"):
        lo, hi = world[key]
        if lo > hi:
            raise ConfigError(f"world.{key}: the minimum {lo} is above the maximum {hi}")
    decomposition = config["decomposition"]
    # The shortest hard task must be able to keep a subtask: min_steps long, not a near-duplicate.
    shortest = world["hard_steps"][0]
    if decomposition["min_steps"] >= decomposition["max_fraction"] * shortest:
        raise ConfigError(
            f"world.hard_steps: a hard task of {shortest} steps has no subtask of at least "
            f"decomposition.min_steps={decomposition['min_steps']} steps that covers less than "
            f"decomposition.max_fraction={decomposition['max_fraction']} of it")
    specs = set_specs(config)
    for name, run in config.get("extra_runs", {}).items():
        if run["set"] not in specs:
            raise ConfigError(f"extra_runs.{name}.set: {run['set']!r} is not a set this config builds")
    stage2_runs(config)


def subtask_parts(n_steps: int, decomposition: dict) -> int:
    """Number of subtasks for a hard task, picked by its length as the paper picks it by solution length."""
    return 2 if n_steps <= decomposition["two_parts_up_to"] else 3


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
