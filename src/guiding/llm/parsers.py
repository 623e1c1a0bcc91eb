"""Parsers for the answers to every prompt template: they read what real models write, and reject
what they cannot read rather than guess.

A parser reads the answer part of a reply (``guiding.llm.replies.answer_part`` cuts reasoning and
refuses cut-off replies first) and returns a ``Parsed``: the value, or a short reason why there is
none. A rejection costs one request; a wrong value corrupts the study, so every rule here errs
towards rejecting:

- A decision (verdict, yes/no, count, step verdicts) is read only from the reply's last decision
  line: a line that starts with the label ("Verdict: 1"), a bare final token ("**1**"), or a first
  sentence that starts with the answer ("Yes, it is well defined."). A label inside an explanation
  or a draft ("Reason: the final answer: 1 real root") is no decision line.
- Kept text (solutions, paraphrases, translations, questions) keeps its markdown: only the labels
  and markers around it are dropped, with their decoration. Refusals are the reason ``refusal``.
- Each decision template also accepts, as the whole reply, the JSON object its structured-output
  schema asks for (``guiding.llm.schemas``); near-JSON is read with ``json-repair``, with LaTeX backslashes
  kept (``\\frac`` is never a form feed).

Every rejection's reason is a snake_case tag that the rule's report counts. docs/parsers.md lists
what each parser accepts and refuses. Mode-neutral: the simulated world's answers and a real
model's go through the same functions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import json_repair


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


# ---------------------------------------------------------------- lines, labels, markers

_MARKER = re.compile(r"\[\[\s*/?\s*[A-Za-z][A-Za-z _-]*\s*\d*\s*\]\]")
_FENCE = re.compile(r"^\s*```[\w-]*\s*$", re.MULTILINE)
_BOXED = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])")
# Decoration in front of a line's first word: spaces, headings, quotes, bullets (a minus sign
# directly before a digit is no bullet), bold or italic markers.
_LEAD = re.compile(r"^(?:\s|[>#\u2022\u00b7]|[-+*](?=\s|$)|\*\*|__|\*(?=\w)|_(?=\w))*")
_BOLD_TAIL = r"\s*(?:\*\*|__|\*)?\s*"
# Characters models write in full width (Qwen, DeepSeek), for decision lines only.
_FULL_WIDTH = str.maketrans(
    {"\uff1a": ":", "\uff0c": ",", "\u3002": ".", "\uff08": "(", "\uff09": ")", "\uff01": "!", "\uff1b": ";"}
    | {chr(0xFF10 + d): str(d) for d in range(10)}
)


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def lead(line: str) -> str:
    """``line`` without the decoration in front of its first word (for recognising labels only)."""
    return _LEAD.sub("", line).rstrip()


def _labelled(label: str, loose: bool = False) -> re.Pattern:
    """A line that starts with ``label`` and a colon, bold markers around either allowed; group
    ``rest`` is what follows, untouched. ``loose`` also takes "=", a dash, "is" or a bare space
    before a digit or wrapper ("Verdict = 1", "Verdict - 0", "Verdict $1$")."""
    sep = r"(?:[:\uff1a=]|\s*[\u2013\u2014-]|\s+is\b|\s+(?=[\d*$\\(\[]))" if loose else r"[:\uff1a]"
    return re.compile(rf"^(?:{label}){_BOLD_TAIL}{sep}{_BOLD_TAIL}(?P<rest>.*)$", re.IGNORECASE | re.DOTALL)


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


# ---------------------------------------------------------------- refusals

_REFUSAL = re.compile(
    r"^(?:"
    # An apology or "unfortunately" followed, in the same sentence, by a can't.
    r"(?:i'?m\s+|i\s+am\s+)?(?:(?:really|very|so|terribly)\s+)?(?:sorry|unfortunately|apologies|i\s+apologi[sz]e)\b"
    r"[^.!?\n]{0,60}?\b(?:can(?:no|')?t|can\s+not|won'?t|will\s+not|unable|not\s+able|must\s+decline)\b"
    r"|i(?:\s+can(?:no|')?t|\s+can\s+not|\s+won'?t|\s+will\s+not|\s+must\s+decline|(?:'m|\s+am)\s+unable\s+to|"
    r"(?:'m|\s+am)\s+not\s+able\s+to)\s+(?:be\s+able\s+to\s+)?(?:help|assist|provide|comply|fulfil+|complete|do\s+that|"
    r"answer|respond|translate|rewrite|paraphrase|solve|support|process|engage|continue|create|produce|generate)\b"
    r"|as\s+an\s+ai\b[^.!?\n]{0,60}?\b(?:can(?:no|')?t|can\s+not|unable|not\s+able)\b"
    r"|(?:很|非常)?(?:抱歉|对不起|不好意思)[^。！\n]{0,30}?(?:无法|不能|不可以|没法)"
    r"|我(?:无法|不能|没法)(?:帮助|协助|提供|回答|完成|翻译|处理|满足|改写|解答)"
    r")",
    re.IGNORECASE,
)


def is_refusal(text: str) -> bool:
    """The reply declines the request ("I'm sorry, but I can't help with that.", "抱歉，我无法…").

    Only the first sentence counts, and only a reply that then holds no template marker and no
    boxed answer: a model that apologises and then answers has answered.
    """
    body = text.strip()
    if not body:
        return False
    first = lead(_lines(body)[0])
    return bool(_REFUSAL.match(first)) and not _MARKER.search(body) and not _BOXED.search(body)


# ---------------------------------------------------------------- JSON, near-JSON and LaTeX

# What may follow "\n" when it starts a LaTeX command rather than a newline escape.
_N_COMMANDS = (
    "eq|e|abla|eg|ot|otin|u|i|mid|leq|geq|leqslant|geqslant|exists|ewline|parallel|subseteq|supseteq|"
    "cong|sim|prec|succ|leftarrow|rightarrow|Leftarrow|Rightarrow|olimits|ormalsize|atural"
)
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.DOTALL)
_N_COMMAND = re.compile(rf"n(?:{_N_COMMANDS})(?![A-Za-z])")


def _keep_latex(text: str) -> str:
    """JSON text with each single backslash that starts a LaTeX command doubled, so that it loads
    as a backslash: ``\\frac``, ``\\theta``, ``\\beta`` and ``\\neq`` are LaTeX, not the JSON
    escapes ``\\f``, ``\\t``, ``\\b``, ``\\n`` followed by letters; ``\\sqrt`` or ``\\(`` (no JSON
    escape at all) keep their backslash too."""

    def fix(m: re.Match) -> str:
        what = m[1]
        if what in ('"', "\\", "/") or len(what) == 5:
            return m[0]
        after = text[m.end() : m.end() + 1]
        if what in "bfrt" and not after.isalpha():
            return m[0]
        if what == "n" and not _N_COMMAND.match(text, m.start() + 1):
            return m[0]
        return "\\" + m[0]

    return _ESCAPE.sub(fix, text)


def _balanced_end(text: str, start: int) -> int | None:
    """The index just after the bracket that closes the one at ``start`` (strings skipped), or None."""
    depth, quote, i = 0, None, start
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = None
        elif c in "\"'" and (c == '"' or text[i - 1 : i] in ("{", "[", ",", ":", " ", "\n")):
            quote = c
        elif c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


def _load_json(text: str, start: int) -> tuple[Any, int] | None:
    """The JSON value whose bracket opens at ``start`` and the index after it, or None.

    Strict JSON first; near-JSON (trailing commas, single quotes, a missing quote) through
    ``json_repair``; single-backslash LaTeX survives either way. Text after the value is ignored.
    """
    end = _balanced_end(text, start)
    if end is None:
        return None
    span = _keep_latex(text[start:end])
    try:
        return json.loads(span), end
    except (ValueError, RecursionError):
        pass
    try:
        value = json_repair.loads(span, skip_json_loads=True)
    except Exception:  # the repair library's own failures are a reason, never a crash
        return None
    return (value, end) if isinstance(value, dict | list) and value else None


def _unfenced(text: str) -> str:
    return _FENCE.sub("", text.replace("\r\n", "\n")).strip()


_NOT_JSON = object()


def _whole_json_object(text: str) -> Any:
    """The JSON object that is the whole reply (a code fence around it allowed); ``_NOT_JSON`` when
    the reply is no JSON object; None when it starts like one but cannot be read."""
    body = _unfenced(text)
    if not body.startswith("{"):
        return _NOT_JSON
    loaded = _load_json(body, 0)
    if loaded is None or body[loaded[1] :].strip() or not isinstance(loaded[0], dict):
        return None
    return {str(k).strip().lower(): v for k, v in loaded[0].items()}


# ---------------------------------------------------------------- decision tokens

_TOKEN = re.compile(
    r"(not\s+correct|incorrect|correct|n\s*/\s*a|na|none|unknown|yes|no|true|false|right|wrong|valid|invalid|"
    r"disagrees?|agrees?|1|0|\u2705|\u2714\ufe0f?|\u2713|\u2611\ufe0f?|\u274c|\u274e|\u2717|\u2718|"
    r"正确|错误|是的|是|否)",
    re.IGNORECASE,
)
_TRUE = {"1", "yes", "true", "correct", "right", "valid", "agree", "agrees", "\u2705", "\u2714", "\u2714\ufe0f"}
_TRUE |= {"\u2713", "\u2611", "\u2611\ufe0f", "正确", "是", "是的"}
_FALSE = {"0", "no", "false", "incorrect", "not correct", "wrong", "invalid", "disagree", "disagrees", "\u274c"}
_FALSE |= {"\u274e", "\u2717", "\u2718", "错误", "否"}
_NOT_APPLICABLE = {"n/a", "na", "none", "unknown"}
# Wrappers around a token: quotes, brackets, emphasis, math delimiters, \boxed{...}, \text{...}.
_OPEN_WRAP = re.compile(r"(?:[\s*_`\"'(\[$]|\\boxed\s*\{|\\text(?:bf)?\s*\{|\\mathrm\s*\{|\\\(|\\\[|\{)*")
_CLOSE_WRAP = re.compile(r"(?:[}*_`\"')\]$]|\\\)|\\\])*")
# What may follow a token on a decision line: nothing, punctuation, a dash, or a reason.
_AFTER_TOKEN = re.compile(r"\s*(?:$|[.,;:!?(\-\u2013\u2014])|\s+(?:because|since|as|so|but|given)\b", re.I)
# A digit followed by an operator and an equation is a restated computation ("1 - 6 = -5"), no verdict.
_ARITHMETIC_AFTER = re.compile(r"\s*[-+*/\u00d7\u00f7^=<>]")
# The tokens a first sentence may start with ("Right, so ..." or "True, ..." open a sentence too).
_PROSE_TOKEN = re.compile(r"(not\s+correct|incorrect|correct|yes|no|1|0|\u2705|\u274c|是的|正确|错误|是|否)", re.I)
_AMBIGUOUS_AFTER = re.compile(r"\s*(?:/|\bor\b|\band\b)|\.\d", re.I)


def _token_value(token: str) -> bool | None | str:
    """True, False, None (N/A), or "" for no decision."""
    t = re.sub(r"\s+", " ", token.lower()).replace(" / ", "/").replace(" /", "/").replace("/ ", "/")
    if t in _TRUE:
        return True
    if t in _FALSE:
        return False
    if t in _NOT_APPLICABLE:
        return None
    return ""


def _read_token(text: str, words_may_run_on: bool) -> bool | None | str:
    """The decision ``text`` starts with (after its wrappers), or "" when it starts with none.

    A digit must be followed by nothing, punctuation or a reason ("1 real root" is no verdict);
    a word may run on when ``words_may_run_on`` ("Answer: no it lacks b").
    """
    text = text.translate(_FULL_WIDTH)
    i = _OPEN_WRAP.match(text).end()
    m = _TOKEN.match(text, i)
    if not m:
        return ""
    j = _CLOSE_WRAP.match(text, m.end()).end()
    rest = text[j:]
    if _AMBIGUOUS_AFTER.match(rest):
        return ""
    if m[1].isdigit() and _ARITHMETIC_AFTER.match(rest) and "=" in rest:
        return ""
    if m[1][-1].isalnum() and rest[:1].isalnum() and m[1].isascii():
        return ""  # "no" in "not", "1" in "10"
    # A mark (✅, 正确) may run on into its explanation; a word only where the line's label says
    # what it answers ("Answer: no it lacks b"), never a digit ("1 real root").
    runs_on = not m[1].isascii() or (m[1][0].isalpha() and words_may_run_on)
    if not _AFTER_TOKEN.match(rest) and not (runs_on and rest[:1].isspace()):
        return ""
    return _token_value(m[1])


def _bare_token(line: str) -> bool | None | str:
    """The decision when ``line`` is nothing but a token (wrapped, with a full stop at most)."""
    text = lead(line).translate(_FULL_WIDTH)
    core = text[_OPEN_WRAP.match(text).end() :]
    core = re.sub(r"(?:[}*_`\"')\]$.!\s]|\\\)|\\\])+$", "", core)
    m = _TOKEN.fullmatch(core)
    return _token_value(m[1]) if m else ""


# A hedge in front of a first sentence's decision: "I would say yes, because ...", "I'd say no -".
_HEDGE = re.compile(r"^(?:i\s+would|i'd|i\s+will|i'll)\s+(?:say|answer)\s*:?\s*", re.I)


def _first_sentence_decision(line: str) -> bool | None | str:
    """The decision a reply's first line starts with, followed by punctuation or its end:
    "Yes, it is well defined.", "Correct - both give 14.", "1 - the results agree", also after
    a hedge ("I would say yes, because ...")."""
    text = lead(line)
    text = text[_HEDGE.match(text).end() :] if _HEDGE.match(text) else text
    m = _PROSE_TOKEN.match(text.translate(_FULL_WIDTH))
    if not m:
        return ""
    rest = text.translate(_FULL_WIDTH)[m.end() :]
    rest = _CLOSE_WRAP.sub("", rest, count=1) if rest[:1] in "*_" else rest
    if m[1][-1].isalnum() and rest[:1].isalnum() and m[1].isascii():
        return ""
    if m[1].isdigit() and re.match(r"\s*[.)]\s*\S", rest):
        return ""  # "1. The reference answer is 14." numbers a list
    if re.match(r"\s*(?:$|[.,;:!\-\u2013\u2014])", rest) and not _AMBIGUOUS_AFTER.match(rest):
        return _token_value(m[1])
    return ""


def _decision(text: str, labels: str, weak_labels: str) -> bool | None | str:
    """The reply's last decision, or "" when there is none or the last one cannot be read.

    Decision lines: a line that starts with one of ``labels`` ("Verdict: 1", "The verdict is 0"),
    whose unreadable value ("Verdict: the results agree") is a decision that cannot be read; a line
    that starts with one of ``weak_labels`` and a readable value (a judge's "Answer: 14" restates
    a result and is skipped); a label alone ("## Verdict") and a bare token on the next line; a
    first line that starts with the answer ("Yes, it is well defined."); a bare last line ("**1**").
    """
    strong, weak = _labelled(labels, loose=True), _labelled(weak_labels, loose=True)
    alone = re.compile(rf"^(?:{labels}){_BOLD_TAIL}[:\uff1a]?{_BOLD_TAIL}$", re.IGNORECASE)
    lines = [lead(line) for line in _lines(text.translate(_FULL_WIDTH))]
    filled = [i for i, line in enumerate(lines) if line]
    found: list[bool | None | str] = []
    after_label = False
    for i in filled:
        line = _STATEMENT.sub(r"\g<label>: ", lines[i], count=1)
        m, w = strong.match(line), weak.match(line)
        if line != lines[i]:  # a sentence ("The verdict is based on ...") counts only where it reads
            m, w = None, m or w
        if m and m["rest"].strip():
            found.append(_read_token(m["rest"], words_may_run_on=True))
        elif w and w["rest"].strip():
            value = _read_token(w["rest"], words_may_run_on=True)
            if value != "":
                found.append(value)
        elif alone.match(line) or (m and not m["rest"].strip()):
            after_label = True  # a heading "## Verdict": the decision is on the next line
            continue
        else:
            value = _first_sentence_decision(lines[i]) if i == filled[0] else ""
            if value == "" and (after_label or i in (filled[0], filled[-1])):
                value = _bare_token(lines[i])
            if value != "":
                found.append(value)
        after_label = False
    return found[-1] if found else ""


# "The verdict is 1", "So my final answer is 0": read as "verdict: 1", "final answer: 0".
_STATEMENT = re.compile(
    r"^(?:(?:so|thus|therefore|hence)\s*,?\s+)?(?:i\s+(?:think|believe)\s+)?(?:the|my)\s+(?P<label>(?:final\s+)?(?:verdict|answer|decision|result))"
    r"\s+(?:is|would\s+be)\s*:?\s*",
    re.IGNORECASE,
)


# ---------------------------------------------------------------- verdicts and filters

_VERDICT_LABELS = r"(?:my\s+|the\s+)?(?:final\s+)?(?:verdict|grade|judge?ment|evaluation)|判定"
_VERDICT_WEAK = r"(?:my\s+|the\s+)?(?:final\s+)?(?:answer|decision|result|conclusion)|结论"
_ANSWER_LABELS = r"(?:my\s+|the\s+)?(?:final\s+)?answer|答案"
_ANSWER_WEAK = r"(?:my\s+|the\s+)?(?:final\s+)?(?:verdict|result|decision|conclusion)|结论"


def parse_verdict(text: str) -> Parsed:
    """The final-result judge's verdict: True (1), False (0) or None (N/A), from the last decision
    line; or the structured ``{"verdict": "1" | "0" | "N/A"}``."""
    data = _whole_json_object(text)
    if data is not _NOT_JSON:
        value = _token_value(str(data.get("verdict", "")).strip()) if data else ""
        return failed("invalid_json") if value == "" else Parsed(value)
    value = _decision(text, _VERDICT_LABELS, _VERDICT_WEAK)
    if value == "":
        return failed("refusal" if is_refusal(text) else "no_verdict")
    return Parsed(value)


def parse_yes_no(text: str) -> Parsed:
    """A filter's 1/0 answer as True/False, from the last decision line; or the structured
    ``{"answer": 0 | 1}``. N/A or no answer is a failure."""
    data = _whole_json_object(text)
    if data is not _NOT_JSON:
        raw = data.get("answer") if data else None
        value = _token_value(str(int(raw)) if isinstance(raw, bool) else str(raw).strip()) if raw is not None else ""
        return Parsed(value) if isinstance(value, bool) else failed("invalid_json")
    value = _decision(text, _ANSWER_LABELS, _ANSWER_WEAK)
    if not isinstance(value, bool):
        return failed("refusal" if value == "" and is_refusal(text) else "no_answer")
    return Parsed(value)


# The ill-defined filter's answer in its own words, at the start of an answer line or of the reply:
# "Answer: Not well defined", "**Answer:** ill-defined (...)", "Well defined - every quantity ...".
_WELL_DEFINED_WORDS = re.compile(
    r"^(?P<head>\W*(?:(?:my\s+|the\s+)?(?:final\s+)?answer"
    + _BOLD_TAIL
    + r"[:\uff1a]"
    + _BOLD_TAIL
    + r"|i\s+(?:would\s+say|think|believe)\s+(?:that\s+)?|i'd\s+say\s+(?:that\s+)?)?)"
    r"(?P<words>(?:(?:it|the\s+problem|this\s+problem)\s+is\s+)?(?:(?:not|ill)[\s-]+(?:well[\s-]+)?|well[\s-]+)(?:defined|posed))"
    r"(?=\W*$|\s*[.,;:!(\u2013\u2014]|\s+-\s|\s+(?:because|since|as)\b)",
    re.I,
)


def parse_well_defined(text: str) -> Parsed:
    """The ill-defined filter's answer (``parse_yes_no``), also given in words on an answer line or
    as the reply's start: "Answer: Not well defined" is 0, "Answer: Well defined" is 1."""

    def in_digits(m: re.Match) -> str:
        negated = re.search(r"\b(?:not|ill)[\s-]", m["words"], re.I)
        head = m["head"] if re.search(r"answer", m["head"], re.I) else "Answer: "  # a sentence: read as its answer
        return head + ("0" if negated else "1")

    lines = _lines(text)
    for i, line in enumerate(lines):
        if i == 0 or re.match(r"\W*(?:(?:my|the)\s+)?(?:final\s+)?answer\b", line, re.I):
            lines[i] = _WELL_DEFINED_WORDS.sub(in_digits, line, count=1)
    return parse_yes_no("\n".join(lines))


# ---------------------------------------------------------------- step counts

_NUMBER_WORDS = {
    w: n
    for n, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen".split()
    )
}
_NUMBER = r"(\d{1,4}|" + "|".join(_NUMBER_WORDS) + r")"
_COUNT_LABELS = (
    r"(?:total\s+|the\s+)?(?:number\s+of\s+(?:reasoning\s+)?steps|(?:reasoning\s+)?steps|step\s+count|steps\s+count)"
    r"|count|total|步骤数|步数"
)
_COUNT_VALUE = re.compile(
    rf"^[\s*_`$(\[{{]*(?:\\boxed\s*\{{)?[\s*_`$]*{_NUMBER}[\s*_`$}})\]]*"
    r"(?=$|\.\s|\.$|\s*\(|\s+(?:reasoning\s+)?steps?\b|\s*[\u2013\u2014;]|\s+-\s)",
    re.IGNORECASE,
)
_STEPS_PHRASE = re.compile(
    rf"\b{_NUMBER}\s+(?:(?:distinct|separate|reasoning|computational|main|key|total)\s+)*steps?\b", re.IGNORECASE
)
_SENTENCE = re.compile(r"^.*?(?:[.!?](?=\s|$)|$)", re.DOTALL)


