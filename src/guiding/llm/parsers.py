"""Parsers for the answers to every prompt template, tolerant of what real models write.

Models wrap answers in markdown, bold their labels, number items in their own style (``1.``,
``1)``, ``Subtask 1:``, ``### Problem 1``), forget the end marker and add chatter before and after.
Each parser reads through that and returns a ``Parsed``: the value, or the reason it could not be
read. A parse failure is a reason to drop an item, never an exception, and no marker of a template
(``[[SUBTASK 1]]``, ``[[END]]``, ``Problem:``) ever reaches the parsed text.

Mode-neutral: the simulated world's answers and a real model's go through the same functions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Parsed:
    """What a parser read: ``value``, or ``reason`` why nothing usable was there."""

    value: Any = None
    reason: str | None = None
    """None when the answer was read; else a short tag such as "no_verdict" (the drop reason)."""
    dropped: tuple[str, ...] = field(default=())
    """Reasons for parts of the answer left out of ``value`` (e.g. a subtask without a solution)."""

    @property
    def ok(self) -> bool:
        return self.reason is None


def failed(reason: str, dropped: tuple[str, ...] = ()) -> Parsed:
    return Parsed(None, reason, dropped)


# ---------------------------------------------------------------- cleaning

_MARKER = re.compile(r"\[\[\s*/?\s*[A-Za-z][A-Za-z _-]*\s*\d*\s*\]\]")
_FENCE = re.compile(r"^\s*```[\w-]*\s*$", re.MULTILINE)
_BOLD = re.compile(r"\*\*|__")
_BOXED = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])")
# Markdown decoration around a line's start: headings, bullets, quotes, emphasis.
_DECORATION = re.compile(r"^[\s#>*_`-]*")


def clean(text: str) -> str:
    """``text`` without template markers, code fences, bold markers and outer blank lines."""
    text = _MARKER.sub("", text)
    text = _FENCE.sub("", text)
    text = _BOLD.sub("", text)
    lines = [line.rstrip() for line in text.splitlines()]
    return "\n".join(lines).strip()


def plain(line: str) -> str:
    """A line without markdown decoration at its start, bold markers and outer whitespace."""
    return _DECORATION.sub("", _BOLD.sub("", line)).strip()


def boxed_answer(text: str) -> str | None:
    """The content of the last complete ``\\boxed{...}`` (balanced braces), stripped, or None.

    The answer module grades; this only tells whether a parsed solution states a boxed result.
    """
    for m in reversed(list(_BOXED.finditer(text))):
        i = m.end()
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text) or text[i] != "{":
            continue
        depth = 0
        for j in range(i, len(text)):
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            if depth == 0:
                return text[i + 1 : j].strip()
    return None


def written_steps(solution: str) -> int:
    """Steps of a written solution: its non-empty lines that state no boxed answer (what the
    step-judging prompt calls a step)."""
    return sum(1 for line in solution.splitlines() if line.strip() and boxed_answer(line) is None)


def cut_after_answer(text: str) -> str:
    """``text`` up to the end of the last line holding a boxed answer (the rest is chatter)."""
    lines = text.splitlines()
    boxed = [i for i, line in enumerate(lines) if _BOXED.search(line)]
    if not boxed:
        return text.strip()
    return "\n".join(lines[: boxed[-1] + 1]).strip()


# ---------------------------------------------------------------- solutions


_SOLUTION_LABEL = re.compile(r"^(?:solution|answer|my solution|rewritten solution)\s*:\s*", re.IGNORECASE)


def parse_solution(text: str) -> Parsed:
    """A worked solution (solve and rewrite prompts): the text up to its boxed answer, markers removed."""
    body = clean(text)
    first, _, rest = body.partition("\n")
    if _SOLUTION_LABEL.match(plain(first)):
        body = (_SOLUTION_LABEL.sub("", plain(first)) + "\n" + rest).strip()
    body = cut_after_answer(body)
    if not body:
        return failed("empty")
    return Parsed(body)


# ---------------------------------------------------------------- decomposition

_NUMBER_WORDS = r"\d+|one|two|three|four|five|i{1,3}|iv|v"
_ITEM_HEADER = re.compile(
    rf"^(?:new\s+|sub-?)?(?:subtask|sub-?problem|problem|question|task|part|item)\s*#?\s*(?:{_NUMBER_WORDS})\b"
    r"\s*[:.)\-\u2013\u2014]?\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
_NUMBERED = re.compile(r"^\(?(?P<number>\d+)\s*[.)]\s*(?P<rest>.*)$")
_PROBLEM_LABEL = re.compile(r"^(?:problem|question|statement|task)\s*(?::|$)\s*(?P<rest>.*)$", re.IGNORECASE)
_SOLUTION_HEADER = re.compile(r"^(?:solution|worked solution|answer)\s*(?::|$)\s*(?P<rest>.*)$", re.IGNORECASE)
_END_MARKER = re.compile(r"\[\[\s*/?\s*end\s*\]\]", re.IGNORECASE)
_HEADER_MARKER = re.compile(r"\[\[\s*(?:sub-?)?(?:task|problem)", re.IGNORECASE)
_END = re.compile(r"^(?:end|-{3,}|\*{3,}|_{3,}|={3,})$", re.IGNORECASE)


@dataclass
class _Item:
    problem: list[str] = field(default_factory=list)
    solution: list[str] = field(default_factory=list)
    section: str | None = "problem"


def _item_done(item: _Item | None) -> bool:
    """No item open, or the open one's solution already holds its boxed answer: a numbered line
    ("2.") now starts the next item rather than a step of this one."""
    return item is None or item.section is None or any(_BOXED.search(line) for line in item.solution)


def parse_subtasks(text: str, expected: int | None = None) -> Parsed:
    """The subtasks of a decomposition answer: a list of {problem, solution, answer}.

    An item starts at a header (``[[SUBTASK 1]]``, ``Subtask 1:``, ``### Problem 1``, ``1.``) or at
    a ``Problem:`` label after a finished item; ``Solution:`` starts its solution; an end marker or
    the next item ends it. Each solution is cut after its boxed answer (chatter after it goes).
    Items without a problem, a solution or a boxed answer are left out, their reasons in ``dropped``;
    more items than ``expected`` is a failure (the model did not do what was asked).
    """
    from_json = _json_items(text)
    if from_json is not None:
        return _subtasks_from(from_json, expected)
    items: list[_Item] = []
    current: _Item | None = None

    def start() -> _Item:
        item = _Item()
        items.append(item)
        return item

    for raw in _FENCE.sub("", text).splitlines():
        ends = bool(_END_MARKER.search(raw)) or bool(_END.match(raw.strip()))
        unmarked = _BOLD.sub("", _MARKER.sub("", raw)).strip()
        line = plain(unmarked)  # for recognising headers and labels
        content = unmarked.lstrip("#").strip()  # what the text keeps (a leading minus sign stays)
        if _END.match(raw.strip()):
            content = line = ""
        header = _ITEM_HEADER.match(line) or (_NUMBERED.match(line) if _item_done(current) else None)
        if header or _HEADER_MARKER.search(raw):
            current = start()
            content = line = header["rest"].strip() if header else line
        problem, solution = _PROBLEM_LABEL.match(line), _SOLUTION_HEADER.match(line)
        if problem:
            if current is None or current.solution or current.section is None:
                current = start()
            current.section, content = "problem", problem["rest"]
        elif solution and current is not None:
            current.section, content = "solution", solution["rest"]
        if current is not None and current.section is not None and content:
            (current.problem if current.section == "problem" else current.solution).append(content)
        if ends and current is not None:
            current.section = None

    return _subtasks_from([("\n".join(i.problem), "\n".join(i.solution)) for i in items], expected)


def _subtasks_from(items: list[tuple[str, str]], expected: int | None) -> Parsed:
    subtasks, dropped = [], []
    for raw_problem, raw_solution in items:
        problem = clean(raw_problem)
        solution = cut_after_answer(clean(raw_solution))
        if not problem and not solution:
            continue  # a header with nothing under it, e.g. a repeated title
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


_JSON_ARRAY = re.compile(r"\[\s*\{.*\}\s*\]", re.DOTALL)


def _first_json(pattern: re.Pattern, text: str):
    """The JSON value of ``pattern``'s first match in ``text``, or None (no match, or not JSON)."""
    m = pattern.search(text)
    if not m:
        return None
    try:
        return json.loads(m[0])
    except (ValueError, RecursionError):
        return None


def _json_items(text: str) -> list[tuple[str, str]] | None:
    """(problem, solution) pairs when the answer is a JSON list of objects with those keys (some
    models answer in JSON whatever the prompt asks); None when it is not."""
    data = _first_json(_JSON_ARRAY, text)
    if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
        return None
    keys = [{k.lower(): v for k, v in d.items()} for d in data]
    if not all("problem" in d and "solution" in d for d in keys):
        return None
    return [(str(d["problem"]), str(d["solution"])) for d in keys]


# ---------------------------------------------------------------- verdicts and counts

_TRUE = {"1", "yes", "true", "correct", "right", "valid", "agree", "agrees", "\u2713", "\u2714"}
_FALSE = {"0", "no", "false", "incorrect", "wrong", "invalid", "disagree", "\u2717", "\u2718"}
_NOT_APPLICABLE = {"n/a", "na", "none", "unknown"}
_TOKEN = r"(1|0|yes|no|true|false|correct|incorrect|right|wrong|valid|invalid|n/?a|\u2713|\u2714|\u2717|\u2718)"


def _labelled(text: str, labels: str) -> list[str]:
    pattern = re.compile(rf"(?:{labels})\s*[:=\-]?\s*[\"'`(\[]*{_TOKEN}(?![\w/])", re.IGNORECASE)
    return [m[1].lower() for m in pattern.finditer(_BOLD.sub("", text))]


def _bare_token(text: str) -> str | None:
    """The answer when the whole reply is one token ("1", "**Yes.**") or boxes one (``\\boxed{1}``)."""
    boxed = boxed_answer(text)
    if boxed is not None and boxed.lower() in _TRUE | _FALSE | _NOT_APPLICABLE:
        return boxed.lower()
    stripped = re.sub(r"^[\s\"'`*_.(\[]+|[\s\"'`*_.!)\]]+$", "", text).lower()
    return stripped if stripped in _TRUE | _FALSE | _NOT_APPLICABLE else None


def _decide(token: str | None) -> Parsed:
    if token in _TRUE:
        return Parsed(True)
    if token in _FALSE:
        return Parsed(False)
    if token is not None and token.replace("/", "") in {t.replace("/", "") for t in _NOT_APPLICABLE}:
        return Parsed(None)
    return failed("no_verdict")


def parse_verdict(text: str) -> Parsed:
    """The final-result judge's verdict: True (1), False (0) or None (N/A); the last labelled one counts."""
    found = _labelled(text, r"verdict|final verdict|grade|judg(?:e)?ment|answer")
    return _decide(found[-1] if found else _bare_token(text))


def parse_yes_no(text: str) -> Parsed:
    """A filter's 1/0 answer as True/False; N/A or no answer is a failure."""
    found = _labelled(text, r"answer|verdict|result|decision")
    parsed = _decide(found[-1] if found else _bare_token(text))
    return parsed if parsed.ok and parsed.value is not None else failed("no_answer")


_COUNT = re.compile(r"(?:number of steps|steps?|count|total)\s*[:=\-]?\s*(\d+)", re.IGNORECASE)
_LONE_NUMBER = re.compile(r"^\D*?(\d+)\D*$", re.DOTALL)


def parse_count(text: str) -> Parsed:
    """The step count of the too-few-steps filter: "Steps: 4", or a reply holding a single number."""
    plain_text = _BOLD.sub("", text)
    found = _COUNT.findall(plain_text)
    if found:
        return Parsed(int(found[-1]))
    m = _LONE_NUMBER.match(plain_text)
    if m and len(m[1]) < 6:
        return Parsed(int(m[1]))
    return failed("no_count")


_STEP_VERDICT = re.compile(
    rf"^(?:step\s*)?#?\s*(\d+)\s*[:.)\-\u2013]?\s*(?:is\s+)?[\"'`(\[]*{_TOKEN}(?![\w/])", re.IGNORECASE
)


def parse_step_verdicts(text: str, n_steps: int | None = None) -> Parsed:
    """One verdict per step (True correct, False wrong, None not judged) from lines like "Step 2: 0".

    With ``n_steps`` the list has exactly that length: a step the judge skipped is None, a number
    beyond the solution's steps is ignored. A step given twice keeps its last verdict.
    """
    verdicts: dict[int, bool | None] = {}
    for raw in text.splitlines():
        m = _STEP_VERDICT.match(plain(raw))
        if m and 0 < int(m[1]) < 10_000:
            verdicts[int(m[1])] = _decide(m[2].lower()).value
    if not verdicts:
        return failed("no_step_verdicts")
    length = n_steps if n_steps is not None else max(verdicts)
    return Parsed([verdicts.get(i) for i in range(1, length + 1)])


# ---------------------------------------------------------------- paraphrase

_TEXT_BLOCK = re.compile(r"\[\[\s*text\s*\]\](.*?)(?:\[\[\s*/?\s*end\s*\]\]|\[\[\s*/\s*text\s*\]\]|$)", re.I | re.S)
_LEADING_CHATTER = re.compile(
    r"^(?:sure|certainly|of course|here(?:'s| is)|rewritten|paraphrase|the rewritten)\b[^\n]*:\s*$", re.I
)


def parse_paraphrase(text: str) -> Parsed:
    """The rewritten text: between ``[[TEXT]]`` and ``[[END]]`` when marked, else the reply without
    an introductory line ("Here is the rewritten text:")."""
    m = _TEXT_BLOCK.search(text)
    body = clean(m[1] if m else text)
    lines = body.splitlines()
    while lines and (_LEADING_CHATTER.match(plain(lines[0])) or not lines[0].strip()):
        lines.pop(0)
    body = "\n".join(lines).strip()
    return Parsed(body) if body else failed("empty")


# ---------------------------------------------------------------- benchmark conversions

_CONVERSION_MARKERS = (
    (re.compile(r"\[\[\s*(?:open\s+|rewritten\s+)?question\s*\]\]", re.I), "\nQuestion:"),
    (re.compile(r"\[\[\s*(?:final\s+|correct\s+)?answer\s*\]\]", re.I), "\nAnswer:"),
    (re.compile(r"\[\[\s*/?\s*end\s*\]\]", re.I), "\n[[END]]\n"),
)
_QUESTION_HEADER = re.compile(
    r"^(?:(?:the\s+)?(?:open|rewritten|new|converted)\s+)?(?:question|problem)\s*(?::|$)\s*(?P<rest>.*)$", re.I
)
_ANSWER_HEADER = re.compile(r"^(?:(?:the\s+)?(?:final|correct)\s+)?answer\s*(?::|$)\s*(?P<rest>.*)$", re.I)
_DROP_MARKER = re.compile(r"\[\[\s*drop(?:ped)?\s*\]\]\s*:?\s*(?P<why>[^\n]*)", re.I)
_DECLINED = re.compile(
    r"^\W*(?:drop(?:ped)?\s*:|(?:this|the)\s+question\s+cannot\s+be\s+(?:converted|asked|rewritten)|"
    r"cannot\s+be\s+(?:converted|asked|rewritten))\s*(?P<why>.*)$",
    re.I,
)
# Why a model declined, by the words of its reason (the prompt names the first two).
_DROP_REASONS = (
    ("statement", "dropped_statements"),
    ("true or false", "dropped_statements"),
    ("need", "dropped_needs_options"),
    ("without", "dropped_needs_options"),
    ("choice", "dropped_needs_options"),
    ("several", "dropped_several_answers"),
    ("multiple", "dropped_several_answers"),
    ("more than one", "dropped_several_answers"),
)
_OPTION_LABEL = re.compile(r"(?:^|\s)\(?[A-E]\)\s*\S")
_WHICH_OPTION = re.compile(r"\b(?:which|what)\s+of\s+the\s+following\b|\bthe\s+options?\s+(?:above|below)\b", re.I)
_LETTER_PREFIX = re.compile(r"^(?:(?:option|choice)\s+)?\(?([A-E])\)?\s*[:.)]\s+|^\(([A-E])\)\s*", re.I)
_JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


def _drop_reason(why: str) -> str:
    low = why.lower()
    return next((tag for word, tag in _DROP_REASONS if word in low), "dropped_other")


def strip_math(answer: str) -> str:
    """An answer without the wrappers a model puts around it: ``$...$``, ``\\(...\\)``, a whole
    ``\\boxed{...}``, a final full stop."""
    answer = answer.strip().rstrip(".").strip()
    for _ in range(3):
        before = answer
        for left, right in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
            inner = answer[len(left) : -len(right)]
            # "$a$ and $b$" is two formulas, not one wrapped: only a wrapper around the whole goes.
            if answer.startswith(left) and answer.endswith(right) and inner.strip() and left not in inner:
                answer = inner.strip()
        boxed = boxed_answer(answer)
        if boxed is not None and re.fullmatch(r"\\(?:boxed|fbox)\s*\{" + re.escape(boxed) + r"\s*\}", answer):
            answer = boxed
        if answer == before:
            break
    return answer


def _json_question(text: str) -> tuple[str, str] | None:
    data = _first_json(_JSON_OBJECT, text)
    if not isinstance(data, dict):
        return None
    keys = {str(k).lower().replace(" ", "_"): v for k, v in data.items()}
    question = next((keys[k] for k in ("question", "open_question", "problem") if k in keys), None)
    answer = next((keys[k] for k in ("answer", "correct_answer", "final_answer") if k in keys), None)
    if question is None or answer is None:
        return None
    return str(question), str(answer)


def parse_open_question(text: str) -> Parsed:
    """A multiple-choice question turned open (the convert_open prompt): ``{"problem", "answer"}``.

    Reads the marked form (``[[QUESTION]]``/``[[ANSWER]]``), labels (``Question:``, ``**Answer:**``,
    ``### Open question``) and a JSON object; the answer loses ``$...$``, a whole ``\\boxed{}`` and an
    option letter in front of it ("(C) 12"). A declined question ("[[DROP]] statements") is a
    reason, as is a question that still lists its options or an answer that is only a letter.
    """
    drop = _DROP_MARKER.search(text)
    if drop:
        return failed(_drop_reason(drop["why"]))
    pair = _json_question(text)
    if pair is None:
        pair = _labelled_question(text)
    if pair is None:
        declined = next((m for m in map(_DECLINED.match, clean(text).splitlines()) if m), None)
        return failed(_drop_reason(declined["why"]) if declined else "no_question")
    question, answer = clean(pair[0]), clean(pair[1])
    if not question:
        return failed("no_question")
    answer = strip_math(answer)
    prefix = _LETTER_PREFIX.match(answer)
    if prefix and answer[prefix.end() :].strip():
        answer = strip_math(answer[prefix.end() :])
    if not answer:
        return failed("no_answer")
    if re.fullmatch(r"\(?[A-E]\)?", answer):  # a lower-case e may be Euler's number
        return failed("answer_is_a_letter")
    if len(_OPTION_LABEL.findall(question)) >= 2 or _WHICH_OPTION.search(question):
        return failed("options_left_in_question")
    return Parsed({"problem": question, "answer": answer})


def _labelled_question(text: str) -> tuple[str, str] | None:
    """(question, answer) from the sections of a reply marked by headers or labels; None without a question."""
    for pattern, replacement in _CONVERSION_MARKERS:
        text = pattern.sub(replacement, text)
    sections: dict[str, list[str]] = {}
    current = None
    for raw in _FENCE.sub("", text).splitlines():
        if raw.strip() == "[[END]]":
            current = None if "answer" in sections else current
            continue
        line = plain(_MARKER.sub("", raw))
        question, answer = _QUESTION_HEADER.match(line), _ANSWER_HEADER.match(line)
        if question and "answer" not in sections:
            current, content = "question", question["rest"]
        elif answer and "question" in sections:
            current, content = "answer", answer["rest"]
        else:
            content = _BOLD.sub("", raw).strip() if current == "question" else line
        if current == "answer" and not content and sections.get("answer"):
            current = None  # a blank line ends the answer: what follows is chatter
            continue
        if current is not None:
            sections.setdefault(current, []).append(content)
    if "question" not in sections:
        return None
    answer = [line for line in sections.get("answer", []) if line]
    return "\n".join(sections["question"]).strip(), " ".join(answer)


_TRANSLATION_BLOCK = re.compile(
    r"\[\[\s*translation\s*\]\](.*?)(?:\[\[\s*/?\s*end\s*\]\]|\[\[\s*/\s*translation\s*\]\]|$)", re.I | re.S
)
_TRANSLATION_LABEL = re.compile(r"^(?:english\s+)?(?:translation|problem)(?:\s+in\s+english)?\s*:\s*", re.I)
_TRAILING_NOTE = re.compile(r"^(?:note|notes|explanation|translator'?s note)\s*:", re.I)
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
MAX_UNTRANSLATED = 0.1  # share of a translation's letters that may be Chinese characters


def parse_translation(text: str) -> Parsed:
    """The English problem (the translate prompt): between ``[[TRANSLATION]]`` and ``[[END]]`` when
    marked, else the reply without an introductory line, a "Translation:" label or a closing note.
    A reply still mostly in Chinese is the reason "not_translated"."""
    m = _TRANSLATION_BLOCK.search(text)
    body = clean(m[1] if m else text)
    lines = body.splitlines()
    while lines and (_LEADING_CHATTER.match(plain(lines[0])) or _is_intro(lines[0]) or not lines[0].strip()):
        lines.pop(0)
    if lines and _TRANSLATION_LABEL.match(plain(lines[0])):
        lines[0] = _TRANSLATION_LABEL.sub("", plain(lines[0]))
    for i, line in enumerate(lines):
        if i and _TRAILING_NOTE.match(plain(line)):
            lines = lines[:i]
            break
    body = "\n".join(lines).strip()
    if not body:
        return failed("empty")
    letters = [c for c in body if c.isalpha()]
    if letters and sum(bool(_HAN.match(c)) for c in letters) > MAX_UNTRANSLATED * len(letters):
        return failed("not_translated")
    return Parsed(body)


def _is_intro(line: str) -> bool:
    """A line that only announces the translation ("Here is the English version:")."""
    text = plain(line).lower()
    return text.endswith(":") and any(w in text for w in ("translation", "translated", "english", "here is", "here's"))


# Each template's parser; the ones with a second argument take it from the request's context.
PARSERS: dict[str, Callable[..., Parsed]] = {
    "decompose": parse_subtasks,
    "solve": parse_solution,
    "rewrite": parse_solution,
    "judge_final": parse_verdict,
    "judge_steps": parse_step_verdicts,
    "filter_ill_defined": parse_yes_no,
    "filter_too_few_steps": parse_count,
    "filter_near_duplicate": parse_yes_no,
    "paraphrase": parse_paraphrase,
    "convert_open": parse_open_question,
    "translate": parse_translation,
}
