"""Step functions of rules/evaluation.smk.

Each job runs one step in a new process, so each step imports what only it needs when it runs:
a generation job starts without the answer module and the LLM interface, a grading job
without the LLM interface.
"""

from __future__ import annotations

import logging

from .. import implementations
from ..artifacts import EVAL_SEED, WORLD_SOURCE
from ..core.gpus import preflight
from ..core.io import read_jsonl, write_json, write_jsonl

log = logging.getLogger("guiding")


def prepare_benchmark(
    *, benchmark: str, report: str, bench: str, spec: dict, tasks: str | None = None, source_file: str | None = None
) -> None:
    """One benchmark, read from its source, as rows {id, problem, answer, form}; a converted one
    from its conversion's rows (``source_file``), which hold the standard columns."""
    from .benchmarks import from_world, load_benchmark

    if spec["source"] == WORLD_SOURCE:
        rows, facts = from_world(read_jsonl(tasks), spec.get("limit"))
    elif spec.get("convert"):
        keep = {k: spec[k] for k in ("form", "drop_if_contains") if k in spec}
        rows, facts = load_benchmark(bench, {"source": source_file, **keep})  # where and limit: applied already
    else:
        rows, facts = load_benchmark(bench, spec)
    write_jsonl(benchmark, rows)
    write_json(report, facts)
    log.info("%s: %s", bench, facts)


def convert_benchmark(
    *, converted: str, report: str, bench: str, spec: dict, llm: dict, source_file: str | None = None
) -> None:
    """A benchmark converted by the converter role (``spec["convert"]``): rows {problem, answer,
    source_index, how} and the report of what was asked, kept and dropped by reason."""
    from ..core.datasets import load_rows
    from ..llm.roles import RoleSpec
    from .conversion import convert

    rows = load_rows(source_file or spec["source"], spec.get("subset"), spec.get("split", "test"))
    out, facts = convert(rows, bench, spec, RoleSpec.from_dict(llm))
    if not out:
        raise ValueError(f"benchmark {bench!r}: the conversion kept no item (dropped: {facts['dropped_by_reason']})")
    write_jsonl(converted, out)
    write_json(report, facts)
    log.info("%s: %s", bench, {k: v for k, v in facts.items() if k != "dropped"})


def _paths(files: str | list[str]) -> list[str]:
    """One benchmark's file as a list of one, several benchmarks' as they are."""
    return [files] if isinstance(files, str) else list(files)


def generate_predictions(
    *,
    model: str,
    tasks: str | list[str],
    predictions: str | list[str],
    backend: str,
    generation: dict,
    gpu: int = 0,
    threads: int = 1,
) -> None:
    """One answer per task of each benchmark (``tasks[i]`` answered into ``predictions[i]``), rows
    {task_id, output}; one job per model, so that the model is loaded once for every benchmark
    (a vLLM engine stays up across them). Sampled decoding (``generation["seeds"]``) answers every
    task once per evaluation seed, seed by seed, each row naming its seed (``eval_seed``) where
    there are several (with one, the rows are as they always were)."""
    preflight(gpu, "generate_predictions")
    benchmarks, outputs_to = _paths(tasks), _paths(predictions)
    if len(benchmarks) != len(outputs_to):
        raise ValueError(f"{len(benchmarks)} benchmarks but {len(outputs_to)} prediction files")
    settings = dict(generation)
    seeds = settings.pop("seeds", None)
    rows: list[list[dict]] = [[] for _ in benchmarks]
    for seed in seeds or [None]:  # greedy decoding: one run, no seed
        decoding = settings if seed is None else {**settings, "seed": seed}
        generator = implementations.create("generator", backend, threads=threads, gpus=gpu, **decoding)
        named = {EVAL_SEED: seed} if seeds and len(seeds) > 1 else {}
        for bench_rows, path in zip(rows, benchmarks):
            problems = read_jsonl(path)
            outputs = generator.generate(model, [t["problem"] for t in problems])
            bench_rows += [{"task_id": t["id"], "output": o, **named} for t, o in zip(problems, outputs)]
    for bench_rows, path in zip(rows, outputs_to):
        write_jsonl(path, bench_rows)


def grade(tasks: list[dict], predictions: list[dict], workers: int = 1) -> tuple[list[dict], dict]:
    """Each prediction with its extracted answer and verdict against its task's reference answer,
    and the grading report (items, correct, timed out, no answer)."""
    from ..answers import grade_many

    by_id = {t["id"]: t for t in tasks}
    golds = [by_id[p["task_id"]] for p in predictions]
    verdicts, report = grade_many(
        [(g["answer"], p["output"]) for g, p in zip(golds, predictions)],
        workers=workers,
        forms=[g.get("form", "plain") for g in golds],
    )
    return [{**p, **v} for p, v in zip(predictions, verdicts)], report


def grade_predictions(
    *,
    tasks: str | list[str],
    predictions: str | list[str],
    graded: str | list[str],
    grading_report: str | list[str],
    threads: int = 1,
) -> None:
    """Grade each benchmark's predictions (``predictions[i]`` against ``tasks[i]`` into
    ``graded[i]`` and ``grading_report[i]``): one job per model, like generation."""
    files = [_paths(f) for f in (tasks, predictions, graded, grading_report)]
    if len({len(f) for f in files}) != 1:
        counts = [len(f) for f in files]
        raise ValueError(f"benchmarks, predictions, graded files and reports differ in number: {counts}")
    for bench_tasks, bench_predictions, bench_graded, report_path in zip(*files):
        made, report = grade(read_jsonl(bench_tasks), read_jsonl(bench_predictions), threads)
        if any(EVAL_SEED in row for row in made):  # sampled decoding: each evaluation seed's count too
            by_seed: dict[int, dict[str, int]] = {}
            for row in made:
                counts = by_seed.setdefault(row[EVAL_SEED], {"items": 0, "correct": 0})
                counts["items"] += 1
                counts["correct"] += bool(row["correct"])
            report = {**report, "by_eval_seed": by_seed}
        write_jsonl(bench_graded, made)
        write_json(report_path, report)
        log.info("grading %s: %s", bench_tasks, report)
