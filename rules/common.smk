# Config validation and input functions shared by every rule file.
import os
import sys

from snakemake.utils import min_version, validate

min_version("9.0")

# The study's logic lives in the guiding package under src/; scripts import it from there,
# also inside per-rule conda envs (which install only third-party packages).
SRC = os.path.join(workflow.basedir, "src")
sys.path.insert(0, SRC)
os.environ.update(PYTHONPATH=SRC)  # set, not read: no envvars assertion needed

import guiding.artifacts as A  # noqa: E402  every path and name of the study
from guiding.config import (  # noqa: E402
    LLM_ROLE_OF,
    runs_on_head_node,
    canonical,
    check_config,
    check_keys,
    converted_benchmarks,
    evaluated_models,
    evaluation_seeds,
    findings_runs,
    load_recipes,
    released_local_files,
    replicate_seeds,
    sampled_decoding,
    set_specs,
    stage2_examples,
    stage1_recipe as seeded_stage1_recipe,
    stage2_recipe as seeded_recipe,
    stage2_runs,
)

load_recipes(config, workflow.basedir)  # recipes given as files become their fields
validate(config, schema="../config/schema.yaml", set_default=True)
check_config(config)


# API keys are read by jobs only: a dry run plans without them; a run refuses before its first job.
onstart:
    check_keys(config)


SETS = set_specs(config)
RUNS = stage2_runs(config)
# Models that get evaluated, each with its training seeds: the stage-1 baseline and every
# stage-2 run, all at every replicate seed.
MODELS = evaluated_models(config)
SEEDS = replicate_seeds(config)
TEACHERS = sorted(config["teachers"])
BENCHMARKS = list(config["evaluation"]["benchmarks"])
# Benchmarks that the converter role converts before they are asked.
CONVERTED = converted_benchmarks(config)
BACKENDS = config["backends"]
# Pairs from the authors' released data (rule import_released), not from the teachers here.
RELEASED = BACKENDS["pairs_source"] == "released"
# The config sections each table's provenance records (what its inputs were built with).
DATA_SECTIONS = [
    "mode",
    "backends",
    "world",
    "decomposition",
    "teachers",
    "sampling",
    "llm",
    "sets",
]
TEACHER_SECTIONS = [
    "mode",
    "backends",
    "world",
    "decomposition",
    "teachers",
    "sampling",
    "llm",
]
RESULT_SECTIONS = [
    *DATA_SECTIONS,
    "student",
    "training",
    "extra_runs",
    "replicates",
    "evaluation",
]


wildcard_constraints:
    teacher="[A-Za-z0-9]+",
    kind="|".join(A.KINDS),
    error_rate=r"\d+",
    split="|".join(A.SPLITS),
    bench="|".join(BENCHMARKS),
    model=f"{A.BASELINE}|{A.STAGE2_PREFIX}[^/]+",
    seed=r"\d+",


# Where a job runs under a cluster executor (profiles/slurm): see guiding.config.runs_on_head_node.
def on_head_node(*roles):
    return runs_on_head_node(config, *roles)


# Of the llm section only what changes answers: the cache, replay and client settings do not.
LLM_ANSWER_KEYS = ("endpoints", "roles")


def config_subset(*sections):
    """Canonical copy of some config sections, for params and provenance records (a section the
    config does not have, such as paper mode's world, is left out)."""
    subset = {section: config[section] for section in sections if section in config}
    if "llm" in subset:
        subset["llm"] = {k: config["llm"][k] for k in LLM_ANSWER_KEYS}
    return canonical(subset)


def task_source_settings():
    """The config section of the task source: the world's, or hub_tasks (sources and pre-filters)."""
    if BACKENDS["task_source"] == "released":
        return {"pairs": released_hard_pairs()}
    section = {"world": "world", "hub": "hub_tasks"}[BACKENDS["task_source"]]
    return canonical(config[section])


def released_hard_pairs():
    """The imported released hard pairs: the released task source's pool."""
    return A.fill(A.PAIRS, teacher=config["released"]["pairs_teacher"], kind="hard")


def released_outputs():
    """The files that import_released writes: the pairs teacher's hard and subtask pairs, each weaker
    teacher's hard samples, judged samples and pairs, the paraphrases, the benchmarks, a report.
    """
    released = config["released"]
    keys = [(released["pairs_teacher"], kind) for kind in A.KINDS]
    keys += [(teacher, "hard") for teacher in sorted(released["weaker_sampling"])]
    weaker = sorted(released["weaker_sampling"])
    return {
        "pairs": [A.fill(A.PAIRS, teacher=t, kind=k) for t, k in keys],
        "pair_stats": [A.fill(A.PAIR_STATS, teacher=t, kind=k) for t, k in keys],
        "samples": [A.fill(A.SAMPLES, teacher=t, kind="hard") for t in weaker],
        "judged": [A.fill(A.JUDGED, teacher=t, kind="hard") for t in weaker],
        "paraphrases": A.RELEASED_PARAPHRASES,
        "test_sets": [A.fill(A.RELEASED_TEST, bench=b) for b in released["test_data"]],
        "report": A.RELEASED_REPORT,
    }


