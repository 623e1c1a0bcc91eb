"""Every artifact's name and path, and the study's vocabulary, in one place.

`rules/common.smk` and the package both import this module, so a rule's output and the code
that reads it can never disagree about a path, a split or a prefix. Paths are Snakemake-style
templates (``{wildcard}``), relative to the working directory of the workflow.
"""

from __future__ import annotations

import re

# ---------------------------------------------------------------- vocabulary

SPLITS = ("train_easy", "train_hard", "eval_easy", "eval_hard")
KINDS = ("hard", "subtask")  # the two kinds of supervision: hard tasks and their subtasks
OPERATIONS = ("+", "-", "*")  # the synthetic world's operations (config world.easy_ops picks among them)
# The benchmarks come from config (evaluation.benchmarks); the embedded default's are the world's
# held-out splits eval_hard and eval_easy.
WORLD_SOURCE = "world"  # a benchmark source: a held-out split of the synthetic world
# How an LLM converts a benchmark before it is asked: multiple choice turned into open questions
# (JEE-Bench, SAT-Math), Chinese problems translated into English (Gaokao-Mathcloze).
CONVERSIONS = ("open_questions", "translate_en")
CONVERTER = "converter"  # the LLM role of the conversions (config llm.roles.converter)
BASELINE = "stage1"  # the model without stage 2: the baseline row of every result table
EXPERIMENTS = ("error_rate_sweep", "teacher_comparison", "combinations")  # the paper's three
FINDINGS = "findings"  # the paper's claims as comparisons fixed in advance, each with a verdict
COST_TABLE = "costs"  # requests, tokens and USD per role and teacher, from the response cache
TABLE_FORMATS = ("csv", "md", "provenance.json")

PARAPHRASE_PREFIX = "para-"
COMBINATION_PREFIX = "combo-"
STAGE2_PREFIX = "stage2-"

# ---------------------------------------------------------------- path templates

TASKS = "results/data/tasks/{split}.jsonl"
# Tasks per split and, for a source with pre-filters (hub), the records dropped by reason.
TASK_SOURCE_REPORT = "results/data/tasks/report.json"
DECOMPOSED_SUBTASKS = "results/data/subtasks/decomposed.jsonl"
DECOMPOSE_REPORT = "results/data/subtasks/decompose_report.json"  # tasks decomposed, answers dropped by reason
FILTERED_SUBTASKS = "results/data/subtasks/filtered.jsonl"
SUBTASK_FILTER_REPORT = "results/data/subtasks/filter_report.json"
SAMPLES = "results/data/samples/{teacher}/{kind}.jsonl"
SAMPLE_REPORT = "results/data/samples/{teacher}/{kind}.report.json"  # samples asked, written, dropped by reason
JUDGED = "results/data/judged/{teacher}/{kind}.jsonl"
PAIRS = "results/data/pairs/{teacher}/{kind}.jsonl"
PAIR_STATS = "results/data/pairs/{teacher}/{kind}.stats.json"
# The authors' released data (config released, backends.pairs_source released): the import's
# report (source, files with sha256, what was dropped by reason), the reworded hard-task pairs
# that the released paraphraser reads, and the released benchmarks as rows {problem, answer}.
RELEASED_REPORT = "results/data/released/report.json"
RELEASED_PARAPHRASES = "results/data/released/paraphrases.jsonl"
RELEASED_TEST = "results/data/released/test_data/{bench}.jsonl"
# A teacher's pairs and judged samples written in the authors' layout (on demand, not in `all`).
RELEASED_EXPORT_PAIRS = "results/exports/released/task_sol_pairs/{teacher}/pairs.json"
RELEASED_EXPORT_SAMPLES = "results/exports/released/weaker_sampling/{teacher}/samples.json"
SET = "results/sets/{name}.jsonl"
SET_STATS = "results/data/stats/{name}.json"
# Every set for other trainers: TRL prompt/completion JSONL; LLaMA-Factory alpaca JSON, whose
# folder holds the dataset_info.json that names every set's file and columns.
EXPORT_TRL = "results/exports/trl/{name}.jsonl"
EXPORT_LLAMAFACTORY = "results/exports/llamafactory/{name}.json"
EXPORT_LLAMAFACTORY_INFO = "results/exports/llamafactory/dataset_info.json"
# The keys of the requests that one job sent to a model ({job}: the job's own name, such as
# "samples/main/hard"): what the cost table reads from the response cache.
LLM_REQUESTS = "results/data/requests/{job}.jsonl"
# The output name under which a job that may ask a model declares its request manifest; run_step
# hands it to guiding.llm.roles (every `ask` of the job lists its keys there), not to the step.
REQUESTS_OUTPUT = "requests"
STAGE1_DATA = "results/data/stage1/train.jsonl"  # the easy problems of stage 1, decontaminated
STAGE1_DATA_REPORT = "results/data/stage1/report.json"  # items read, kept, removed per source
BASE_MODEL = "results/models/base"
# A replicate is the whole student pipeline (config replicates.seeds): each training seed trains
# its own stage 1, and every stage-2 run at that seed starts from it.
STAGE1_MODEL = "results/models/stage1/seed{seed}"
STAGE2_MODEL = "results/models/stage2/{run}/seed{seed}"
# Training checkpoints live outside the declared outputs, so a rerun resumes from them.
STAGE1_CHECKPOINTS = "results/checkpoints/stage1/seed{seed}"
STAGE2_CHECKPOINTS = "results/checkpoints/stage2/{run}/seed{seed}"
BENCHMARK = "results/data/benchmarks/{bench}.jsonl"  # rows {id, problem, answer, form}
BENCHMARK_REPORT = "results/data/benchmarks/{bench}.report.json"  # items kept, dropped by reason
# A benchmark that an LLM converts first (config evaluation.benchmarks.<name>.convert, one of
# CONVERSIONS): rows {problem, answer, source_index, how}, the source of its BENCHMARK file, and
# the items asked, kept and dropped by reason.
CONVERTED_BENCHMARK = "results/data/benchmarks/converted/{bench}.jsonl"
CONVERSION_REPORT = "results/data/benchmarks/converted/{bench}.report.json"
# An evaluated model is a model name and its replicate's training seed.
PREDICTIONS = "results/eval/{model}/seed{seed}/{bench}.predictions.jsonl"
GRADED = "results/eval/{model}/seed{seed}/{bench}.graded.jsonl"
# Sampled decoding answers every task once per evaluation seed (config evaluation.seeds), in the
# same files: with several seeds each prediction and graded row names its seed in this field (with
# one, or greedy decoding, rows have none, as before there were evaluation seeds).
EVAL_SEED = "eval_seed"
GRADING_REPORT = "results/eval/{model}/seed{seed}/{bench}.grading.json"  # items, correct, timed out, no answer
TABLE = "results/tables/{table}.{ext}"
FIGURE = "results/figures/{figure}.png"

