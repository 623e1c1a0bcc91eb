"""The reply corpus (tests/data/replies/): realistic replies of several model families to every
template, each read exactly as roles read it (answer part first, then the template's parser) and
checked against the parse a careful reader expects. No wrong value, no exception; rejections a
careful reader would not make (``careful_reader_accepts``) are counted and printed by role.

A solution may also carry ``grade``: the gold answer and whether a careful reader grades the kept
solution correct; it is graded as predictions are (``guiding.answers.grade``). A solution whose
answer the grader cannot read (``grade.no_answer``) is an over-rejection when the reader grades it
correct."""

import json
from collections import Counter
from pathlib import Path

import pytest

from guiding.answers import grade
from guiding.llm import parsers
from guiding.llm.replies import answer_part

CORPUS = Path(__file__).parent / "data" / "replies"
ENTRIES = [json.loads(line) for path in sorted(CORPUS.glob("*.jsonl")) for line in path.read_text("utf-8").splitlines()]
KEYS = {"id", "family", "template", "args", "content", "finish_reason", "reasoning", "expect", "note"}
KEYS |= {"careful_reader_accepts", "careful_reader_value", "grade"}


def read(entry: dict) -> parsers.Parsed:
    """What a role gets from this reply: the answer part, then the template's parser with its args
    (reasoning in its own field never reaches either)."""
    answer = answer_part(entry["content"], finish_reason=entry["finish_reason"])
    if not answer.ok:
        return answer
    return parsers.PARSERS[entry["template"]](answer.value, *entry.get("args", []))


def outcome(entry: dict) -> str:
    """ "ok", "wrong_value", "wrong_reason", "over_rejection" (expected, but counted) or "exception"."""
    try:
        parsed = read(entry)
    except Exception:
        return "exception"
    expect = entry["expect"]
    if "value" in expect:
        if not parsed.ok:
            return "wrong_reason"
        if parsed.value != expect["value"]:
            return "wrong_value"
        return graded(entry, parsed.value) if "grade" in entry else "ok"
    if parsed.ok:
        return "wrong_value"  # a value where the reader expects a rejection
    if parsed.reason != expect["reason"]:
        return "wrong_reason"
    return "over_rejection" if entry.get("careful_reader_accepts") else "ok"


def graded(entry: dict, solution: str) -> str:
    """ "ok", "wrong_value" (graded otherwise than the reader grades) or "over_rejection" (no answer
    read where the reader reads a correct one; expected where ``grade.no_answer``)."""
    want = entry["grade"]
    got = grade(want["gold"], solution)
    if got["predicted"] is None:
        if want["correct"] and not want.get("no_answer"):
            return "wrong_reason"
        return "over_rejection" if want["correct"] else "ok"
    if want.get("no_answer"):
        return "wrong_reason"
    return "ok" if got["correct"] == want["correct"] else "wrong_value"


def test_the_corpus_is_large_varied_and_well_formed():
    assert len(ENTRIES) >= 150
    assert len({e["id"] for e in ENTRIES}) == len(ENTRIES), "ids repeat"
    assert len({e["family"] for e in ENTRIES}) >= 5
    assert {e["template"] for e in ENTRIES} == set(parsers.PARSERS)
    for e in ENTRIES:
        assert set(e) <= KEYS and {"id", "family", "template", "content", "finish_reason", "expect"} <= set(e), e["id"]
        assert len(e["expect"]) == 1 and set(e["expect"]) <= {"value", "reason"}, e["id"]
        assert not e.get("careful_reader_accepts") or "reason" in e["expect"], e["id"]
        assert "grade" not in e or ("value" in e["expect"] and {"gold", "correct"} <= set(e["grade"])), e["id"]
    kinds = {
        "crlf": lambda e: "\r\n" in e["content"],
        "chinese": lambda e: any("\u4e00" <= c <= "\u9fff" for c in e["content"]),
        "cut off": lambda e: e["finish_reason"] == "length",
        "inline reasoning": lambda e: e["content"].lstrip().startswith("<think>"),
        "reasoning field": lambda e: "reasoning" in e,
        "structured": lambda e: e["content"].lstrip("`json\n").startswith("{"),
        "refusal": lambda e: e["expect"].get("reason") == "refusal",
    }
    for kind, has in kinds.items():
        assert any(map(has, ENTRIES)), f"the corpus has no {kind} reply"


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["id"] for e in ENTRIES])
def test_each_reply_parses_as_a_careful_reader_expects(entry):
    parsed = read(entry)
    expect = entry["expect"]
    if "value" in expect:
        assert parsed.ok, f"rejected ({parsed.reason}): {entry['content']!r}"
        assert parsed.value == expect["value"]
        if "grade" in entry:
            assert graded(entry, parsed.value) in ("ok", "over_rejection"), grade(entry["grade"]["gold"], parsed.value)
    else:
        assert parsed.reason == expect["reason"], f"got {parsed}"


def test_no_wrong_values_no_exceptions_and_the_over_rejections_by_role(capsys):
    table: dict[str, Counter] = {}
    for entry in ENTRIES:
        table.setdefault(entry["template"], Counter())[outcome(entry)] += 1
    with capsys.disabled():
        print("\nreply corpus by role: replies, wrong values, exceptions, over-rejections")
        for template, counts in sorted(table.items()):
            print(
                f"  {template:22} {sum(counts.values()):4} {counts['wrong_value']:4} {counts['exception']:4}"
                f" {counts['over_rejection']:4}"
            )
    total = sum(table.values(), Counter())
    assert total["wrong_value"] == 0 and total["exception"] == 0 and total["wrong_reason"] == 0, dict(total)
