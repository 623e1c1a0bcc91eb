"""Readers of the released files, one per folder's layout, on one skeleton (``_read``): every record
must be an object whose required fields ``check`` accepts, its keys outside the layout are noted,
and ``read`` turns it into rows; a file none of whose records gives a row is refused."""

from __future__ import annotations

from collections.abc import Callable

from ..answers import extract_answer
from ..llm.parsers import written_steps
from .layout import (
    EXTENSION,
    JUDGE_KEY,
    RELEASED_SOURCE,
    SAMPLE_KEY,
    SUBTASK_KEY,
    Tally,
    check_file,
    ori_id,
    text,
    unknown_steps,
)


def _read(
    name: str,
    records: list,
    tally: Tally,
    *,
    check: Callable[[dict], str | None],
    known: Callable[[str], bool],
    read: Callable[[dict, str], list],
) -> list:
    """The rows of one file's records: ``check(record)`` gives why a record is dropped (None: it is
    kept), ``known(key)`` whether a key belongs to the layout (others are noted), ``read(record,
    where)`` the record's rows (it may drop or note parts of it)."""
    rows, kept = [], 0
    for where, record in records:
        why = "not_an_object" if not isinstance(record, dict) else check(record)
        if why:
            tally.drop(name, why, where)
            continue
        for key in record:
            if not known(key):
                tally.note(name, f"unknown_key:{key}")
        made = read(record, where)
        rows += made
        kept += bool(made)
    check_file(name, records, kept, tally.first_dropped.get(name))
    return rows


def _first_error(*checks) -> str | None:
    """The first reason among lazily run checks (each a function returning (value, why))."""
    for check in checks:
        _, why = check()
        if why:
            return why
    return None


# ---------------------------------------------------------------- task_sol_pairs


def _pair_side(obj, part: str) -> tuple[dict | None, str | None]:
    """A released pair object ``{task, pos_ans, neg_ans}`` checked; the reason names its part."""
    if not isinstance(obj, dict):
        return None, f"{part}_not_an_object"
    for key in ("task", "pos_ans", "neg_ans"):
        _, why = text(obj, key)
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
            "step_verdicts": good_ext.get("step_verdicts", unknown_steps(good)),
            "source": good_ext.get("source", RELEASED_SOURCE),
        },
        "incorrect": {
            "solution": bad,
            "step_verdicts": bad_ext.get("step_verdicts", unknown_steps(bad)),
            "source": bad_ext.get("source", RELEASED_SOURCE),
        },
    }
    return pair, ext.get("row")


def pairs_from_records(name: str, records: list, tally: Tally) -> tuple[list, list]:
    """The hard and subtask pairs of one task_sol_pairs file, each as (pair, row)."""

    def read(record: dict, where: str) -> list:
        task_id = str(ori_id(record)[0])
        made = []
        if "original" not in record:
            tally.drop(name, "missing_original", where)
        else:
            side, why = _pair_side(record["original"], "original")
            if why:
                tally.drop(name, why, where)
            else:
                made.append(_pair(side, task_id=task_id, kind="hard", parent_id=None))
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
            made.append(_pair(side, task_id=f"{task_id}-s{number}", kind="subtask", parent_id=task_id))
        return made

    rows = _read(
        name,
        records,
        tally,
        check=lambda record: ori_id(record)[1],
        known=lambda key: key in ("ori_id", "original", EXTENSION) or bool(SUBTASK_KEY.fullmatch(key)),
        read=read,
    )
    return [r for r in rows if r[0]["kind"] == "hard"], [r for r in rows if r[0]["kind"] == "subtask"]


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

    def read(record: dict, where: str) -> list:
        task_id, reference = str(ori_id(record)[0]), record["ground_truth"]
        numbers = sorted(int(SAMPLE_KEY.fullmatch(k).group(1)) for k in record if SAMPLE_KEY.fullmatch(k))
        labelled = []
        for number in numbers:
            solution, why = text(record, f"sample{number}")
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
                {"task_id": task_id, "teacher": teacher, "sample": number - 1, "solution": solution, "label": label}
            )
        if not labelled:
            tally.drop(name, "no_labelled_sample", where)
            return []
        answer = extract_answer(reference)
        if answer is None:
            tally.note(name, "reference_without_final_answer")
        row = {
            "id": task_id,
            "kind": "hard",
            "parent_id": None,
            "problem": record["task"],
            "solution": reference,
            "answer": answer,
            "n_steps": written_steps(reference),
        }
        return [(row, [(name, s) for s in labelled])]

    known = {"ori_id", "task", "ground_truth", EXTENSION}
    return _read(
        name,
        records,
        tally,
        check=lambda record: _first_error(
            lambda: ori_id(record), lambda: text(record, "task"), lambda: text(record, "ground_truth")
        ),
        known=lambda key: key in known or bool(SAMPLE_KEY.fullmatch(key) or JUDGE_KEY.fullmatch(key)),
        read=read,
    )


# ---------------------------------------------------------------- paraphrase, test_data


def paraphrases_from_records(name: str, records: list, tally: Tally) -> list[dict]:
    """Reworded hard-task pairs: ``{task_id, problem, correct, incorrect}``."""
    return _read(
        name,
        records,
        tally,
        check=lambda record: _pair_side(record, "paraphrase")[1] or ori_id(record)[1],
        known=lambda key: key in ("ori_id", "task", "pos_ans", "neg_ans"),
        read=lambda record, where: [
            {
                "task_id": ori_id(record)[0],
                "problem": record["task"],
                "correct": record["pos_ans"],
                "incorrect": record["neg_ans"],
            }
        ],
    )


def test_rows_from_records(name: str, records: list, tally: Tally) -> list[dict]:
    """A benchmark's rows ``{problem, answer}``: the question, and the final answer of the ground
    truth (its last box where it is a full solution, as MATH-500's is; else the text as given)."""

    def read(record: dict, where: str) -> list:
        truth = record["ground_truth"]
        boxed = extract_answer(truth) if "\\boxed" in truth or "\\fbox" in truth else None
        if boxed:
            tally.note(name, "answer_from_box")
        return [{"problem": record["question"], "answer": boxed or truth.strip()}]

    return _read(
        name,
        records,
        tally,
        check=lambda record: _first_error(lambda: text(record, "question"), lambda: text(record, "ground_truth")),
        known=lambda key: key in ("question", "ground_truth"),
        read=read,
    )
