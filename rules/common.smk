# Config validation and input functions shared by every rule file.
from snakemake.utils import min_version, validate

min_version("9.0")

# The guiding package is on the path (the Snakefile puts src/ there).
import guiding.artifacts as A  # noqa: E402  every path and name of the study
from guiding.report import (
    layout,
)  # noqa: E402  the tables and where the report shows them
from guiding.config import (  # noqa: E402
    canonical,
    check_config,
    check_keys,
    converted_benchmarks,
    evaluated_models,
    findings_runs,
    load_recipes,
    replicate_seeds,
    runs_on_head_node,
    set_specs,
    stage2_examples,
    stage2_runs,
)
from guiding.params import (  # noqa: E402  the rules' params, built from the config
    DATA_SECTIONS,
    RESULT_SECTIONS,
    TEACHER_SECTIONS,
    RuleParams,
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
# The params and input functions of the rules (guiding.params).
P = RuleParams(config)


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


def tasks_of_kind(wildcards):
    """Tasks a teacher solves: the hard pool or the filtered subtasks."""
    if wildcards.kind == "hard":
        return A.fill(A.TASKS, split="train_hard")
    return A.FILTERED_SUBTASKS


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
    tables = ["data_sets"] if RELEASED else list(layout.DATA_TABLES)
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


def table_outputs(table):
    """A table's outputs: the CSV (in the report, with report/<table>.rst as its caption), the
    Markdown and the provenance sidecar."""
    return {
        "csv": report(
            A.fill(A.TABLE, table=table, ext="csv"),
            caption=f"../report/{table}.rst",
            category=layout.category(table),
            labels=layout.labels(config, table),
        ),
        "md": A.fill(A.TABLE, table=table, ext="md"),
        "provenance_json": A.fill(A.TABLE, table=table, ext="provenance.json"),
    }


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