def task_source_files(wildcards):
    """The hub source's local files, as inputs: editing one regenerates the tasks (a hub dataset
    is read by the job)."""
    if BACKENDS["task_source"] == "released":
        return {"source_files": [released_hard_pairs()]}
    if BACKENDS["task_source"] != "hub":
        return {}
    sources = config["hub_tasks"]["sources"]
    local = [
        s["source"]
        for s in sources
        if os.path.splitext(s["source"])[1] in A.LOCAL_DATA_SUFFIXES
    ]
    return {"source_files": local} if local else {}


def tasks_of_kind(wildcards):
    """Tasks a teacher solves: the hard pool or the filtered subtasks."""
    if wildcards.kind == "hard":
        return A.fill(A.TASKS, split="train_hard")
    return A.FILTERED_SUBTASKS


def llm_role(role, model=None, endpoint=None, world=None):
    """What a role's LLM answers depend on (guiding.llm.roles.RoleSpec): its endpoint's backend and
    settings, the model and the sampling. ``world`` holds what the in-process simulated endpoint
    needs to answer this role (the teachers' errors, the decomposition's settings); the cache path
    and client settings change no answer and stay out (run_step hands them to the job).
    """
    spec = config["llm"]["roles"][role]
    name = endpoint or spec["endpoint"]
    where = config["llm"]["endpoints"][name]
    settings = dict(where["settings"])
    for key in ("base_url", "api_key_env"):
        if key in where:
            settings[key] = where[key]
    if where["backend"] == "simulated":
        settings.update(world or {})
    sampling = {k: spec[k] for k in ("temperature", "top_p", "max_tokens") if k in spec}
    # Only when set, so that the params (and reruns) of free-text roles stay as they were.
    reading = {}
    if where.get("structured_outputs", "none") != "none":
        reading["structured_outputs"] = where["structured_outputs"]
    if spec.get("allow_truncated", False):
        reading["allow_truncated"] = True
    return canonical(
        {
            "backend": where["backend"],
            "endpoint": name,
            "model": model or spec["model"],
            "settings": settings,
            **sampling,
            **reading,
        }
    )


def simulated_teachers(*names):
    """The simulated world's teachers by name: what makes their answers (not ``stands_for``)."""
    return {
        name: {
            k: config["teachers"][name][k]
            for k in ("step_error", "error_style", "error_ops")
            if k in config["teachers"][name]
        }
        for name in names
    }


def teacher_settings(wildcards):
    """A teacher's settings that change its samples (``stands_for`` is a note for readers)."""
    teacher = config["teachers"][wildcards.teacher]
    if BACKENDS["teacher"] == "llm":
        model = teacher.get("model", wildcards.teacher)
        world = {"teachers": simulated_teachers(wildcards.teacher)}
        return {"llm": llm_role("teacher", model, teacher.get("endpoint"), world)}
    return canonical(simulated_teachers(wildcards.teacher)[wildcards.teacher])


def rewriter_settings(wildcards):
    """The teacher that rewrites a reference where no sample is correct (None: the reference as it is)."""
    if BACKENDS["rewriter"] == "none":
        return None
    teacher = config["teachers"][wildcards.teacher]
    model = teacher.get("model", wildcards.teacher)
    world = {"teachers": simulated_teachers(wildcards.teacher)}
    llm = llm_role("rewriter", model, teacher.get("endpoint"), world)
    return {
        "backend": BACKENDS["rewriter"],
        "settings": {"llm": llm, "seed": config["sampling"]["seed"]},
    }


def decomposition_settings():
    """What changes the subtasks: the split rule and seed, and how subtasks are stated."""
    decomposition = config["decomposition"]
    settings = {
        "two_parts_up_to": decomposition["two_parts_up_to"],
        "seed": decomposition["seed"],
    }
    # Subtasks are stated like the world's tasks (shuffled or not).
    shuffle = config.get("world", {}).get("shuffle_definitions", False)
    if BACKENDS["decomposer"] == "llm":
        return {**settings, "llm": llm_role("decomposer", world={"shuffle": shuffle})}
    return {**settings, "shuffle": shuffle}


def subtask_filter_settings():
    """What changes the filters' verdicts."""
    decomposition = config["decomposition"]
    if BACKENDS["subtask_filter"] == "llm":
        world = {"near_duplicate_fraction": decomposition["max_fraction"]}
        return {
            "min_steps": decomposition["min_steps"],
            "llm": llm_role("subtask_filter", world=world),
        }
    return {k: decomposition[k] for k in ("min_steps", "max_fraction")}


