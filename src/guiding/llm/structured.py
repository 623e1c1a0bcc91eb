"""Reading a structured reply (one asked for with a JSON schema, see ``guiding.llm.schemas``).

The whole reply must be one JSON value that validates against its template's schema; it is then
mapped to the very ``Parsed`` value that the template's free-text parser returns, so a stage
cannot tell which way an answer came. Nothing is repaired or guessed: an endpoint that promised
the shape and did not keep it gets ``invalid_json`` or ``schema_mismatch``.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from jsonschema import Draft202012Validator

from .parsers import Parsed, boxed_answer, failed
from .schemas import schema_label, schema_of

DROP_REASONS = {"statements": "dropped_statements", "needs options": "dropped_needs_options"}


def _subtasks(data: dict, expected: int | None = None) -> Parsed:
    subtasks, dropped = [], []
    for item in data["subtasks"]:
        problem, solution = item["problem"].strip(), item["solution"].strip()
        if not problem and not solution:
            continue
        answer = boxed_answer(solution) if solution else None
        if not problem:
            dropped.append("no_problem")
        elif not solution:
            dropped.append("no_solution")
        elif answer is None:
            dropped.append("no_boxed_answer")
        else:
            subtasks.append({"problem": problem, "solution": solution, "answer": answer})
    if expected is not None and len(subtasks) + len(dropped) > expected:
        return failed("too_many_subtasks", tuple(dropped))
    if not subtasks:
        return failed("no_subtasks", tuple(dropped))
    return Parsed(subtasks, None, tuple(dropped))


def _yes_no(data: dict) -> Parsed:
    return Parsed(bool(data["answer"]))


def _count(data: dict) -> Parsed:
    return Parsed(data["steps"]) if data["steps"] >= 0 else failed("no_count")


def _verdict(data: dict) -> Parsed:
    return Parsed({"1": True, "0": False, "N/A": None}[data["verdict"]])


def _step_verdicts(data: dict, n_steps: int | None = None) -> Parsed:
    verdicts = [bool(v) for v in data["steps"]]
    if not verdicts:
        return failed("no_step_verdicts")
    length = n_steps if n_steps is not None else len(verdicts)
    return Parsed([verdicts[i] if i < len(verdicts) else None for i in range(length)])


def _open_question(data: dict) -> Parsed:
    if data["drop"] is not None:
        return failed(DROP_REASONS[data["drop"]])
    question, answer = (data["question"] or "").strip(), (data["answer"] or "").strip()
    if not question:
        return failed("no_question")
    if not answer:
        return failed("no_answer")
    return Parsed({"problem": question, "answer": answer})


# Template (without its version) -> reader of the validated JSON; extra arguments as the free-text
# parser of the same template takes them.
READERS: dict[str, Callable[..., Parsed]] = {
    "decompose": _subtasks,
    "filter_ill_defined": _yes_no,
    "filter_near_duplicate": _yes_no,
    "filter_too_few_steps": _count,
    "judge_final": _verdict,
    "judge_steps": _step_verdicts,
    "convert_open": _open_question,
}


def parse_structured(template: str, text: str, *args) -> Parsed:
    """The ``Parsed`` value of a structured reply to ``template`` ("judge_final/v1" or "judge_final.v1")."""
    schema = schema_of(template)
    if schema is None:
        raise ValueError(f"template {template!r} has no JSON schema (guiding.llm.schemas)")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return failed("invalid_json")
    if not Draft202012Validator(schema).is_valid(data):
        return failed("schema_mismatch")
    return READERS[schema_label(template).split(".")[0]](data, *args)