# ---------------------------------------------------------------- names


def error_rate_set_name(kind: str, teacher: str, error_rate: int) -> str:
    """``hard-main-er90``: the hard set of teacher ``main`` with 90% incorrect solutions."""
    return f"{kind}-{teacher}-er{error_rate}"


def paraphrase_name(base: str) -> str:
    return f"{PARAPHRASE_PREFIX}{base}"


def combination_name(combo: str) -> str:
    return f"{COMBINATION_PREFIX}{combo}"


def stage2_model(run: str) -> str:
    """The evaluated model of stage-2 run ``run``."""
    return f"{STAGE2_PREFIX}{run}"


def model_dir(model: str, seed: int | str) -> str:
    """Directory of an evaluated model at training seed ``seed``: the stage-1 baseline or a stage-2 run."""
    if model == BASELINE:
        return fill(STAGE1_MODEL, seed=seed)
    if not model.startswith(STAGE2_PREFIX):
        raise ValueError(f"model {model!r} is neither {BASELINE!r} nor a {STAGE2_PREFIX}<run>")
    return fill(STAGE2_MODEL, run=model.removeprefix(STAGE2_PREFIX), seed=seed)


def fill(template: str, **wildcards) -> str:
    """A path template with its wildcards filled in."""
    return template.format(**wildcards)


def parse(template: str, path: str) -> dict[str, str]:
    """The wildcards of ``path`` by ``template``; the inverse of :func:`fill` (a leading directory,
    such as the workflow's working directory, is allowed)."""
    pattern = "".join(
        f"(?P<{part[1:-1]}>[^/]+?)" if part.startswith("{") else re.escape(part)
        for part in re.split(r"(\{\w+\})", template)
    )
    m = re.fullmatch(f"(?:.*/)?{pattern}", str(path))
    if not m:
        raise ValueError(f"{path!r} is not a path of the form {template!r}")
    return m.groupdict()
