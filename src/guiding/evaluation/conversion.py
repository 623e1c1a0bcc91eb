"""Benchmarks that an LLM converts before the students are asked, as the paper did.

``open_questions`` (JEE-Bench math, AGIEval SAT-Math): an item whose gold answer is one option
letter becomes an open question whose answer is that option's value. The converter (the
``convert_open`` prompt) rewrites the question without its options; the answer is the option's
content where the source lists the options in a column (read here, not by the model), else the
model's. An item with several correct letters (JEE's multiple-answer type) is dropped without a
request; an item whose gold is no letter (JEE's integer and numeric types) is open already and
kept as it is. The model may decline an item whose options cannot stand alone (statements to
judge, a choice among the options): dropped, with its reason.

``translate_en`` (AGIEval Gaokao-Mathcloze): every question is translated (the ``translate``
prompt); the answers, multi-blank ones separated by ``;``, are kept.

Every dropped item is counted by reason in the conversion report, and listed with its index.
"""

from __future__ import annotations

import re
from collections import Counter

from ..artifacts import CONVERSIONS
from ..core.datasets import column, keep_where
from ..llm.parsers import strip_math
from ..llm.roles import Question, RoleSpec, ask

_LETTERS_ONLY = re.compile(r"[\s(),;/&A-E]*")  # "C", "(C)", "ABD", "A, C": option letters and separators
# An option's label at its start ("(B)", "B)", "B." or "B:"), in a list item or inside one text.
_OPTION_START = re.compile(r"^\s*\(?([A-E])\s*[).:]\s*")
_OPTION_IN_TEXT = re.compile(r"(?:^|(?<=\s))\(?([A-E])\)\s*")
NO_OPTIONS_COLUMN = "(the options are part of the question)"


def correct_letter(gold) -> tuple[str | None, str | None]:
    """(the one correct option letter, None), or (None, why the item is no single-choice item):
    "several_correct_options" for "ABD", "already_open" for a gold that is no letter, "no_gold"."""
    text = str(gold if gold is not None else "").strip()
    if not text:
        return None, "no_gold"
    letters = set(re.findall(r"[A-E]", text)) if _LETTERS_ONLY.fullmatch(text) else set()
    if len(letters) == 1:
        return letters.pop(), None
    return None, "several_correct_options" if letters else "already_open"


def split_options(options) -> dict[str, str]:
    """{letter: content} of a source's options: a list ("(A)3", "B) 5", or bare contents in order)
    or one text with labels ("A) $f(-6)=0$ B) $f(6)=-6$")."""
    if options is None:
        return {}
    if isinstance(options, list | tuple):
        out = {}
        for i, option in enumerate(options):
            m = _OPTION_START.match(str(option))
            letter = m[1] if m else "ABCDE"[i] if i < 5 else None
            if letter:
                out[letter] = str(option)[m.end() :].strip() if m else str(option).strip()
        return out
    parts = _OPTION_IN_TEXT.split(str(options))
    return {letter: content.strip() for letter, content in zip(parts[1::2], parts[2::2])}


def options_text(options) -> str:
    """The options as the prompt shows them: one per line, each with its letter."""
    split = split_options(options)
    return "\n".join(f"({letter}) {content}" for letter, content in split.items()) or NO_OPTIONS_COLUMN


def select(rows: list[dict], spec: dict) -> list[tuple[int, dict]]:
    """(index in the source, row) of the rows to convert: ``where`` kept, then the first ``limit``."""
    selected = [(i, row) for i, row in enumerate(rows) if keep_where([row], spec.get("where"))]
    return selected[: spec["limit"]] if spec.get("limit") is not None else selected


def convert(rows: list[dict], bench: str, spec: dict, role: RoleSpec) -> tuple[list[dict], dict]:
    """The converted rows {problem, answer, source_index, how} and the conversion report."""
    how = spec["convert"]
    if how not in CONVERSIONS:
        raise ValueError(f"evaluation.benchmarks.{bench}.convert: {how!r} is none of {CONVERSIONS}")
    columns = spec.get("columns", {})
    problem_col, answer_col = columns.get("problem", "problem"), columns.get("answer", "answer")
    selected = select(rows, spec)
    converted: dict[int, dict] = {}
    dropped: list[dict] = []
    questions: list[tuple[int, Question, str | None]] = []  # (source index, question, answer from options)
    for index, row in selected:
        problem, gold = str(column(row, problem_col)), column(row, answer_col)
        if how == "translate_en":
            if not str(gold if gold is not None else "").strip():
                dropped.append({"source_index": index, "reason": "no_gold"})
                continue
            questions.append((index, Question(f"{bench}:{index}", {"question": problem}), str(gold)))
            continue
        letter, why = correct_letter(gold)
        if why == "already_open":
            converted[index] = {"problem": problem, "answer": str(gold).strip(), "source_index": index, "how": why}
            continue
        if why is not None:
            dropped.append({"source_index": index, "reason": why})
            continue
        options = column(row, spec["options"]) if spec.get("options") else None
        fields = {"question": problem, "options": options_text(options), "letter": letter}
        value = split_options(options).get(letter)
        questions.append((index, Question(f"{bench}:{index}", fields), strip_math(value) if value else None))
    template = "translate" if how == "translate_en" else "convert_open"
    answers = ask(role, template, [q for _, q, _ in questions])
    from_options = 0
    for (index, _, known_answer), parsed in zip(questions, answers.parsed):
        if not parsed.ok:
            dropped.append({"source_index": index, "reason": parsed.reason})
        elif how == "translate_en":
            converted[index] = {"problem": parsed.value, "answer": known_answer, "source_index": index, "how": how}
        else:
            from_options += known_answer is not None
            answer = known_answer if known_answer is not None else parsed.value["answer"]
            converted[index] = {"problem": parsed.value["problem"], "answer": answer, "source_index": index, "how": how}
    out = [converted[index] for index, _ in selected if index in converted]
    report = {
        "conversion": how,
        "source_items": len(rows),
        "selected": len(selected),
        "asked": len(questions),
        "kept": len(out),
        "kept_as_they_were": sum(r["how"] == "already_open" for r in out),
        "answers_from_options": from_options,
        "dropped_by_reason": dict(sorted(Counter(d["reason"] for d in dropped).items())),
        "dropped": sorted(dropped, key=lambda d: d["source_index"]),
    }
    return out, report
