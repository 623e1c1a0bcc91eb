"""The authors' released data as a source of pairs, and pairs written in the authors' layout.

He, Yin and Peng released their supervision as the Hugging Face dataset ``hexuan21/weak-to-strong``:

- ``task_sol_pairs/<pool>/*.json``: ``{ori_id, original: {task, pos_ans, neg_ans}, subtask_1: {...}, ...}``,
  the main teacher's pair of each hard task and of its subtasks;
- ``weaker_sampling/<teacher>/*.json``: ``{ori_id, task, ground_truth, sample1.., judge1..}``, the
  weaker teachers' samples of the hard tasks with the authors' judge labels (1 correct, 0 not);
- ``paraphrase/<pool>/*.json``: ``{ori_id, task, pos_ans, neg_ans}``, reworded hard-task pairs;
- ``test_data/*.json``: ``{question, ground_truth}``, the benchmarks as the authors asked them.

The layouts are undocumented (read off the authors' code), so every record is checked: what cannot
be read is counted by reason and file in the import report, a file none of whose records fits its
folder's layout fails the import (naming the file and its first bad record), and a pair missing a
side is dropped, never completed. Files may be JSON lists or JSONL.

The importer writes what the pipeline's own rules write (pair records, samples, judged samples)
so that the set builder, training and evaluation run unchanged. A pair side carries no step
verdicts in the released data: every written step gets None (the judge could not tell). Pairs
exported by :func:`export_pairs` carry what the authors' layout has no key for (task ids,
answers, step verdicts, sources, file order) under the extra key ``guiding`` inside each pair,
which the importer reads back, so an exported study imports byte-identically.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..answers import extract_answer, grade_many
from ..core.io import sha256_file
from ..llm.parsers import written_steps
from .pairs import build_pairs

log = logging.getLogger("guiding")

DATASET = "hexuan21/weak-to-strong"
FOLDERS = ("task_sol_pairs", "weaker_sampling", "paraphrase", "test_data")
DATA_SUFFIXES = (".json", ".jsonl")
EXTENSION = "guiding"  # our key inside an exported pair: what the authors' layout has no key for
RELEASED_SOURCE = "released"  # a pair side's ``source`` when the released data gave no other
SUBTASK_KEY = re.compile(r"subtask_(\d+)")
SAMPLE_KEY = re.compile(r"sample(\d+)")
JUDGE_KEY = re.compile(r"judge(\d+)")
JUDGE_LABELS = ("authors", "graded")  # which verdict decides a weaker-teacher sample's side


class ReleasedDataError(ValueError):
    """A released file that cannot be imported at all (named with its first bad record)."""


@dataclass
class Tally:
    """What the import could not read (``dropped``) or read with a caveat (``noted``), by file and reason."""

    dropped: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    noted: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    first_dropped: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Per file, where its first dropped record is and why (a file that fits no layout names it)."""

    def drop(self, file: str, reason: str, where: str | None = None) -> None:
        self.dropped[file][reason] += 1
        if where is not None:
            self.first_dropped.setdefault(file, (where, reason))

    def note(self, file: str, reason: str) -> None:
        self.noted[file][reason] += 1

    def summary(self) -> dict:
        def totals(by_file):
            return dict(sorted(sum(by_file.values(), Counter()).items()))

        return {
            "dropped": totals(self.dropped),
            "dropped_by_file": {f: dict(sorted(c.items())) for f, c in sorted(self.dropped.items()) if c},
            "noted": totals(self.noted),
            "noted_by_file": {f: dict(sorted(c.items())) for f, c in sorted(self.noted.items()) if c},
        }


# ---------------------------------------------------------------- reading files