def _number(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBER_WORDS[word.lower()]


def _phrase_count(sentence: str) -> int | None:
    """The count a sentence states as "N steps", when it states exactly one."""
    counts = {_number(m[1]) for m in _STEPS_PHRASE.finditer(re.sub(r"\*\*|__", "", sentence))}
    return counts.pop() if len(counts) == 1 else None


def parse_count(text: str) -> Parsed:
    """The step count of the too-few-steps filter, from the last decision line ("Steps: 4", a bare
    number, or a first or last sentence that says "N steps"); or the structured ``{"steps": N}``.
    "Step 3: ..." enumerates a step and is no count."""
    data = _whole_json_object(text)
    if data is not _NOT_JSON:
        raw = data.get("steps") if data else None
        if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
            return Parsed(raw)
        if isinstance(raw, str) and raw.strip().isdigit():
            return Parsed(int(raw.strip()))
        return failed("invalid_json")
    lines = _lines(text.translate(_FULL_WIDTH))
    filled = [i for i, line in enumerate(lines) if line.strip()]
    label = _labelled(_COUNT_LABELS, loose=True)
    found: list[int | None] = []
    labelled = [m for m in (label.match(lead(lines[i])) for i in filled) if m and m["rest"].strip()]
    for m in labelled:  # a labelled count wins over any sentence about some of the steps
        value = _COUNT_VALUE.match(m["rest"].strip())
        found.append(_number(value[1]) if value else None)
    for i in filled if not labelled else ():
        line = lead(lines[i])
        if i in (filled[0], filled[-1]):
            bare = re.fullmatch(r"[\s*_`$(\[{]*(?:\\boxed\s*\{)?[\s*_`$]*(\d{1,4})[\s*_`$})\].]*", line)
            if bare:
                found.append(int(bare[1]))
                continue
            sentence = _SENTENCE.match(line)[0] if i == filled[0] else line
            phrase = _phrase_count(sentence)
            if phrase is not None:
                found.append(phrase)
    if found and found[-1] is not None:
        return Parsed(found[-1])
    return failed("refusal" if not found and is_refusal(text) else "no_count")


# ---------------------------------------------------------------- step verdicts

_STEP_LINE = re.compile(
    r"^(?:steps?|\u6b65\u9aa4|\u7b2c)?\s*#?\s*(\d{1,4})(?:\s*(?:-|\u2013|to|through)\s*(?P<last>\d{1,4}))?"
    r"\s*(?:\u6b65)?(?:\s*\([^()]*\))?(?:\*\*|__)?\s*"
    r"(?:->|=>|[\u2192\u21d2\u27f6\u27f9]|[:.)\-\u2013\u2014=]|is\b)\s*(?:\*\*|__)?\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
_TRAILING_MARK = re.compile(r"(?:^|\s)(\u2705|\u274c|\u2714\ufe0f?|\u2713|\u2717|\u2718|\u274e)\s*$")
_TRAILING_WORD = re.compile(
    r"(?:[\u2013\u2014:,]|\s-|->|\u2192|=>|\(|\bthis\s+(?:step\s+)?is|\bwhich\s+is)\s*(?:\*\*|__)?\s*"
    r"(not\s+correct|correct|incorrect|wrong|right)(?:\*\*|__)?\s*[).!]?\s*$",
    re.IGNORECASE,
)
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}")


_ARROW = re.compile(r"\s(?:->|=>|[\u2192\u21d2\u27f6\u27f9\u2794])\s")
# A restated computation that an arrow completes: "15 - 14 -> 1" gives 1, no verdict.
_OPEN_COMPUTATION = re.compile(r"[-+*/\u00d7\u00f7\u2212\u22c5^]|\\(?:times|cdot|div|frac)")


def _step_verdict(rest: str) -> bool | None | str:
    """The verdict on a step line after its number: "1", "correct", "**0** (7 * 2 is 14)", a
    restated step that ends in a mark ("b = 7 ✅", "c = 15 — incorrect") or an arrow and a verdict
    ("b = 3 + 4 = 7 → 1"). "1 + 6 = 8" and "15 - 14 → 1" are none."""
    value = _read_token(rest, words_may_run_on=False)
    if value != "":
        return value
    arrows = list(_ARROW.finditer(rest))
    if arrows:
        before, after = rest[: arrows[-1].start()], rest[arrows[-1].end() :]
        value = _read_token(after, words_may_run_on=True)
        # A digit after an arrow may be what the restated computation gives ("15 - 14 -> 1"): it is
        # a verdict only after a finished equation ("b = 3 + 4 = 7 -> 1"), whose last side is a value.
        if value != "" and not (
            _OPEN_COMPUTATION.search(re.split(r"=|" + _ARROW.pattern, before)[-1])
            and re.match(r"[\s*_`\"'$(\[{]*[01]\b", after)
        ):
            return value
    mark = _TRAILING_MARK.search(rest) or _TRAILING_WORD.search(rest)
    return _token_value(mark[1]) if mark else ""


def parse_step_verdicts(text: str, n_steps: int | None = None) -> Parsed:
    """One verdict per step (True correct, False wrong, None not judged) from lines like "Step 2: 0",
    "2. correct", "Step 3 — ❌", markdown table rows, or the structured ``{"steps": [1, 0, ...]}``.

    With ``n_steps`` the list has exactly that length: a step the judge skipped is None, a number
    beyond the solution's steps is ignored. A step given twice keeps its last verdict.
    """
    data = _whole_json_object(text)
    if data is not _NOT_JSON:
        raw = data.get("steps") if data else None
        if not isinstance(raw, list) or not raw:
            return failed("invalid_json")
        values = [_token_value(str(int(v)) if isinstance(v, bool) else str(v).strip()) for v in raw]
        if any(not isinstance(v, bool) for v in values):
            return failed("invalid_json")
        length = n_steps if n_steps is not None else len(values)
        return Parsed([values[i] if i < len(values) else None for i in range(length)])
    verdicts: dict[int, bool | None] = {}
    for raw_line in _lines(text.translate(_FULL_WIDTH)):
        if raw_line.count("|") >= 2:
            number, value = _table_row(raw_line)
        else:
            m = _STEP_LINE.match(lead(raw_line))
            number, value = (int(m[1]), _step_verdict(m["rest"])) if m else (0, "")
            if m and m["last"] and value != "" and number < int(m["last"]) <= number + 50:
                verdicts.update(dict.fromkeys(range(number, int(m["last"])), value))  # "Steps 1-3: 1"
                number = int(m["last"])
        if value != "" and 0 < number < 10_000:
            verdicts[number] = value
    if not verdicts:
        return failed("refusal" if is_refusal(text) else "no_step_verdicts")
    length = n_steps if n_steps is not None else max(verdicts)
    return Parsed([verdicts.get(i) for i in range(1, length + 1)])


def _table_row(line: str) -> tuple[int, bool | None | str]:
    """(step number, verdict) of a markdown table row "| 2 | c = 14 | ✅ |"; (0, "") for others."""
    if _TABLE_RULE.match(line):
        return 0, ""
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    first = re.fullmatch(r"(?:\*\*|__)?\s*(?:step\s*)?#?\s*(\d{1,4})\s*(?:\*\*|__)?", cells[0], re.IGNORECASE)
    filled = [c for c in cells[1:] if c]
    if not first or not filled:
        return 0, ""
    for cell in reversed(filled):
        value = _read_token(cell, words_may_run_on=True)
        if value != "":
            return int(first[1]), value
    return 0, ""


# ---------------------------------------------------------------- kept text: labels, notes

_INTRO = re.compile(
    r"^(?:sure|certainly|of\s+course|okay|ok|absolutely|great|here(?:'s|\s+is|\s+are)|below\s+is|"
    r"the\s+following\s+is|i\s+have\s+(?:rewritten|paraphrased|translated))\b",
    re.IGNORECASE,
)
_INTRO_TOPIC = re.compile(
    r"paraphras|rewrit|reword|rephras|translat|in\s+english|version|in\s+other\s+words|solution|step-by-step", re.I
)
# A line ending in a colon that announces the text ("The English translation is:").
_ANNOUNCES = re.compile(r"paraphras|rewrit|reword|rephras|translat|in\s+english", re.I)
_TEXT_LABEL = (
    r"(?:(?:the|my|a)\s+)?(?:(?:final|paraphrased|rewritten|reworded|rephrased|revised|new|english|translated|"
    r"concise|own)\s+)*(?:text|problem|solution|version|question|translation|paraphrase|rewrite|english)"
    r"(?:\s+in\s+english)?(?:\s*\((?:english|in\s+english)\))?|translation|paraphrase"
)
_LABEL_LINE = _labelled(_TEXT_LABEL)
_LABEL_ALONE = re.compile(rf"^(?:{_TEXT_LABEL}){_BOLD_TAIL}[:\uff1a]?{_BOLD_TAIL}$", re.IGNORECASE)
_NOTE = re.compile(
    r"^\(?\s*(?:notes?|n\.\s*b\.|explanation|translator'?s\s+notes?|remarks?|changes(?:\s+made)?)"
    rf"{_BOLD_TAIL}[:\uff1a]"
    r"|^\(?\s*(?:i\s+(?:have\s+|'ve\s+)?(?:kept|preserved|maintained|left|changed|rephrased|reworded|used|"
    r"translated|made|did\s+not)|i've\s+\w+|translated\s+from|hope\s+this|i\s+hope|let\s+me\s+know|feel\s+free|"
    r"this\s+(?:paraphrase|rewrite|translation|version))",
    re.IGNORECASE,
)


def _drop_intro(lines: list[str]) -> list[str]:
    """``lines`` without leading blank lines, an introduction ("Sure! Here is the paraphrase:") and
    a label ("Paraphrased solution:"), whose content on the same line stays."""
    lines = list(lines)
    for _ in range(3):
        while lines and not lines[0].strip():
            lines.pop(0)
        if not lines:
            break
        first = lead(lines[0])
        intro = _INTRO.match(first) and len(first) < 160
        split = re.match(r"(?P<head>[^:\uff1a]*)[:\uff1a]\s*(?P<rest>.*)$", first)
        head, rest = (split["head"], split["rest"]) if split else (first, "")
        if intro and rest and _INTRO_TOPIC.search(head):
            lines[0] = rest  # "Sure! Here is the paraphrase: Set a = 3."
            break
        # "Here is" may open a problem ("Here are five numbers:"); "Sure" or a named topic may not.
        sure = _INTRO.match(first) and not re.match(r"here|below|the\s+following", first, re.I)
        if (intro and ((first.endswith((":", "\uff1a")) and sure) or _INTRO_TOPIC.search(head))) or (
            first.endswith((":", "\uff1a")) and len(first) < 80 and _ANNOUNCES.search(first)
        ):
            lines.pop(0)
            continue
        if _LABEL_ALONE.match(first):
            lines.pop(0)
            continue
        m = _LABEL_LINE.match(first)
        if m:
            lines[0] = m["rest"]
        break
    return lines


def _drop_notes(lines: list[str]) -> list[str]:
    """``lines`` without trailing notes: a "Note: ..." line after the first and all after it, a
    closing paragraph of remarks ("I kept the numbers unchanged."), or a whole-line parenthetical
    remark ("(I kept the numbers unchanged.)")."""
    lines = list(lines)
    for i in range(1, len(lines)):
        first = lead(lines[i])
        if re.match(r"^\(?\s*(?:notes?|n\.\s*b\.|translator'?s\s+notes?)" + _BOLD_TAIL + r"[:\uff1a]", first, re.I):
            lines = lines[:i]
            break
    while lines:
        while lines and not lines[-1].strip():
            lines.pop()
        # The last paragraph: from the line after the last blank line.
        start = max((i + 1 for i, line in enumerate(lines) if not line.strip()), default=0)
        last = lead(lines[-1])
        remark = (start > 0 and _NOTE.match(lead(lines[start]))) or (
            len(lines) > 1 and re.fullmatch(r"\(\s*[A-Za-z][^()]*\)\.?", last) and _NOTE.match(last)
        )
        if not remark:
            break
        lines = lines[:start] if start > 0 else lines[:-1]
    return lines


def _marked_block(text: str, marker: str) -> str | None:
    """The text after the last line-leading ``[[marker]]`` up to ``[[END]]`` (or the end), or None.

    A marker inside a sentence ("between [[TEXT]] and [[END]]") is a mention, not the block.
    """
    opener = re.compile(rf"^[\s>#*_-]*\[\[\s*{marker}\s*\]\]", re.IGNORECASE | re.MULTILINE)
    starts = list(opener.finditer(text))
    if not starts:
        return None
    rest = text[starts[-1].end() :]
    end = re.search(rf"\[\[\s*/?\s*(?:end|{marker})\s*\]\]", rest, re.IGNORECASE)
    return rest[: end.start()] if end else rest


def _kept_text(text: str, marker: str) -> list[str]:
    """The lines of a rewritten text: its marked block when there is one, else the reply; without
    code fences, markers, an introduction, a label and trailing notes. Markdown inside stays."""
    block = _marked_block(text, marker)
    body = block if block is not None else text
    body = _MARKER.sub("", _FENCE.sub("", body.replace("\r\n", "\n").replace("\r", "\n")))
    lines = [line.rstrip() for line in body.split("\n")]
    return _drop_notes(_drop_intro(lines))


# ---------------------------------------------------------------- solutions

# A statement of the final answer: a box, "The final answer is", "Final answer:", "The answer is",
# "Answer:" at a line's start, GSM8K's "####", Chinese "答案是" / "最终答案".
_FINAL_STATEMENT = re.compile(
    r"\\(?:boxed|fbox)(?![A-Za-z])|\bfinal\s+answer\b|\bthe\s+answer\s+is\b|^\W*answer\s*[:\uff1a]|^\s*####"
    r"|答案(?:是|为|[:\uff1a])|最终答案",
    re.IGNORECASE,
)


_CLOSES_DISPLAY = re.compile(r"^\s*(?:\\\]|\$\$|\\end\{[A-Za-z*]+\})\s*\.?\s*$")


def _final_line(lines: list[str]) -> int | None:
    """The index of the last line stating a final answer (with the lines that close its display
    math, "\\]" or "$$"), or None."""
    found = [i for i, line in enumerate(lines) if _FINAL_STATEMENT.search(line)]
    if not found:
        return None
    last = found[-1]
    while last + 1 < len(lines) and _CLOSES_DISPLAY.match(lines[last + 1]):
        last += 1
    return last


def cut_after_answer(text: str) -> str:
    """``text`` up to the end of its last line stating the final answer (boxed or "The final answer
    is ..."); the rest is chatter. Text without a final-answer statement stays whole."""
    lines = text.split("\n")
    last = _final_line(lines)
    return "\n".join(lines if last is None else lines[: last + 1]).strip()


def parse_solution(text: str) -> Parsed:
    """A worked solution (solve and rewrite prompts): the text up to its last final-answer
    statement, without markers, an introduction, a "Solution:" label or trailing notes.

    The final answer is the last statement of it, boxed or not: an intermediate ``\\boxed{}``
    followed by "The final answer is $14$" keeps the text through that statement.
    """
    if is_refusal(text):
        return failed("refusal")
    lines = _kept_text(text, r"(?:solution|text)")
    body = cut_after_answer("\n".join(lines))
    return Parsed(body) if body else failed("empty")


# ---------------------------------------------------------------- decomposition

_HEADER_NUMBER = r"\d+|one|two|three|four|five|i{1,3}|iv|v"
_ITEM_HEADER = re.compile(
    rf"^(?:new\s+|sub-?)?(?:subtask|sub-?problem|problem|question|task|part|item)\s*#?\s*(?:{_HEADER_NUMBER})\b"
    # a parenthetical after the number is the header's, not the problem's: "**Subtask 1 (steps 1-2)**"
    rf"{_BOLD_TAIL}(?:\([^()]*\))?{_BOLD_TAIL}[:.)\-\u2013\u2014]?{_BOLD_TAIL}(?P<rest>.*)$",
    re.IGNORECASE,
)
_NUMBERED = re.compile(r"^\(?(?P<number>\d+)\s*[.)]\s*(?P<rest>.*)$")
_PROBLEM_LABEL = re.compile(
    rf"^(?:new\s+)?(?:problem|question|statement|task)(?:\s+statement)?{_BOLD_TAIL}(?:[:\uff1a]|$){_BOLD_TAIL}(?P<rest>.*)$",
    re.IGNORECASE,
)
_SOLUTION_HEADER = re.compile(
    r"^(?:solution|worked solution|answer)"
    # "Solution 1", "Solution to New Problem 1", "Solution for Subtask 2" head the current item's solution
    rf"(?:\s*#?\s*(?:{_HEADER_NUMBER})\b|\s+(?:to|for|of)\s+(?:the\s+)?(?:new\s+)?"
    rf"(?:subtask|sub-?problem|problem|question|task|part)\s*#?\s*(?:{_HEADER_NUMBER})\b)?"
    # "Solution:", a heading "## Solution" alone, or the AMS "**Solution.**"
    rf"{_BOLD_TAIL}(?:[:\uff1a]|\.(?=\s|\*|_|$)|$){_BOLD_TAIL}(?P<rest>.*)$",
    re.IGNORECASE,
)
_END_MARKER = re.compile(r"\[\[\s*/?\s*end\s*\]\]", re.IGNORECASE)
_HEADER_MARKER = re.compile(r"\[\[\s*(?:sub-?)?(?:task|problem)", re.IGNORECASE)
_END = re.compile(r"^(?:end|-{3,}|\*{3,}|_{3,}|={3,})$", re.IGNORECASE)


# A heading's title rather than the problem's first sentence: short, no sentence end, no formula.
_TITLE = re.compile(r"[^.?!\u3002\uff1f=$\\]{1,80}?[^.?!\u3002\uff1f=$\\\s]\s*(?:\*\*|__)?\s*:?")


@dataclass
class _Item:
    problem: list[str] = field(default_factory=list)
    solution: list[str] = field(default_factory=list)
    section: str | None = "problem"
    labelled: bool = False
    """Its problem started at a "Problem:" label: what came before the label (a heading's title,
    "Subtask 1: Computing b") is no part of it."""
    titled: bool = False
    """Its problem so far is a heading's title ("## Subtask 1: Finding b", no sentence): dropped
    when the problem goes on below it."""


def _item_done(item: _Item | None) -> bool:
    """No item open, or the open one's solution already holds its boxed answer: a numbered line
    ("2.") now starts the next item rather than a step of this one."""
    return item is None or item.section is None or any(_BOXED.search(line) for line in item.solution)


def parse_subtasks(text: str, expected: int | None = None) -> Parsed:
    """The subtasks of a decomposition answer: a list of {problem, solution, answer}.

    An item starts at a header (``[[SUBTASK 1]]``, ``Subtask 1:``, ``### Problem 1``, ``1.``) or at
    a ``Problem:`` label after a finished item; ``Solution:`` starts its solution; an end marker or
    the next item ends it. Each solution runs to its last final-answer statement (chatter after it
    goes), which must be its boxed answer. The structured ``{"subtasks": [{"problem", "solution"}]}``
    and a JSON list of such objects are read too. Items without a problem, a solution or a boxed
    answer are left out, their reasons in ``dropped``; more items than ``expected`` is a failure
    (the model did not do what was asked).
    """
    if is_refusal(text):
        return failed("refusal")
    from_json = _json_items(text)
    if isinstance(from_json, str):
        return failed(from_json)
    if from_json is not None:
        return _subtasks_from(from_json, expected)
    items: list[_Item] = []
    current: _Item | None = None

    def start() -> _Item:
        item = _Item()
        items.append(item)
        return item

    for raw in _lines(_FENCE.sub("", text)):
        ends = bool(_END_MARKER.search(raw)) or bool(_END.match(raw.strip()))
        unmarked = _MARKER.sub("", raw).rstrip()
        line = lead(unmarked)  # for recognising headers and labels
        # What the text keeps: the line as written, less a heading's hashes (a leading minus stays).
        content = re.sub(r"^\s*#+\s+", "", unmarked).strip()
        if _END.match(raw.strip()):
            content = line = ""
        header = _ITEM_HEADER.match(line) or (_NUMBERED.match(line) if _item_done(current) else None)
        if header or _HEADER_MARKER.search(raw):
            current = start()
            content = header["rest"].strip() if header else line
            line = lead(content)  # "(1) **Problem:** ..." holds a label after its number
            heading = re.match(r"\s*#", raw) or re.fullmatch(r"\s*(?:\*\*|__).*(?:\*\*|__)\s*:?\s*", raw)
            current.titled = bool(heading and header and _TITLE.fullmatch(content))
        problem, solution = _PROBLEM_LABEL.match(line), _SOLUTION_HEADER.match(line)
        if problem:
            if current is None or current.solution or current.section is None or current.labelled:
                current = start()
            current.section, content = "problem", problem["rest"].strip()
            current.problem, current.labelled = [], True  # a title before the label is the header's
        elif solution and current is not None:
            current.section, content = "solution", solution["rest"].strip()
        if current is not None and current.section is not None and content:
            if current.section == "problem" and current.titled and len(current.problem) == 1:
                current.problem = []  # the heading's title: the problem goes on below it
            (current.problem if current.section == "problem" else current.solution).append(content)
        if ends and current is not None:
            current.section = None

    return _subtasks_from([("\n".join(i.problem), "\n".join(i.solution)) for i in items], expected)


def _clean_text(text: str) -> str:
    """Kept text without markers, code fences and outer blank lines (markdown inside stays)."""
    text = _FENCE.sub("", _MARKER.sub("", text))
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def _statement_value(line: str) -> str | None:
    """The answer an unboxed final-answer line states ("The final answer is $14$." -> "14")."""
    m = re.search(
        r"(?:final\s+answer|the\s+answer\s+is|answer\s*[:\uff1a]|####|答案(?:是|为)?)\s*(?:is)?\s*:?\s*", line, re.I
    )
    if not m:
        return None
    rest = line[m.end() :].strip()
    delimited = re.match(r"\$\$?(.*?)\$|\\\((.*?)\\\)", rest)
    value = next(g for g in delimited.groups() if g is not None) if delimited else re.split(r"\.(?:\s|$)", rest)[0]
    return value.strip().strip("*$ ").rstrip(".") or None


def _subtasks_from(items: list[tuple[str, str]], expected: int | None) -> Parsed:
    subtasks, dropped = [], []
    for raw_problem, raw_solution in items:
        problem = _clean_text(raw_problem)
        lines = _clean_text(raw_solution).split("\n")
        last = _final_line(lines)
        solution = "\n".join(lines if last is None else lines[: last + 1]).strip()
        if not problem and not solution:
            continue  # a header with nothing under it, e.g. a repeated title
        answer = boxed_answer(solution) if solution else None
        if answer is not None and last is not None and boxed_answer(lines[last]) is None:
            stated = _statement_value(lines[last])
            if stated is not None and strip_math(stated) != strip_math(answer):
                answer = None  # a later unboxed final answer contradicts the box: which one is meant?
                dropped.append("final_answer_not_boxed")
                continue
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


_JSON_START = re.compile(r"\[\s*\{|\{\s*[\"']subtasks[\"']", re.IGNORECASE)


def _json_items(text: str) -> list[tuple[str, str]] | str | None:
    """(problem, solution) pairs when the answer is ``{"subtasks": [...]}`` or a JSON list of
    objects with those keys (some models answer in JSON whatever the prompt asks); None when it is
    not JSON; a reason when it is JSON of another shape."""
    m = _JSON_START.search(text)
    if not m:
        return None
    loaded = _load_json(text, m.start())
    if loaded is None:
        return "invalid_json" if _unfenced(text).startswith(("{", "[")) else None
    data = loaded[0]
    if isinstance(data, dict):
        data = {str(k).lower(): v for k, v in data.items()}.get("subtasks")
    if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
        return "invalid_json"
    keys = [{str(k).lower(): v for k, v in d.items()} for d in data]
    if not all("problem" in d and "solution" in d for d in keys):
        return "invalid_json"
    items = []
    for d in keys:
        problem, solution = d["problem"], d["solution"]
        if isinstance(solution, list) and all(isinstance(step, str) for step in solution):
            solution = "\n".join(step.strip() for step in solution)  # the steps, one a line
        if any(isinstance(v, list | dict | bool) for v in (problem, solution)):
            return "invalid_json"  # a list of objects, a nested value: what would the text be?
        items.append((str(problem or ""), str(solution or "")))
    return items


# ---------------------------------------------------------------- paraphrase


def parse_paraphrase(text: str) -> Parsed:
    """The rewritten text: between ``[[TEXT]]`` and ``[[END]]`` when marked, else the reply; without
    an introduction ("Here is the rewritten text:"), a label ("Paraphrased solution:") and trailing
    notes ("Note: ...", "(I kept the numbers unchanged.)"). Markdown inside the text stays."""
    if is_refusal(text):
        return failed("refusal")
    body = "\n".join(_kept_text(text, "text")).strip()
    return Parsed(body) if body else failed("empty")


# ---------------------------------------------------------------- benchmark conversions

_CONVERSION_MARKERS = (
    (re.compile(r"\[\[\s*(?:open\s+|rewritten\s+)?question\s*\]\]", re.I), "\nQuestion:"),
    (re.compile(r"\[\[\s*(?:final\s+|correct\s+)?answer\s*\]\]", re.I), "\nAnswer:"),
    (re.compile(r"\[\[\s*/?\s*end\s*\]\]", re.I), "\n[[END]]\n"),
)
_QUESTION_HEADER = re.compile(
    r"^(?:(?:the\s+)?(?:open|rewritten|new|converted|open-ended)\s+)?(?:question|problem)"
    rf"{_BOLD_TAIL}(?:[:\uff1a]|$){_BOLD_TAIL}(?P<rest>.*)$",
    re.I,
)
_ANSWER_HEADER = re.compile(
    rf"^(?:(?:the\s+)?(?:final|correct)\s+)?answer{_BOLD_TAIL}(?:[:\uff1a]|$){_BOLD_TAIL}(?P<rest>.*)$", re.I
)
_DROP_MARKER = re.compile(r"\[\[\s*drop(?:ped)?\s*\]\]\s*(?:\*\*|__)?\s*:?\s*(?P<why>[^\n]*)", re.I)
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
# Options still listed: "A) 12", "(B) 15", "C. 3", "D: x", "A、12", each letter once at least.
_OPTION_LABEL = re.compile(r"(?:^|\s|\$)\(?([A-E])\s*[).:\uff1a\u3001]\s*\S", re.MULTILINE)
_OPTION_IN_PARENS = re.compile(r"\(([A-E])\)")
_WHICH_OPTION = re.compile(
    r"\b(?:which|what)\s+(?:one\s+)?of\s+the\s+following\b|\bthe\s+(?:options?|choices?)\s+(?:above|below|given)\b"
    r"|\bamong\s+the\s+(?:options|choices)\b|\bchoose\s+(?:from|the\s+correct)\b|^\s*(?:options|choices)\s*:",
    re.I | re.MULTILINE,
)
_OPTION_NAMED = re.compile(r"\s*\((?:(?:option|choice)\s+)?\(?[A-E]\)?\)\s*\.?$", re.I)
# An option letter inside a text or font command: "\\textbf{(C)}", "\\text{B}", "\\mathrm{D}", "{\\rm C}".
_FONT = r"\\(?:text(?:bf|it|rm|sf|tt|up|normal)?|math(?:bf|rm|it|sf|tt|bb|normal)|emph|bf|rm|it)"
_WRAPPED_LETTER = re.compile(rf"{_FONT}\s*\{{\s*(\(?[A-E]\)?)\s*\}}|\{{\s*{_FONT}\s+(\(?[A-E]\)?)\s*\}}")
_FONT_GROUP = re.compile(rf"{_FONT}\s*\{{([^{{}}]*)\}}|\{{\s*{_FONT}\s+([^{{}}]*)\}}")
# An answer that names an option: "Option (C)", "The correct option is C", "choice B".
_NAMES_OPTION = re.compile(r"^(?:(?:the\s+)?(?:correct\s+)?(?:option|choice)\s*(?:is\s*)?:?\s*)?\(?[A-E]\)?$", re.I)
_LETTER_PREFIX = re.compile(r"^(?:(?:option|choice)\s+)?\(?([A-E])\)?\s*[:.)]\s+|^\(([A-E])\)\s*", re.I)


def _is_a_letter(answer: str) -> bool:
    """An option letter however it is dressed: "C", "(C)", "Option (C)", "\\text{Option C}", "The correct
    option is C" (a lower-case e may be Euler's number, so only capitals are letters)."""
    plain = answer
    for _ in range(3):
        plain = _FONT_GROUP.sub(lambda m: m[1] if m[1] is not None else m[2], plain)
    plain = re.sub(r"^[\s*_$.]+|[\s*_$.]+$", "", plain)
    m = _NAMES_OPTION.match(plain)
    return bool(m) and bool(
        re.search(r"[A-E]\)?$", plain) or re.match(r"\W*(?:the|correct|option|choice)", plain, re.I)
    )


def _drop_reason(why: str) -> str:
    low = why.lower()
    return next((tag for word, tag in _DROP_REASONS if word in low), "dropped_other")


def strip_math(answer: str) -> str:
    """An answer without the wrappers a model puts around it: ``$...$``, ``\\(...\\)``, a whole
    ``\\boxed{...}``, a final full stop."""
    answer = answer.strip().rstrip(".").strip()
    for _ in range(3):
        before = answer
        for left, right in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]"), ("**", "**")):
            inner = answer[len(left) : -len(right)]
            # "$a$ and $b$" is two formulas, not one wrapped: only a wrapper around the whole goes.
            if answer.startswith(left) and answer.endswith(right) and inner.strip() and left not in inner:
                answer = inner.strip()
        boxed = boxed_answer(answer)
        if boxed is not None and re.fullmatch(r"\\(?:boxed|fbox)\s*\{" + re.escape(boxed) + r"\s*\}", answer):
            answer = boxed
        answer = answer.rstrip(".").strip()
        if answer == before:
            break
    return answer


