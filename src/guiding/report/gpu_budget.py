"""GPU-hours of the study's training and evaluation jobs, before launching them.

Each job's token count comes from the built artifacts where they exist (stage-1 data, the
supervision sets, the benchmarks) and otherwise from the config's set sizes times an assumed
number of tokens per example; the GPU-hours are those tokens over a stated throughput per GPU.
Training counts every token of every example once per epoch (prompt and solution: both pass
through the model). Evaluation counts the prompts plus ``max_new_tokens`` per item, an upper
bound (generation stops earlier at EOS).

    guiding gpu-budget --train-tokens-per-s 5000 --generate-tokens-per-s 2500
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .. import artifacts as A
from ..config import evaluation_seeds, load_config, replicate_seeds, set_size, stage2_runs
from ..core.io import read_jsonl
from ..core.paths import CHECKOUT


@dataclass(frozen=True)
class Throughput:
    """Tokens per second per GPU, as the user states them for their GPUs and model."""

    train_tokens_per_s: float
    """Training tokens (forward and backward) per second per GPU."""
    generate_tokens_per_s: float
    """Generated tokens per second per GPU at evaluation (batched, e.g. vLLM)."""


@dataclass(frozen=True)
class Job:
    """One training or evaluation job of the study and its cost."""

    kind: str
    """"train" or "evaluate"."""
    name: str
    """The job's model (an evaluation job answers every benchmark)."""
    tokens: float
    """Tokens the job processes (training: all epochs; evaluation: prompts and the generation bound)."""
    measured: bool
    """True when the tokens were counted on a built artifact, False when estimated from sizes."""
    gpu_hours: float
    """``tokens`` over the throughput per GPU, in hours."""


def count_tokens(texts: list[str], tokenizer: Callable[[str], int] | None) -> int:
    """Tokens of ``texts`` by ``tokenizer`` (a text -> count function), else characters / 4."""
    if tokenizer is None:
        return sum(math.ceil(len(t) / 4) for t in texts)
    return sum(tokenizer(t) for t in texts)


def _example_texts(path: Path) -> list[str] | None:
    return [f"{row['problem']}\n{row.get('solution', '')}" for row in read_jsonl(path)] if path.exists() else None


def plan(
    config: dict,
    workdir: Path,
    throughput: Throughput,
    tokens_per_example: float,
    tokenizer: Callable[[str], int] | None = None,
) -> list[Job]:
    """Every training and evaluation job of ``config`` with its tokens and GPU-hours."""
    jobs: list[Job] = []

    def add(kind: str, name: str, tokens: float, measured: bool) -> None:
        rate = throughput.train_tokens_per_s if kind == "train" else throughput.generate_tokens_per_s
        jobs.append(Job(kind, name, tokens, measured, tokens / rate / 3600))

    def example_tokens(path: Path, examples: int) -> tuple[float, bool]:
        texts = _example_texts(workdir / path)
        if texts is None:
            return examples * tokens_per_example, False
        return count_tokens(texts, tokenizer), True

    stage1 = config["training"]["stage1"]
    texts = _example_texts(workdir / A.STAGE1_DATA)
    if texts is None:
        raise FileNotFoundError(
            f"{A.STAGE1_DATA} is not built yet: run `snakemake {A.STAGE1_DATA}` first (it needs no GPU)"
        )
    seeds = replicate_seeds(config)  # each seed trains its own stage 1 and every stage-2 run from it
    stage1_tokens = count_tokens(texts, tokenizer) * stage1["num_train_epochs"]
    for seed in seeds:
        add("train", f"{A.BASELINE} seed {seed}", stage1_tokens, True)
    for run, spec in stage2_runs(config).items():
        tokens, measured = example_tokens(Path(A.fill(A.SET, name=spec["set"])), set_size(config, spec["set"]))
        for seed in seeds:
            add("train", f"{A.stage2_model(run)} seed {seed}", tokens * spec["recipe"]["num_train_epochs"], measured)
    evaluation = config["evaluation"]
    models = [f"{A.BASELINE} seed {seed}" for seed in seeds]
    models += [f"{A.stage2_model(run)} seed {seed}" for run in stage2_runs(config) for seed in seeds]
    tokens = 0  # one generation job per model answers every benchmark
    for bench in evaluation["benchmarks"]:
        path = workdir / A.fill(A.BENCHMARK, bench=bench)
        if not path.exists():
            raise FileNotFoundError(f"{path} is not built yet: run `snakemake {A.fill(A.BENCHMARK, bench=bench)}`")
        problems = [row["problem"] for row in read_jsonl(path)]
        tokens += count_tokens(problems, tokenizer) + len(problems) * evaluation["max_new_tokens"]
    for model in models:  # sampled decoding answers every item once per evaluation seed
        add("evaluate", f"{model} on every benchmark", tokens * max(len(evaluation_seeds(config)), 1), True)
    return jobs


def summary_table(jobs: list[Job], gpus_per_job: dict[str, int]) -> str:
    """A Markdown table: GPU-hours per kind of job and in total (wall hours = GPU-hours / GPUs)."""
    lines = ["| jobs | count | tokens (M) | GPU-hours | wall hours per job |", "|---|---:|---:|---:|---:|"]
    groups = {
        "stage 1": [j for j in jobs if j.kind == "train" and j.name.startswith(f"{A.BASELINE} ")],
        "stage 2": [j for j in jobs if j.kind == "train" and not j.name.startswith(f"{A.BASELINE} ")],
        "evaluation": [j for j in jobs if j.kind == "evaluate"],
    }
    for label, group in groups.items():
        if not group:
            continue
        gpus = gpus_per_job["evaluate" if label == "evaluation" else "train"] or 1
        hours = sum(j.gpu_hours for j in group)
        estimated = "" if all(j.measured for j in group) else " (sizes x assumed tokens)"
        lines.append(
            f"| {label}{estimated} | {len(group)} | {sum(j.tokens for j in group) / 1e6:.1f} | {hours:.1f} "
            f"| {hours / len(group) / gpus:.2f} |"
        )
    lines.append(
        f"| total | {len(jobs)} | {sum(j.tokens for j in jobs) / 1e6:.1f} | {sum(j.gpu_hours for j in jobs):.1f} | |"
    )
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--configfile", default="config/config.yaml", help="the study's config")
    parser.add_argument("--directory", default=".", help="the workflow's working directory (holds results/)")
    parser.add_argument("--train-tokens-per-s", type=float, required=True, help="training tokens/s per GPU")
    parser.add_argument("--generate-tokens-per-s", type=float, required=True, help="generated tokens/s per GPU")
    parser.add_argument(
        "--tokens-per-example",
        type=float,
        default=600,
        help="assumed tokens of a supervision example for sets not built yet (default 600)",
    )
    parser.add_argument("--tokenizer", help="a tokenizer directory (e.g. the base model's); default: characters / 4")


def run(args: argparse.Namespace) -> None:
    config = load_config(args.configfile, CHECKOUT)
    tokenizer = None
    if args.tokenizer:
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(args.tokenizer)
        tokenizer = lambda text: len(tok(text, add_special_tokens=False)["input_ids"])  # noqa: E731
    jobs = plan(
        config,
        Path(args.directory),
        Throughput(args.train_tokens_per_s, args.generate_tokens_per_s),
        args.tokens_per_example,
        tokenizer,
    )
    print(summary_table(jobs, {"train": config["training"]["gpus"], "evaluate": config["evaluation"]["gpus"]}))