def read_records(path: Path, name: str, tally: Tally) -> list[tuple[str, object]]:
    """The records of a JSON list or JSONL file, each with where it is (``record i`` / ``line n``).

    A JSONL line that is not UTF-8 or not JSON is counted and skipped; a JSON list must parse whole.
    """
    data = path.read_bytes()
    if data.lstrip()[:1] == b"[":
        try:
            rows = json.loads(data.decode("utf-8"))
        except UnicodeDecodeError as e:
            raise ReleasedDataError(f"{name}: not UTF-8 at byte {e.start}") from None
        except json.JSONDecodeError as e:
            raise ReleasedDataError(f"{name}: not a JSON list ({e})") from None
        return [(f"record {i}", row) for i, row in enumerate(rows)]
    records = []
    for number, raw in enumerate(data.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            records.append((f"line {number}", json.loads(raw.decode("utf-8"))))
        except UnicodeDecodeError:
            tally.drop(name, "not_utf8")
        except json.JSONDecodeError:
            tally.drop(name, "not_json")
    return records


def data_files(root: Path, folder: str, subfolders: list[str] | None = None) -> list[Path]:
    """The data files of ``root/folder`` (of the given subfolders only, when named), sorted."""
    base = root / folder
    if not base.is_dir():
        return []
    if subfolders is None:
        return sorted(p for p in base.rglob("*") if p.is_file() and p.suffix in DATA_SUFFIXES)
    return sorted(p for sub in subfolders for p in (base / sub).rglob("*") if p.is_file() and p.suffix in DATA_SUFFIXES)


def _check_file(name: str, records: list, kept: int, first_bad: tuple[str, str] | None) -> None:
    """A file with records of which none fits its layout is no file of that layout: refuse it."""
    if records and not kept:
        where, reason = first_bad or ("record 0", "unknown")
        raise ReleasedDataError(
            f"{name}: no record fits the layout of its folder; the first bad one is {where}: {reason}"
        )


def _text(obj: dict, key: str) -> tuple[str | None, str | None]:
    """``obj[key]`` when it is a non-empty text, else None and why."""
    if key not in obj:
        return None, f"missing_{key}"
    value = obj[key]
    if not isinstance(value, str):
        return None, f"{key}_not_text"
    if not value.strip():
        return None, f"empty_{key}"
    return value, None


def _ori_id(record: dict) -> tuple[str | None, str | None]:
    value = record.get("ori_id")
    if value is None:
        return None, "missing_ori_id"
    if not isinstance(value, str | int) or isinstance(value, bool) or str(value) == "":
        return None, "bad_ori_id"
    return str(value), None


def _unknown_steps(solution: str) -> list[None]:
    """A released solution's step verdicts: one None per written step (no step was judged)."""
    return [None] * written_steps(solution)


# ---------------------------------------------------------------- task_sol_pairs


def _pair_side(obj, part: str) -> tuple[dict | None, str | None]:
    """A released pair object ``{task, pos_ans, neg_ans}`` checked; the reason names its part."""
    if not isinstance(obj, dict):
        return None, f"{part}_not_an_object"
    for key in ("task", "pos_ans", "neg_ans"):
        _, why = _text(obj, key)
        if why:
            return None, f"{part}_{why}"
    return obj, None


def _pair(side: dict, *, task_id: str, kind: str, parent_id: str | None) -> tuple[dict, int | None]:
    """A pair record as make_pairs writes it, and its row in the exported file (None: unknown)."""
    ext = side.get(EXTENSION) or {}
    good, bad = side["pos_ans"], side["neg_ans"]
    good_ext, bad_ext = ext.get("correct", {}), ext.get("incorrect", {})
    pair = {
        "task_id": ext.get("task_id", task_id),
        "kind": kind,
        "parent_id": ext.get("parent_id", parent_id) if kind == "subtask" else None,
        "problem": side["task"],
        "answer": ext["answer"] if "answer" in ext else extract_answer(good),
        "n_steps": ext["n_steps"] if "n_steps" in ext else written_steps(good),
        "correct": {
            "solution": good,
            "step_verdicts": good_ext.get("step_verdicts", _unknown_steps(good)),
            "source": good_ext.get("source", RELEASED_SOURCE),
        },
        "incorrect": {
            "solution": bad,
            "step_verdicts": bad_ext.get("step_verdicts", _unknown_steps(bad)),
            "source": bad_ext.get("source", RELEASED_SOURCE),
        },
    }
    return pair, ext.get("row")


def pairs_from_records(name: str, records: list, tally: Tally) -> tuple[list, list]:
    """The hard and subtask pairs of one task_sol_pairs file, each as (pair, row)."""
    hard, subtasks, kept = [], [], 0

    for where, record in records:
        if not isinstance(record, dict):
            tally.drop(name, "not_an_object", where)
            continue
        ori_id, why = _ori_id(record)
        if why:
            tally.drop(name, why, where)
            continue
        for key in record:
            if key not in ("ori_id", "original", EXTENSION) and not SUBTASK_KEY.fullmatch(key):
                tally.note(name, f"unknown_key:{key}")
        made = 0
        if "original" not in record:
            tally.drop(name, "missing_original", where)
        else:
            side, why = _pair_side(record["original"], "original")
            if why:
                tally.drop(name, why, where)
            else:
                hard.append(_pair(side, task_id=ori_id, kind="hard", parent_id=None))
                made += 1
        numbers = sorted(int(SUBTASK_KEY.fullmatch(k).group(1)) for k in record if SUBTASK_KEY.fullmatch(k))
        if not numbers:
            tally.note(name, "no_subtasks")
        elif numbers != list(range(1, len(numbers) + 1)):
            tally.note(name, "subtask_numbers_not_consecutive")
        for number in numbers:
            side, why = _pair_side(record[f"subtask_{number}"], "subtask")
            if why:
                tally.drop(name, why, where)
                continue
            subtasks.append(_pair(side, task_id=f"{ori_id}-s{number}", kind="subtask", parent_id=ori_id))
            made += 1
        kept += bool(made)
    _check_file(name, records, kept, tally.first_dropped.get(name))
    return hard, subtasks


# ---------------------------------------------------------------- weaker_sampling


def _judge(value) -> bool | None:
    """The authors' label: 1 correct, 0 incorrect; anything else (N/A, None) is no label."""
    if value in (1, "1") and value is not True:
        return True
    if value in (0, "0") and value is not False:
        return False
    return None


def samples_from_records(name: str, records: list, teacher: str, tally: Tally) -> list[tuple[dict, list]]:
    """The tasks of one weaker_sampling file, each with its labelled samples as (file, sample)."""
    tasks, kept = [], 0

    for where, record in records:
        if not isinstance(record, dict):
            tally.drop(name, "not_an_object", where)
            continue
        ori_id, why = _ori_id(record)
        task, why = (None, why) if why else _text(record, "task")
        reference, why = (None, why) if why else _text(record, "ground_truth")
        if why:
            tally.drop(name, why, where)
            continue
        known = {"ori_id", "task", "ground_truth", EXTENSION}
        for key in record:
            if key not in known and not SAMPLE_KEY.fullmatch(key) and not JUDGE_KEY.fullmatch(key):
                tally.note(name, f"unknown_key:{key}")
        numbers = sorted(int(SAMPLE_KEY.fullmatch(k).group(1)) for k in record if SAMPLE_KEY.fullmatch(k))
        labelled = []
        for number in numbers:
            solution, why = _text(record, f"sample{number}")
            if why:
                tally.drop(name, "sample_" + why.replace(f"sample{number}", "text"))
                continue
            if f"judge{number}" not in record:
                tally.drop(name, "sample_missing_judge")
                continue
            label = _judge(record[f"judge{number}"])
            if label is None:
                tally.drop(name, "sample_judge_not_0_or_1")
                continue
            labelled.append(
                {"task_id": ori_id, "teacher": teacher, "sample": number - 1, "solution": solution, "label": label}
            )
        if not labelled:
            tally.drop(name, "no_labelled_sample", where)
            continue
        answer = extract_answer(reference)
        if answer is None:
            tally.note(name, "reference_without_final_answer")
        row = {
            "id": ori_id,
            "kind": "hard",
            "parent_id": None,
            "problem": task,
            "solution": reference,
            "answer": answer,
            "n_steps": written_steps(reference),
        }
        tasks.append((row, [(name, s) for s in labelled]))
        kept += 1
    _check_file(name, records, kept, tally.first_dropped.get(name))
    return tasks


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
                "step_verdicts": _unknown_steps(s["solution"]),
            }
        )
    return samples, judged