def _json_question(text: str) -> tuple[str, str] | str | None:
    """(question, answer) of a JSON object: the structured ``{"drop", "question", "answer"}`` or a
    model's own keys; a drop reason; None when there is no JSON object."""
    m = re.search(r"\{\s*[\"']", text)
    if not m or not re.search(r"[\"']\s*(?:question|open_question|problem|drop)", text[m.start() :], re.I):
        return None
    loaded = _load_json(text, m.start())
    if loaded is None or not isinstance(loaded[0], dict):
        return "invalid_json" if _unfenced(text).startswith("{") else None
    keys = {str(k).lower().replace(" ", "_"): v for k, v in loaded[0].items()}
    drop = keys.get("drop")
    if drop not in (None, "", False):
        return _drop_reason(str(drop))
    question = next((keys[k] for k in ("question", "open_question", "problem") if keys.get(k) is not None), None)
    answer = next((keys[k] for k in ("answer", "correct_answer", "final_answer") if keys.get(k) is not None), None)
    if question is None:
        return "no_question"
    if answer is None:
        return "no_answer"
    return str(question), str(answer)


def parse_open_question(text: str) -> Parsed:
    """A multiple-choice question turned open (the convert_open prompt): ``{"problem", "answer"}``.

    Reads the marked form (``[[QUESTION]]``/``[[ANSWER]]``), labels (``Question:``, ``**Answer:**``,
    ``### Open question``), a JSON object and the structured ``{"drop", "question", "answer"}``; the
    answer loses ``$...$``, a whole ``\\boxed{}`` and an option letter in front of it ("(C) 12"). A
    declined question ("[[DROP]] statements") is a reason, as is a question that still lists its
    options, an answer that is only a letter, or a refusal.
    """
    if is_refusal(text):
        return failed("refusal")
    drop = _DROP_MARKER.search(text)
    if drop:
        return failed(_drop_reason(drop["why"]))
    pair = _json_question(text)
    if isinstance(pair, str):
        return failed(pair)
    if pair is None:
        pair = _labelled_question(text)
    if pair is None:
        lines = [lead(line) for line in _lines(_clean_text(text))]
        declined = next((m for m in map(_DECLINED.match, lines) if m), None)
        return failed(_drop_reason(declined["why"]) if declined else "no_question")
    question, answer = _clean_text(pair[0]), _clean_text(pair[1])
    if not question:
        return failed("no_question")
    answer = strip_math(answer)
    answer = strip_math(_WRAPPED_LETTER.sub(lambda m: m[1] or m[2], answer))  # "$\\boxed{\\textbf{(A)}}$" is "(A)"
    answer = re.sub(r"^(?:\*\*|__)(?=\(?[A-E]\b)|(?<=[A-E)])(?:\*\*|__)$", "", answer)  # "(A)**" of "**(A)**"
    prefix = _LETTER_PREFIX.match(answer)
    if prefix and re.search(r"[\w\\]", answer[prefix.end() :]):
        answer = strip_math(answer[prefix.end() :])
    named = _OPTION_NAMED.search(answer)
    if named and answer[: named.start()].strip():
        answer = strip_math(answer[: named.start()])  # "2 (option B)"
    if not answer:
        return failed("no_answer")
    if _is_a_letter(answer):
        return failed("answer_is_a_letter")
    letters = set(_OPTION_LABEL.findall(question)) | set(_OPTION_IN_PARENS.findall(question))
    if {"A", "B"} <= letters or len(letters) >= 3 or _WHICH_OPTION.search(question):
        return failed("options_left_in_question")
    return Parsed({"problem": question, "answer": answer})


