"""The import: a copy of the released dataset, laid out as on the hub, read into the pipeline's own
record formats (pair records, samples, judged samples, paraphrases, benchmark rows)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..answers import grade_many
from ..core.io import sha256_file
from .layout import JUDGE_LABELS, ReleasedDataError, Tally, UnknownStepJudge, data_files, read_records, unknown_steps
from .readers import pairs_from_records, paraphrases_from_records, samples_from_records, test_rows_from_records


def judge_released_samples(tasks: list[dict], labelled: list, judge_label: str, tally: Tally, workers: int = 1):
    """Samples and judged samples as the pipeline writes them, each sample's side decided by
    ``judge_label``: the authors' label (what they trained on) or the answer module's grade against
    the reference's final answer. Every disagreement between the two is counted, whichever wins."""
    if judge_label not in JUDGE_LABELS:
        raise ValueError(f"released.judge_label: {judge_label!r} is not one of {JUDGE_LABELS}")
    answers = {t["id"]: t["answer"] for t in tasks}
    gradable = [i for i, (_, s) in enumerate(labelled) if answers[s["task_id"]] is not None]
    verdicts, _ = grade_many(
        [(answers[labelled[i][1]["task_id"]], labelled[i][1]["solution"]) for i in gradable], workers
    )
    graded = dict(zip(gradable, verdicts))
    samples, judged = [], []
    for i, (name, s) in enumerate(labelled):
        row = {k: s[k] for k in ("task_id", "teacher", "sample", "solution")}
        samples.append(row)
        verdict = graded.get(i)
        if verdict is not None and verdict["correct"] != s["label"]:
            tally.note(name, "judge_disagrees_with_grade")
        correct = s["label"] if judge_label == "authors" or verdict is None else verdict["correct"]
        judged.append(
            {
                **row,
                "predicted": verdict["predicted"] if verdict else None,
                "timed_out": verdict["timed_out"] if verdict else False,
                "graded_correct": verdict["correct"] if verdict else None,
                "judge_correct": s["label"],
                "correct": correct,
                "step_verdicts": unknown_steps(s["solution"]),
            }
        )
    return samples, judged


def _ordered(items: list[tuple[dict, int | None]]) -> list[dict]:
    """Pairs in their exported order where every pair names its row (our export), else in file order."""
    if items and all(isinstance(row, int) for _, row in items):
        items = sorted(items, key=lambda item: item[1])
    return [pair for pair, _ in items]


def _unique(pairs: list[dict], name: str, tally: Tally, key: str = "task_id") -> list[dict]:
    seen, out = set(), []
    for pair in pairs:
        if pair[key] in seen:
            tally.drop(name, f"duplicate_{key}")
            continue
        seen.add(pair[key])
        out.append(pair)
    return out


@dataclass
class Imported:
    """Everything one import yields, by the pipeline's own record formats."""

    pairs: dict[tuple[str, str], list[dict]]  # (teacher, kind) -> pair records
    pair_stats: dict[tuple[str, str], dict]
    samples: dict[str, list[dict]]  # weaker teacher -> samples
    judged: dict[str, list[dict]]
    paraphrases: list[dict]
    tests: dict[str, list[dict]]  # benchmark name -> rows
    files: list[dict]  # every file read, with its sha256
    tally: Tally


def import_released(
    root: Path,
    *,
    pairs_teacher: str,
    weaker_sampling: dict[str, str],
    test_data: dict[str, str],
    pair_pools: list[str] | None = None,
    paraphrase_pools: list[str] | None = None,
    build_pairs: Callable,
    judge_label: str = "authors",
    seed: int = 0,
    workers: int = 1,
) -> Imported:
    """Read a copy of the released dataset laid out as on the hub (``root``). ``build_pairs`` makes the
    weaker teachers' pairs from their judged samples (make_pairs' own: ``judging.pairs.build_pairs``,
    passed in so that this package imports no stage)."""
    root = Path(root)
    tally, files = Tally(), []

    def read(path: Path):
        name = str(path.relative_to(root))
        files.append({"path": name, "sha256": sha256_file(path)})
        return name, read_records(path, name, tally)

    hard_items, sub_items = [], []
    pair_files = data_files(root, "task_sol_pairs", pair_pools)
    if not pair_files:
        raise ReleasedDataError(f"{root}/task_sol_pairs: no .json or .jsonl file (pools: {pair_pools or 'all'})")
    for path in pair_files:
        name, records = read(path)
        hard, subtasks = pairs_from_records(name, records, tally)
        hard_items += hard
        sub_items += subtasks
    pairs = {
        (pairs_teacher, "hard"): _unique(_ordered(hard_items), "task_sol_pairs", tally),
        (pairs_teacher, "subtask"): _unique(_ordered(sub_items), "task_sol_pairs", tally),
    }
    stats = {key: {"pairs": len(rows), "source": "task_sol_pairs"} for key, rows in pairs.items()}

    samples, judged = {}, {}
    for teacher, folder in weaker_sampling.items():
        paths = data_files(root, "weaker_sampling", [folder])
        if not paths:
            raise ReleasedDataError(f"{root}/weaker_sampling/{folder}: no .json or .jsonl file (teacher {teacher!r})")
        tasks, labelled = [], []
        for path in paths:
            name, records = read(path)
            tasks += samples_from_records(name, records, teacher, tally)
        # A task given twice keeps its first record, and that record's samples only.
        first_record, kept = {}, []
        for task, samples_of_task in tasks:
            if task["id"] in first_record:
                tally.drop(f"weaker_sampling/{folder}", "duplicate_id")
                continue
            first_record[task["id"]] = task
            kept.append(task)
            labelled += samples_of_task
        tasks = kept
        samples[teacher], judged[teacher] = judge_released_samples(tasks, labelled, judge_label, tally, workers)
        made, pair_stats = build_pairs(tasks, judged[teacher], seed, UnknownStepJudge())
        pairs[(teacher, "hard")] = made
        stats[(teacher, "hard")] = {**pair_stats, "source": f"weaker_sampling/{folder}", "judge_label": judge_label}

    paraphrases = []
    for path in data_files(root, "paraphrase", paraphrase_pools):
        name, records = read(path)
        paraphrases += paraphrases_from_records(name, records, tally)
    paraphrases = _unique(paraphrases, "paraphrase", tally)

    tests = {}
    for bench, file in test_data.items():
        path = root / "test_data" / file
        if not path.is_file():
            raise ReleasedDataError(f"{root}/test_data/{file}: no such file (benchmark {bench!r})")
        name, records = read(path)
        tests[bench] = test_rows_from_records(name, records, tally)
    return Imported(pairs, stats, samples, judged, paraphrases, tests, files, tally)