class UnknownStepJudge:
    """The released data judged no step: one None per written step (the reference included)."""

    def judge_steps(self, task: dict, solution: str) -> list[None]:
        return _unknown_steps(solution)


# ---------------------------------------------------------------- paraphrase, test_data


def paraphrases_from_records(name: str, records: list, tally: Tally) -> list[dict]:
    """Reworded hard-task pairs: ``{task_id, problem, correct, incorrect}``."""
    out = []
    for where, record in records:
        side, why = (None, "not_an_object") if not isinstance(record, dict) else _pair_side(record, "paraphrase")
        ori_id, id_why = _ori_id(record) if isinstance(record, dict) else (None, None)
        why = why or id_why
        if why:
            tally.drop(name, why, where)
            continue
        for key in record:
            if key not in ("ori_id", "task", "pos_ans", "neg_ans"):
                tally.note(name, f"unknown_key:{key}")
        out.append(
            {"task_id": ori_id, "problem": side["task"], "correct": side["pos_ans"], "incorrect": side["neg_ans"]}
        )
    _check_file(name, records, len(out), tally.first_dropped.get(name))
    return out


def test_rows_from_records(name: str, records: list, tally: Tally) -> list[dict]:
    """A benchmark's rows ``{problem, answer}``: the question, and the final answer of the ground
    truth (its last box where it is a full solution, as MATH-500's is; else the text as given)."""
    out = []
    for where, record in records:
        if not isinstance(record, dict):
            why = "not_an_object"
        else:
            question, why = _text(record, "question")
            truth, why = (None, why) if why else _text(record, "ground_truth")
        if why:
            tally.drop(name, why, where)
            continue
        for key in record:
            if key not in ("question", "ground_truth"):
                tally.note(name, f"unknown_key:{key}")
        boxed = extract_answer(truth) if "\\boxed" in truth or "\\fbox" in truth else None
        if boxed:
            tally.note(name, "answer_from_box")
        out.append({"problem": question, "answer": boxed or truth.strip()})
    _check_file(name, records, len(out), tally.first_dropped.get(name))
    return out