# A line of prose after an answer line: "This is the content of option B.", "Note that ...", "这是…".
_PROSE = re.compile(r"^(?:[A-Z][a-z]+\s+[a-z]|[\u4e00-\u9fff])")
_NOTE_LINE = re.compile(
    r"^\(?\s*(?:notes?|n\.\s*b\.|explanation|remarks?|comments?|reasoning)" + _BOLD_TAIL + r"[:\uff1a]", re.I
)


def _unquote(raw: str) -> str:
    """A line of kept text without its blockquote marker ("> "), else as written."""
    return re.sub(r"^\s*>[ \t]?", "", raw).strip()


def _labelled_question(text: str) -> tuple[str, str] | None:
    """(question, answer) from the sections of a reply marked by headers or labels; None without a question."""
    for pattern, replacement in _CONVERSION_MARKERS:
        text = pattern.sub(replacement, text)
    sections: dict[str, list[str]] = {}
    current, quoted = None, False
    for raw in _lines(_FENCE.sub("", text)):
        if raw.strip() == "[[END]]":
            current = None if "answer" in sections else current
            continue
        line = lead(_MARKER.sub("", raw))
        question, answer = _QUESTION_HEADER.match(line), _ANSWER_HEADER.match(line)
        in_quote = bool(re.match(r"\s*>", raw))
        if question and "answer" not in sections:
            current, content = "question", question["rest"]
            if quoted:  # a blockquote before the label was no question after all
                sections.pop("question", None)
                quoted = False
        elif answer and "question" in sections:
            current, content = "answer", answer["rest"]
        elif current == "answer" and any(sections.get(current, [])) and (_NOTE_LINE.match(line) or _PROSE.match(line)):
            # "Note: I removed the options" after the answer line is no part of it (in the question,
            # "Note: x is an integer" may be a condition: it stays)
            current = None
            continue
        elif in_quote and current is None and not sections:
            # A question given as a blockquote without a label: "> What is ...?" then "**Answer:** 720".
            current, quoted, content = "question", True, _unquote(raw)
        elif quoted and current == "question" and raw.strip() and not in_quote:
            current = None  # the quoted question ended; what follows before the answer is chatter
            continue
        else:
            content = _unquote(raw) if current == "question" else line
        if current == "answer" and not content and sections.get("answer"):
            current = None  # a blank line ends the answer: what follows is chatter
            continue
        if current is not None:
            sections.setdefault(current, []).append(content)
    if "question" not in sections:
        return None
    answer = [line for line in sections.get("answer", []) if line]
    return "\n".join(sections["question"]).strip(), " ".join(answer)