def second_opinions():
    """The final-result judge and the second step judge stored beside the verdicts, where configured."""
    out = {}
    for role in ("final_judge", "step_judge_check"):
        backend = BACKENDS[role]
        if backend == "none":
            continue
        settings = (
            {"llm": llm_role(LLM_ROLE_OF.get(role, role), world=judge_noise(role))}
            if backend == "llm"
            else {}
        )
        out[role] = {"backend": backend, "settings": settings}
    return canonical(out)


def judge_noise(role):
    """What the simulated endpoint's judge of ``role`` gets wrong on purpose (llm.simulated_judges):
    its per-verdict flip probability, passed only when not 0, so a noiseless judge keeps its keys.
    """
    flip = config["llm"]["simulated_judges"][role]
    return {f"{LLM_ROLE_OF.get(role, role)}_flip": flip} if flip else {}


def paraphraser_settings():
    if BACKENDS["paraphraser"] == "llm":
        return {"llm": llm_role("paraphraser")}
    return {}


def paraphrase_set_inputs(wildcards):
    """The base set; the released paraphraser also reads the imported paraphrases."""
    inputs = {"base_set": A.fill(A.SET, name=wildcards.base)}
    if BACKENDS["paraphraser"] == "released":
        inputs["released_paraphrases"] = A.RELEASED_PARAPHRASES
    return inputs


def error_rate_set_inputs(wildcards):
    """A subtask set also needs the teacher's hard pairs: it holds the subtasks of the same hard tasks."""
    inputs = {"pairs": A.fill(A.PAIRS, teacher=wildcards.teacher, kind=wildcards.kind)}
    if wildcards.kind == "subtask":
        inputs["hard_pairs"] = A.fill(A.PAIRS, teacher=wildcards.teacher, kind="hard")
    return inputs


def error_rate_set_sizes(wildcards):
    """The sizes a set depends on: a subtask set is drawn from the subtasks of the selected hard tasks."""
    sizes = {"hard_size": config["sets"]["hard_size"]}
    if wildcards.kind == "subtask":
        sizes["subtask_size"] = config["sets"]["subtask_size"]
    return sizes


def combination_parts(wildcards):
    return [
        A.fill(A.SET, name=part)
        for part in SETS[A.combination_name(wildcards.name)]["parts"]
    ]


def set_files():
    return expand(A.SET, name=sorted(SETS))


def set_stats_files():
    return expand(A.SET_STATS, name=sorted(SETS))


def data_tables():
    """The data tables; with released pairs only the sets' (the teachers and judge agreement
    tables measure the pipeline's own samples of every teacher and kind, which it has not made).
    """
    tables = ["data_sets"] if RELEASED else A.DATA_TABLES
    return expand(A.TABLE, table=tables, ext=A.TABLE_FORMATS)


def llm_request_manifests():
    """The request manifests (A.LLM_REQUESTS) of every job of this config that may ask a model
    anything: the cost table's inputs (a job whose role is not llm writes an empty one).
    """
    per_teacher = [
        f"{rule}-{teacher}-{kind}"
        for rule in ("sample_solutions", "judge_solutions", "make_pairs")
        for teacher in TEACHERS
        for kind in A.KINDS
    ]
    # Released pairs: no task is decomposed, filtered, sampled or judged here.
    made_here = [] if RELEASED else ["decompose_tasks", "filter_subtasks", *per_teacher]
    paraphrased = [
        f"paraphrase_set-{name.removeprefix(A.PARAPHRASE_PREFIX)}"
        for name in sorted(SETS)
        if name.startswith(A.PARAPHRASE_PREFIX)
    ]
    converted = [f"convert_benchmark-{bench}" for bench in CONVERTED]
    jobs = [
        *made_here,
        *paraphrased,
        *converted,
    ]
    return expand(A.LLM_REQUESTS, job=jobs)


def response_cache_path():
    """The response cache (outside results/): the llm section's, else the default location."""
    return (config.get("llm") or {}).get("cache", ".cache/llm/responses.sqlite")


def cost_tables():
    """The cost table (all zeros where no job asks a model anything)."""
    return expand(A.TABLE, table=A.COST_TABLE, ext=A.TABLE_FORMATS)


def export_files():
    """Every set as TRL and LLaMA-Factory data, and LLaMA-Factory's dataset_info.json."""
    return [
        *expand(A.EXPORT_TRL, name=sorted(SETS)),
        *expand(A.EXPORT_LLAMAFACTORY, name=sorted(SETS)),
        A.EXPORT_LLAMAFACTORY_INFO,
    ]


def stage2_set(wildcards):
    return A.fill(A.SET, name=RUNS[wildcards.run]["set"])


def stage1_recipe(wildcards):
    """The stage-1 recipe at the replicate's seed."""
    return canonical(seeded_stage1_recipe(config, wildcards.seed))