# ---------------------------------------------------------------- the import


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
    judge_label: str = "authors",
    seed: int = 0,
    workers: int = 1,
) -> Imported:
    """Read a copy of the released dataset laid out as on the hub (``root``)."""
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


def download(dataset: str, revision: str, folders: list[str]) -> tuple[Path, str]:
    """A local snapshot of the released dataset's ``folders`` from the hub, and the commit it is at.

    Needs network access to huggingface.co; the files are cached by huggingface_hub.
    """
    from huggingface_hub import HfApi, snapshot_download

    commit = HfApi().dataset_info(dataset, revision=revision).sha
    path = snapshot_download(
        dataset, repo_type="dataset", revision=commit, allow_patterns=[f"{folder}/**" for folder in folders]
    )
    return Path(path), commit


# ---------------------------------------------------------------- export


def export_pairs(hard: list[dict], subtasks: list[dict]) -> list[dict]:
    """Pair records in the authors' task_sol_pairs layout: one record per hard task, its subtasks
    numbered in file order; each pair carries what the layout has no key for under ``guiding``.

    A subtask whose hard task has no pair gets a record without ``original`` (the importer keeps
    its subtasks and counts the missing hard pair), so no pair is lost.
    """
    records: dict[str, dict] = {}

    def side(pair: dict, row: int) -> dict:
        ext = {
            "task_id": pair["task_id"],
            "answer": pair["answer"],
            "n_steps": pair["n_steps"],
            "row": row,
            "correct": {k: pair["correct"][k] for k in ("step_verdicts", "source")},
            "incorrect": {k: pair["incorrect"][k] for k in ("step_verdicts", "source")},
        }
        if pair["kind"] == "subtask":
            ext["parent_id"] = pair["parent_id"]
        return {
            "task": pair["problem"],
            "pos_ans": pair["correct"]["solution"],
            "neg_ans": pair["incorrect"]["solution"],
            EXTENSION: ext,
        }

    for row, pair in enumerate(hard):
        records[pair["task_id"]] = {"ori_id": pair["task_id"], "original": side(pair, row)}
    for row, pair in enumerate(subtasks):
        record = records.setdefault(pair["parent_id"], {"ori_id": pair["parent_id"]})
        number = sum(1 for key in record if SUBTASK_KEY.fullmatch(key)) + 1
        record[f"subtask_{number}"] = side(pair, row)
    return list(records.values())


def export_weaker_sampling(tasks: list[dict], judged: list[dict]) -> list[dict]:
    """Judged samples in the authors' weaker_sampling layout: per task, its samples and 1/0 labels."""
    by_task = defaultdict(list)
    for row in judged:
        by_task[row["task_id"]].append(row)
    out = []
    for task in tasks:
        rows = sorted(by_task.get(task["id"], []), key=lambda r: r["sample"])
        if not rows:
            continue
        record = {"ori_id": task["id"], "task": task["problem"], "ground_truth": task["solution"]}
        for number, row in enumerate(rows, 1):
            record[f"sample{number}"] = row["solution"]
            record[f"judge{number}"] = int(bool(row["correct"]))
        out.append(record)
    return out