# ---------------------------------------------------------------- translation

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# A solution the translate prompt did not ask for, under its own label after the problem:
# "**Solution:**", "Answer:", "**Solution (not requested):**", "解：", "答案：".
_UNREQUESTED_SOLUTION = re.compile(
    r"^\s*(?:#+\s*|\*\*|__)?(?:(?:worked\s+|final\s+)?(?:solution|answer)|解答?|答案)(?:\s*\([^()]*\))?"
    rf"(?:{_BOLD_TAIL}[:\uff1a]|\s*(?:\*\*|__)?\s*$)",
    re.I,
)
MAX_UNTRANSLATED = 0.1  # share of a translation's letters that may be Chinese characters


def parse_translation(text: str) -> Parsed:
    """The English problem (the translate prompt): between ``[[TRANSLATION]]`` and ``[[END]]`` when
    marked, else the reply; without an introduction, a "Translation:" label or closing notes.
    Blanks (``____``) and all other markdown inside stay. A reply still mostly in Chinese is the
    reason "not_translated"; a refusal is "refusal"."""
    if is_refusal(text):
        return failed("refusal")
    lines = _kept_text(text, "translation")
    solution = next((i for i, line in enumerate(lines) if i and _UNREQUESTED_SOLUTION.match(line)), None)
    body = "\n".join(_drop_notes(lines[:solution]) if solution is not None else lines).strip()
    if not body:
        return failed("empty")
    letters = [c for c in body if c.isalpha()]
    if letters and sum(bool(_HAN.match(c)) for c in letters) > MAX_UNTRANSLATED * len(letters):
        return failed("not_translated")
    return Parsed(body)


# Each template's parser; the ones with a second argument take it from the request's context.
PARSERS: dict[str, Callable[..., Parsed]] = {
    "decompose": parse_subtasks,
    "solve": parse_solution,
    "rewrite": parse_solution,
    "judge_final": parse_verdict,
    "judge_steps": parse_step_verdicts,
    "filter_ill_defined": parse_well_defined,
    "filter_too_few_steps": parse_count,
    "filter_near_duplicate": parse_yes_no,
    "paraphrase": parse_paraphrase,
    "convert_open": parse_open_question,
    "translate": parse_translation,
}
