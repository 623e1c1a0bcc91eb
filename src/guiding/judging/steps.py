"""Step functions of rules/judging.smk."""

from __future__ import annotations

import logging
from pathlib import Path

from .. import implementations
from .. import released as released_data
from ..answers import grade_many
from ..artifacts import JUDGED, PAIR_STATS, PAIRS, RELEASED_TEST, SAMPLES, parse
from ..core.io import read_jsonl, write_json, write_jsonl
from .pairs import build_pairs
from .seams import FinalJudge, StepJudge, judge_steps_all

log = logging.getLogger("guiding")


def judge_samples(
    tasks: list[dict],
    samples: list[dict],
    step_judge: StepJudge,
    workers: int = 1,
    final_judge: FinalJudge | None = None,
    step_judge_check: StepJudge | None = None,
) -> list[dict]:
    """Each sample with its final answer graded against the reference and its step verdicts.

    ``correct`` and ``step_verdicts`` come from the answer module and ``step_judge``; a second
    opinion, where configured, is stored beside them (``judge_correct`` from the final-result judge,
    ``check_step_verdicts`` from a second step judge) for the judge agreement table.
    """
    by_id = {t["id"]: t for t in tasks}
    unknown = [s["task_id"] for s in samples if s["task_id"] not in by_id]
    if unknown:
        raise ValueError(f"{len(unknown)} samples name unknown tasks, e.g. {unknown[0]!r}")
    verdicts, report = grade_many([(by_id[s["task_id"]]["answer"], s["solution"]) for s in samples], workers=workers)
    log.info("grading: %s", report)
    items = [(by_id[s["task_id"]], s["solution"]) for s in samples]
    judged = [
        {**s, **verdict, "step_verdicts": steps}
        for s, verdict, steps in zip(samples, verdicts, judge_steps_all(step_judge, items))
    ]
    if final_judge is not None:
        for row, agrees in zip(judged, final_judge.judge_all(items)):
            row["judge_correct"] = agrees
    if step_judge_check is not None:
        for row, steps in zip(judged, judge_steps_all(step_judge_check, items)):
            row["check_step_verdicts"] = steps
    return judged


def judge_solutions(
    *, tasks: str, samples: str, judged: str, step_judge: str, second_opinions: dict | None = None, threads: int = 1
) -> None:
    """``second_opinions`` names the final-result judge and the second step judge, each as
    {"backend": ..., "settings": {...}}, when they are configured."""
    others = {
        role: implementations.create(
            role if role == "final_judge" else "step_judge", spec["backend"], **spec["settings"]
        )
        for role, spec in (second_opinions or {}).items()
    }
    made = judge_samples(
        read_jsonl(tasks),
        read_jsonl(samples),
        implementations.create("step_judge", step_judge),
        threads,
        final_judge=others.get("final_judge"),
        step_judge_check=others.get("step_judge_check"),
    )
    write_jsonl(judged, made)
    log.info("%d judged, %d correct", len(made), sum(j["correct"] for j in made))


def make_pairs(
    *,
    tasks: str,
    judged: str,
    pairs: str,
    pair_stats: str,
    seed: int,
    step_judge: str,
    rewriter: dict | None = None,
) -> None:
    """``rewriter``: {"backend": ..., "settings": {...}} of the teacher that rewrites the reference of a
    task with no correct sample; None keeps the reference as it is."""
    rewrite = implementations.create("rewriter", rewriter["backend"], **rewriter["settings"]) if rewriter else None
    made, stats = build_pairs(
        read_jsonl(tasks), read_jsonl(judged), seed, implementations.create("step_judge", step_judge), rewrite
    )
    write_jsonl(pairs, made)
    write_json(pair_stats, stats)
    log.info("%s", stats)


def import_released(
    *,
    released: dict,
    seed: int,
    report: str,
    pairs: list[str],
    pair_stats: list[str],
    paraphrases: str,
    samples: list[str] = (),
    judged: list[str] = (),
    test_sets: list[str] = (),
    local_files: list[str] = (),
    threads: int = 1,
) -> None:
    """The authors' released data (config ``released``) as the pipeline's own files: pair records
    and their statistics per teacher and kind, the weaker teachers' samples and judged samples,
    the reworded hard-task pairs and the benchmarks of test_data/. ``local_files`` (a local copy's
    files) are inputs only so that editing one reruns the import; without ``local_dir`` the dataset
    is downloaded at ``revision``. The report names the source (dataset and commit, or the local
    directory) and every file read with its sha256, and counts what could not be read."""
    if released.get("local_dir"):
        root, source = Path(released["local_dir"]), {"local_dir": released["local_dir"]}
    else:
        root, commit = released_data.download(released["dataset"], released["revision"], list(released_data.FOLDERS))
        source = {"dataset": released["dataset"], "revision": released["revision"], "commit": commit}
    made = released_data.import_released(
        root,
        pairs_teacher=released["pairs_teacher"],
        weaker_sampling=released["weaker_sampling"],
        test_data=released["test_data"],
        pair_pools=released["pair_pools"],
        paraphrase_pools=released["paraphrase_pools"],
        build_pairs=build_pairs,
        judge_label=released["judge_label"],
        seed=seed,
        workers=threads,
    )
    for path in pairs:
        key = (parse(PAIRS, path)["teacher"], parse(PAIRS, path)["kind"])
        if key not in made.pairs:
            raise ValueError(f"{path}: the released data give no {key[1]} pairs of teacher {key[0]!r}")
        write_jsonl(path, made.pairs[key])
    for path in pair_stats:
        wanted = parse(PAIR_STATS, path)
        write_json(path, made.pair_stats[(wanted["teacher"], wanted["kind"])])
    for path in samples:
        write_jsonl(path, made.samples[parse(SAMPLES, path)["teacher"]])
    for path in judged:
        write_jsonl(path, made.judged[parse(JUDGED, path)["teacher"]])
    write_jsonl(paraphrases, made.paraphrases)
    for path in test_sets:
        write_jsonl(path, made.tests[parse(RELEASED_TEST, path)["bench"]])
    facts = {
        "source": source,
        "files": made.files,
        "pairs": {f"{t}/{k}": len(rows) for (t, k), rows in sorted(made.pairs.items())},
        "pair_stats": {f"{t}/{k}": s for (t, k), s in sorted(made.pair_stats.items())},
        "paraphrases": len(made.paraphrases),
        "test_data": {bench: len(rows) for bench, rows in made.tests.items()},
        "judge_label": released["judge_label"],
        **made.tally.summary(),
    }
    write_json(report, facts)
    log.info("released data imported: %s; dropped %s; noted %s", facts["pairs"], facts["dropped"], facts["noted"])


def export_released_pairs(*, hard_pairs: str, subtask_pairs: str, exported: str) -> None:
    """A teacher's pairs in the authors' task_sol_pairs layout (a JSON list, as they released it)."""
    write_json(exported, released_data.export_pairs(read_jsonl(hard_pairs), read_jsonl(subtask_pairs)))


def export_released_samples(*, tasks: str, judged: str, exported: str) -> None:
    """A teacher's judged hard-task samples in the authors' weaker_sampling layout."""
    write_json(exported, released_data.export_weaker_sampling(read_jsonl(tasks), read_jsonl(judged)))
