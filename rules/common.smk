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

from guiding.config import (
    canonical,
    check_config,
    set_specs,
    stage2_examples,
    stage2_runs,
)  # noqa: E402

validate(config, schema="../config/schema.yaml", set_default=True)
check_config(config)

SETS = set_specs(config)
RUNS = stage2_runs(config)
# Models that get evaluated: the stage-1 baseline and one per stage-2 run.
MODELS = ["stage1", *(f"stage2-{run}" for run in RUNS)]
BENCHMARKS = ["eval_hard", "eval_easy"]
# The paper's three experiments: each gets a table and a figure.
EXPERIMENTS = ["error_rate_sweep", "teacher_comparison", "combinations"]
TEACHERS = sorted(config["teachers"])
KINDS = ["hard", "subtask"]
SPLITS = ["train_easy", "train_hard", "eval_easy", "eval_hard"]
# The config sections that the data artifacts depend on (recorded in their provenance).
DATA_SECTIONS = ["mode", "world", "decomposition", "teachers", "sampling", "sets"]


wildcard_constraints:
    teacher="[A-Za-z0-9]+",
    kind="hard|subtask",
    error_rate=r"\d+",
    split="|".join(SPLITS),
    bench="|".join(BENCHMARKS),
    model="stage1|stage2-[^/]+",


def config_subset(*sections):
    """Canonical copy of some config sections, for params and provenance records."""
    return canonical({section: config[section] for section in sections})


def tasks_of_kind(wildcards):
    """Tasks a teacher solves: the hard pool or the filtered subtasks."""
    if wildcards.kind == "hard":
        return "results/data/tasks/train_hard.jsonl"
    return "results/data/subtasks/filtered.jsonl"


def error_rate_set_inputs(wildcards):
    """A subtask set also needs the teacher's hard pairs: it holds the subtasks of the same hard tasks."""
    inputs = {"pairs": f"results/data/pairs/{wildcards.teacher}/{wildcards.kind}.jsonl"}
    if wildcards.kind == "subtask":
        inputs["hard_pairs"] = f"results/data/pairs/{wildcards.teacher}/hard.jsonl"
    return inputs


def combination_parts(wildcards):
    return {
        part: f"results/sets/{part}.jsonl"
        for part in SETS[f"combo-{wildcards.name}"]["parts"]
    }


def set_files():
    return expand("results/sets/{name}.jsonl", name=sorted(SETS))


def data_tables():
    return expand(
        "results/tables/{table}.{ext}",
        table=["data_sets", "teachers"],
        ext=["csv", "md", "provenance.json"],
    )


def stage2_set(wildcards):
    return f"results/sets/{RUNS[wildcards.run]['set']}.jsonl"


def stage2_recipe(wildcards):
    """The stage-2 recipe with the run's overrides (e.g. more epochs)."""
    return canonical(RUNS[wildcards.run]["recipe"])


def stage2_priority(wildcards):
    """Longest runs first, so that no long run starts last while the other core idles."""
    return stage2_examples(config, wildcards.run)


def model_dir(wildcards):
    if wildcards.model == "stage1":
        return "results/models/stage1"
    return f"results/models/stage2/{wildcards.model.removeprefix('stage2-')}"


def result_files():
    return [
        *expand(
            "results/tables/{table}.{ext}",
            table=EXPERIMENTS,
            ext=["csv", "md", "provenance.json"],
        ),
        *expand("results/figures/{figure}.png", figure=EXPERIMENTS),
    ]