def stage2_recipe(wildcards):
    """The stage-2 recipe with the run's overrides (e.g. more epochs), at the replicate's seed."""
    # A variance study may shift stage 2's seed away from stage 1's (bench/variance_study.py),
    # to tell the stage-1 draw from the stage-2 draw; the default adds 0.
    seed = int(wildcards.seed) + config["replicates"].get("stage2_seed_offset", 0)
    return canonical(seeded_recipe(RUNS, wildcards.run, seed))


def stage2_priority(wildcards):
    """Longest runs first, so that no long run starts last while the other core idles."""
    return stage2_examples(config, wildcards.run)


# Every stage-1 replicate before any stage-2 run: each stage 1 is the longest job and holds up a
# whole seed's runs, so none should start last.
STAGE1_PRIORITY = 1 + max(stage2_examples(config, run) for run in RUNS)


def training_launcher(wildcards):
    """The accelerate config, an input of every training job when set (editing it reruns them)."""
    launcher = config["training"]["launcher"]
    return {"launcher": launcher} if launcher else {}


def stage1_world_tasks(wildcards):
    """The world's easy split, where stage 1's data come from the synthetic world."""
    sources = config["training"]["stage1_data"]["sources"]
    if any(s["source"] == A.WORLD_SOURCE for s in sources):
        return {"world_tasks": A.fill(A.TASKS, split="train_easy")}
    return {}


def benchmark_spec(wildcards):
    return canonical(config["evaluation"]["benchmarks"][wildcards.bench])


def benchmark_source(wildcards):
    """A world benchmark reads its split of the task source; a converted one its conversion's rows;
    a local file is an input too (editing it rebuilds the benchmark); a hub dataset is read by the job.
    """
    spec = config["evaluation"]["benchmarks"][wildcards.bench]
    if spec["source"] == A.WORLD_SOURCE:
        return {"tasks": A.fill(A.TASKS, split=wildcards.bench)}
    if spec.get("convert"):
        return {"source_file": A.fill(A.CONVERTED_BENCHMARK, bench=wildcards.bench)}
    return conversion_source(wildcards)


def conversion_source(wildcards):
    """The benchmark's source as an input where it is a local file."""
    source = config["evaluation"]["benchmarks"][wildcards.bench]["source"]
    if os.path.splitext(source)[1] in A.LOCAL_DATA_SUFFIXES:
        return {"source_file": source}
    return {}


# The source keys that change a conversion (not the label, the answer form or drop_if_contains,
# which prepare_benchmark applies to the converted rows).
CONVERSION_KEYS = (
    "source",
    "subset",
    "split",
    "where",
    "columns",
    "options",
    "convert",
    "limit",
)


def conversion_spec(wildcards):
    spec = config["evaluation"]["benchmarks"][wildcards.bench]
    return canonical({k: spec[k] for k in CONVERSION_KEYS if k in spec})


def generation_settings():
    """What changes a model's answers: decoding and batching (not the CI level of the tables)."""
    evaluation = config["evaluation"]
    settings = {
        "max_new_tokens": evaluation["max_new_tokens"],
        "batch_size": evaluation["batch_size"],
    }
    # Greedy decoding ignores the sampling settings: they stay out of its params. Sampled
    # decoding runs once per evaluation seed, all in one job (the model is loaded once).
    if sampled_decoding(config):
        settings.update({k: evaluation[k] for k in ("temperature", "top_p", "top_k")})
        settings["seeds"] = evaluation_seeds(config)
    return settings


def model_dir(wildcards):
    """The model to evaluate at its replicate's seed."""
    return A.model_dir(wildcards.model, wildcards.seed)


def graded_files(models=MODELS):
    """Graded predictions of ``models`` ({model: seeds}) on every benchmark, at each of their seeds."""
    return [
        A.fill(A.GRADED, model=model, seed=seed, bench=bench)
        for model, seeds in models.items()
        for seed in seeds
        for bench in BENCHMARKS
    ]


def findings_graded_files():
    """Graded predictions of the runs that the findings compare, at every replicate seed."""
    compared = {A.stage2_model(run): SEEDS for run in findings_runs(config)}
    return graded_files({A.BASELINE: SEEDS, **compared})


def findings_set_stats():
    """Statistics of the sets of the compared runs (the teachers' step-wise ER orders finding 2)."""
    sets = sorted({RUNS[run]["set"] for run in findings_runs(config)})
    return [A.fill(A.SET_STATS, name=name) for name in sets]


def result_files():
    return [
        *expand(A.TABLE, table=A.EXPERIMENTS, ext=A.TABLE_FORMATS),
        *expand(A.FIGURE, figure=A.EXPERIMENTS),
        *expand(A.TABLE, table=A.FINDINGS, ext=A.TABLE_FORMATS),
    ]
