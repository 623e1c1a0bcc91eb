"""guiding.answers: extraction, equivalence, answer forms, parallel grading, and the benchmarks' own answers."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guiding.answers import answers_match, extract_answer, grade, grade_many, normalize_gold

DATA = Path(__file__).resolve().parent / "data" / "benchmarks"
OLD_BOXED = re.compile(r"\\boxed\{([^{}]*)\}")  # the extractor this module replaces
SLOW_GOLD = "9^{9^{9}}"  # sympy works on it until math-verify's 5 s alarm stops it


def read_jsonl(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


# Extraction


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (r"So $x = \boxed{\frac{14}{3}}$.", r"\frac{14}{3}"),
        (r"\boxed{\dfrac{1}{2}}", r"\dfrac{1}{2}"),
        (r"\boxed{\text{(B)}}", r"\text{(B)}"),
        (r"\boxed{10\text{ cm}^2}", r"10\text{ cm}^2"),
        (r"the set is \boxed{(2, 5]}", "(2, 5]"),
        (r"\boxed{ (1, 2) }", "(1, 2)"),
        (r"\boxed{\{1, 2\}}", r"\{1, 2\}"),
        (r"first \boxed{3}, then \boxed{4}", "4"),
        (r"\boxed{\boxed{7}}", "7"),
        (r"\fbox{12}", "12"),
        (r"\boxed{1} and \fbox{2}", "2"),
        (r"\boxed {x+1}", "x+1"),
        (r"The answer is $\boxed 5$.", "5"),
        (r"\boxed{}", ""),
        (r"\boxed{1} and then \boxed{2", None),
        (r"The answer is \boxed{1", None),
        (r"\boxed{\frac{1}{2}", None),
        ("The answer is", None),
        ("no answer here", None),
        ("", None),
        ("We get 3 apples. The answer is 3.", "3"),
        ("the answer is 3.5. So we are done", "3.5"),
        (r"The answer is $\frac{1}{2}$.", r"\frac{1}{2}"),
        (r"Final Answer: The final answer is $\frac{1}{2}$. I hope it is correct.", r"\frac{1}{2}"),
        ("The answer is 7, no wait.\nFinal answer: 8", "8"),
        # A final-answer statement after an intermediate box decides; a remark after a box does not.
        (r"So x = \boxed{7}. Then y = 2x. The final answer is $14$.", "14"),
        (r"x = \boxed{7}, so y = 14.\nFinal answer: $\frac{1}{2}$", r"\frac{1}{2}"),
        (r"\boxed{5}. Note that the answer is positive.", "5"),
        (r"\boxed{2}. Final answer: see above.", "2"),
        ("Janet makes 9 * 2 = 18.\n#### 18", "18"),
        ("#### 70,000\n", "70,000"),
        ("The answer is 3.\n\\boxedx", "3"),  # \boxedx is another command, not a box
        # Without a box: a line that starts with the label "Answer:", and Chinese answer statements.
        ("b = 7\nc = 14\nAnswer: 14", "14"),
        ("c = 14\n\n**Answer:** 14", "14"),
        ("c = 14\n**Answer: 14**", "14"),
        ("c = 14\n答案：14", "14"),
        ("所以答案是 $\\frac{1}{4}$。", r"\frac{1}{4}"),
        ("最终答案为 12。", "12"),
        ("The answer is 7.\nAnswer: 8", "8"),  # the last statement decides
        ("我们检查答案是否正确：c = 14。", None),  # "whether the answer is right" states none
        ("The Answer: 5 is a label inside a sentence? No: the question asks why.", None),
        (r"x = \boxed{7}.\nAnswer: 8", "7"),  # after a box only "The final answer is" / "Final answer:" decide
    ],
)
def test_extract_answer(text: str, expected: str | None) -> None:
    assert extract_answer(text) == expected


LATEX_PIECES = ["\\boxed", "\\fbox", "\\boxed ", "{", "}", "{", "}", "\\", "\\frac", "$", " ", "\n", ".", "1", "x"]
LATEX_PIECES += ["The answer is ", "Final answer: ", "####", ";", "(", "]", "\\text{", "-"]
latex_heavy = st.lists(st.sampled_from(LATEX_PIECES), max_size=30).map("".join)
any_text = st.one_of(st.text(max_size=80), latex_heavy, st.text(alphabet="\\{}boxed $#1", max_size=40))


@settings(max_examples=300, deadline=None)
@given(any_text)
def test_extract_answer_never_raises_and_agrees_with_the_old_extractor(text: str) -> None:
    answer = extract_answer(text)
    assert answer is None or answer == answer.strip()
    old = list(OLD_BOXED.finditer(text))
    # Where the old extractor's last match is also the last box, the answer is unchanged.
    if old and not re.search(r"\\boxed|\\fbox", text[old[-1].start() + len("\\boxed") :]):
        assert answer == old[-1].group(1).strip()


@settings(max_examples=150, deadline=None)
@given(any_text, st.sampled_from(["5", r"\frac{1}{2}", "(2, 5]", "x^2+1"]))
def test_grade_never_raises(text: str, gold: str) -> None:
    verdict = grade(gold, text)
    assert set(verdict) == {"predicted", "correct", "timed_out"}
    assert isinstance(verdict["correct"], bool)


# Equivalence


@pytest.mark.parametrize(
    ("gold", "predicted", "expected"),
    [
        ("5", "5.0", True),
        ("5", " 5 ", True),
        ("-3", "-3.00", True),
        ("5", "6", False),
        ("0.5", "0.50", True),
        (r"\frac{1}{2}", "0.5", True),
        (r"\dfrac{14}{3}", r"\frac{14}{3}", True),
        (r"\frac{14}{3}", r"\frac{13}{3}", False),
        (r"2\sqrt{2}", r"\sqrt{8}", True),
        (r"(2, 5]", r"(2,5]", True),
        (r"(2, 5]", r"[2, 5]", False),
        (r"\left( 3, \frac{\pi}{2} \right)", r"(3, \pi/2)", True),
        ("(1, 2)", "(2, 1)", False),
        ("1<x<2", "(1, 2)", True),  # gold first: math-verify follows the gold's format
        ("(1, 2)", "1<x<2", False),
        (r"\text{(B)}", "(B)", True),
        (r"\text{(B)}", r"\text{(C)}", False),
        (r"\text{Evelyn}", "Evelyn", True),
        ("x^2+2x+1", "(x+1)^2", True),
        ("x^2+2x+1", "(x-1)^2", False),
        ("5", None, False),
        ("5", "", False),
    ],
)
def test_answers_match(gold: str, predicted: str | None, expected: bool) -> None:
    assert answers_match(gold, predicted) is expected


def old_answers_match(gold: str, predicted: str | None) -> bool:
    """The comparison this module replaces; the workflow's tables depend on its verdicts."""
    if predicted is None:
        return False
    gold, predicted = gold.strip(), predicted.strip()
    if re.match(r"^-?\d+(\.\d+)?$", gold) and re.match(r"^-?\d+(\.\d+)?$", predicted):
        return float(gold) == float(predicted)
    from math_verify import parse, verify

    return bool(verify(parse(f"${gold}$"), parse(f"${predicted}$")))


number_like = st.one_of(
    st.from_regex(r"\A\s?-?\d{1,4}(\.\d{1,3})?\s?\Z"),
    st.sampled_from(["5.", "+5", ".5", "05", "1e3", "5.0", "-0", "0.0", "1,000", r"\frac{10}{2}", ""]),
)


@settings(max_examples=100, deadline=None)
@given(number_like, st.one_of(st.none(), number_like))
def test_plain_form_agrees_with_the_old_comparison(gold: str, predicted: str | None) -> None:
    assert answers_match(gold, predicted) == old_answers_match(gold, predicted)


def test_plain_numbers_are_compared_without_math_verify(monkeypatch: pytest.MonkeyPatch) -> None:
    import math_verify

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("math-verify called for plain numbers")

    monkeypatch.setattr(math_verify, "verify", fail)
    monkeypatch.setattr(math_verify, "parse", fail)
    assert answers_match("12", "12.0") and not answers_match("12", "13")
    assert grade("12", r"\boxed{12}") == {"predicted": "12", "correct": True, "timed_out": False}


# Answer forms


@pytest.mark.parametrize(
    "text", [r"\boxed{B}", "B", "(B)", "B)", r"\text{B}", r"\boxed{\text{(B)}}", r"(B) $4\sqrt{2}$"]
)
def test_letter_form_accepts_the_usual_spellings(text: str) -> None:
    assert grade("B", text if "boxed" in text else rf"\boxed{{{text}}}", form="letter")["correct"]


@pytest.mark.parametrize("predicted", ["C", "(C)", "b", "Both", "A and B", "", r"4\sqrt{2}"])
def test_letter_form_rejects_other_answers(predicted: str) -> None:
    assert not answers_match("B", predicted, form="letter")


def test_normalize_gold() -> None:
    assert normalize_gold(" 5 ") == ["5"]
    assert normalize_gold("(C)", "letter") == ["C"]
    assert normalize_gold(r"$5$;$\frac{8}{9}$", "multi_blank") == ["5", r"\frac{8}{9}"]
    assert normalize_gold("2", "multi_blank") == ["2"]
    assert normalize_gold("She sells 9.\n#### 1,234", "gsm8k") == ["1234"]
    with pytest.raises(ValueError):
        normalize_gold("x^2", "letter")
    with pytest.raises(ValueError):
        normalize_gold("5", "essay")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (r"\boxed{5; 10}", True),
        (r"\boxed{$5$;$10$}", True),
        (r"\boxed{5, 10}", True),
        (r"\boxed{5} and \boxed{10}", True),
        (r"first \boxed{3}, at last \boxed{5, 10}", True),
        (r"\boxed{\frac{10}{2}; 10.0}", True),
        (r"\boxed{10; 5}", False),
        (r"\boxed{5}", False),
        (r"\boxed{10}", False),
        (r"\boxed{5; 10; 15}", False),
        (r"\boxed{5; 11}", False),
    ],
)
def test_multi_blank_form_compares_blank_by_blank(text: str, expected: bool) -> None:
    assert grade("$5$;$10$", text, form="multi_blank")["correct"] is expected


def test_multi_blank_form_keeps_intervals_whole() -> None:
    assert grade(r"$(0,1)$;$\sqrt{3}$", r"\boxed{(0, 1), \sqrt{3}}", form="multi_blank")["correct"]
    assert grade("$(0,1)$", r"\boxed{(0, 1)}", form="multi_blank")["correct"]
    assert not grade("$1$", r"\boxed{0; 1}", form="multi_blank")["correct"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (r"\boxed{70,000}", True),
        (r"\boxed{\$70000}", True),
        ("So he made $70,000.\n#### 70000", True),
        ("#### 7000", False),
    ],
)
def test_gsm8k_form(text: str, expected: bool) -> None:
    assert grade("He made 200,000-130,000=70,000\n#### 70000", text, form="gsm8k")["correct"] is expected


# Parallel grading

MIXED = [
    ("5", r"so \boxed{5}", "plain"),
    ("5", r"so \boxed{6}", "plain"),
    (r"\frac{1}{2}", r"\boxed{0.5}", "plain"),
    (r"\frac{1}{2}", r"\boxed{\frac{2}{3}}", "plain"),
    ("(2, 5]", r"\boxed{(2,5]}", "plain"),
    ("3", r"\boxed{3", "plain"),
    ("x^2+2x+1", r"\boxed{(x+1)^2}", "plain"),
    ("B", r"\boxed{(B)}", "letter"),
    ("B", r"\boxed{C}", "letter"),
    (r"$5$;$\frac{8}{9}$", r"\boxed{5; \dfrac{8}{9}}", "multi_blank"),
    (r"$5$;$\frac{8}{9}$", r"\boxed{\dfrac{8}{9}; 5}", "multi_blank"),
    ("#### 1,234", r"\boxed{1234}", "gsm8k"),
]


@pytest.mark.parametrize("workers", [1, 2])
def test_grade_many_equals_grade_in_order(workers: int) -> None:
    items = [(gold, text) for gold, text, _ in MIXED] * 2
    forms = [form for _, _, form in MIXED] * 2
    results, report = grade_many(items, workers=workers, forms=forms)
    expected = [grade(gold, text, form) for (gold, text), form in zip(items, forms)]
    assert results == expected
    assert [r["correct"] for r in results[: len(MIXED)]] == [
        True, False, True, False, True, False, True, True, False, True, False, True
    ]  # fmt: skip
    assert report == {
        "items": len(items),
        "correct": sum(r["correct"] for r in expected),
        "timed_out": 0,
        "no_answer": 2,
        "workers": workers,
    }


def test_grade_many_fast_path_needs_no_worker() -> None:
    results, report = grade_many(
        [("5", r"\boxed{5}"), ("7", "no answer"), ("B", "The answer is (B).")], forms=["plain", "plain", "letter"]
    )
    assert [r["correct"] for r in results] == [True, False, True]
    assert report["workers"] == 0 and report["no_answer"] == 1


def test_grade_many_stops_a_sympy_computation_over_the_limit() -> None:
    items = [("5", r"\boxed{5}"), (SLOW_GOLD, r"\boxed{1}"), (r"\frac{1}{2}", r"\boxed{0.5}"), ("2", r"\boxed{2}")]
    start = time.monotonic()
    results, report = grade_many(items, workers=2, timeout=1.0)
    assert time.monotonic() - start < 10
    assert [(r["correct"], r["timed_out"]) for r in results] == [
        (True, False),
        (False, True),
        (True, False),
        (True, False),
    ]
    assert report["timed_out"] == 1 and report["correct"] == 3


@pytest.fixture
def misbehaving_verify(monkeypatch: pytest.MonkeyPatch) -> None:
    """math-verify that spins on golds with 666, sleeps on 555 and dies on 777; workers are forked, so they see it."""
    import math_verify

    real_verify = math_verify.verify

    def verify(gold: list, target: list, **kwargs: object) -> bool:
        text = " ".join(map(str, gold))
        while "666" in text:  # no math-verify alarm around it: only grade_many's limit stops it
            pass
        if "555" in text:
            time.sleep(60)
        if "777" in text:
            os._exit(1)  # as if killed for memory
        return real_verify(gold, target, **kwargs)

    monkeypatch.setattr(math_verify, "verify", verify)


RIGHT = [(rf"\frac{{{n}}}{{2}}", rf"\boxed{{{n / 2}}}") for n in range(1, 8)]


@pytest.mark.usefixtures("misbehaving_verify")
def test_grade_many_replaces_a_worker_over_the_cpu_limit_or_dead() -> None:
    items = [("x+666", r"\boxed{x+666}"), *RIGHT[:3], ("x+777", r"\boxed{x+777}"), *RIGHT[3:]]
    start = time.monotonic()
    results, report = grade_many(items, workers=1, timeout=1.0)
    assert time.monotonic() - start < 10  # the CPU limit acted, not the wall-time one
    expected = [(False, True)] + [(True, False)] * 3 + [(False, True)] + [(True, False)] * 4
    assert [(r["correct"], r["timed_out"]) for r in results] == expected
    assert report["timed_out"] == 2 and report["workers"] == 1


@pytest.mark.usefixtures("misbehaving_verify")
def test_grade_many_stops_a_worker_that_makes_no_progress() -> None:
    start = time.monotonic()
    results, report = grade_many([("5", r"\boxed{5}"), ("x+555", r"\boxed{x+555}")], timeout=0.2)
    assert 2.0 <= time.monotonic() - start < 10  # after ten limits of wall time
    assert [(r["correct"], r["timed_out"]) for r in results] == [(True, False), (False, True)]


def test_grade_reports_math_verify_timeouts() -> None:
    assert grade(SLOW_GOLD, r"\boxed{1}") == {"predicted": "1", "correct": False, "timed_out": True}


def test_grade_many_replaces_a_worker_killed_while_idle(monkeypatch: pytest.MonkeyPatch) -> None:
    import guiding.answers

    real_start_worker, started = guiding.answers._start_worker, []

    def start_worker(*args: object) -> object:
        worker = real_start_worker(*args)
        started.append(worker)
        if len(started) == 1:  # the first worker is killed from outside before it gets an item
            worker.process.kill()
            worker.process.join()
        return worker

    monkeypatch.setattr(guiding.answers, "_start_worker", start_worker)
    results, _ = grade_many(RIGHT[:3], workers=1)
    assert [(r["correct"], r["timed_out"]) for r in results] == [(True, False)] * 3  # no item is blamed
    assert len(started) == 2


def test_grade_many_checks_its_arguments() -> None:
    for kwargs in [{"forms": ["plain", "plain"]}, {"workers": 0}, {"timeout": 0}]:
        with pytest.raises(ValueError):
            grade_many([("5", "5")], **kwargs)


# The benchmarks' own answers


def test_math500_solutions_match_their_answers() -> None:
    rows = read_jsonl("math500.jsonl")
    results, report = grade_many([(row["answer"], row["solution"]) for row in rows])
    misses = [(row["unique_id"], row["answer"], r["predicted"]) for row, r in zip(rows, results) if not r["correct"]]
    assert report["correct"] >= 499, misses


def test_sat_math_letters() -> None:
    rows = read_jsonl("sat_math.jsonl")
    letters = "ABCD"
    golds = [row["Answer"] for row in rows]
    same = [(gold, rf"so the answer is \boxed{{\text{{({gold})}}}}") for gold in golds]
    shifted = [(gold, rf"\boxed{{{letters[(letters.index(gold) + 1) % 4]}}}") for gold in golds]
    results, _ = grade_many(same + shifted, forms="letter")
    assert [r["correct"] for r in results] == [True] * len(rows) + [False] * len(rows)


def test_gaokao_cloze_blanks() -> None:
    rows = read_jsonl("gaokao_math_cloze.jsonl")
    golds = [row["answer"] for row in rows]
    # The gold restated: without $, \dfrac for \frac, spaced out, so that math-verify does the work.
    restated = [
        (g, "\\boxed{" + "; ".join(b.strip("$").replace(r"\frac", r"\dfrac") for b in g.split(";")) + "}")
        for g in golds
    ]
    results, _ = grade_many(restated, forms="multi_blank")
    assert [g for (g, _), r in zip(restated, results) if not r["correct"]] == []

    def change_a_digit(gold: str) -> str | None:
        blanks = gold.split(";")
        for i, blank in enumerate(blanks):
            if digit := re.search(r"\d", blank):
                blanks[i] = blank[: digit.start()] + str((int(digit.group()) + 1) % 10) + blank[digit.end() :]
                return ";".join(blanks)
        return None

    perturbed = [(g, rf"\boxed{{{p}}}") for g in golds if (p := change_a_digit(g)) is not None]
    multi = [g for g in golds if ";" in g]
    swapped = [(g, rf"\boxed{{{';'.join(reversed(g.split(';')))}}}") for g in multi]
    missing = [(g, rf"\boxed{{{g.split(';')[0]}}}") for g in multi]
    assert len(perturbed) > 100 and len(multi) > 10
    results, _ = grade_many(perturbed + swapped + missing, forms="multi_blank")
    assert [item for item, r in zip(perturbed + swapped + missing, results) if r["correct"]] == []


@pytest.mark.parametrize(
    ("text", "gold", "predicted", "correct"),
    [
        ("x = \\boxed{2}\ny = \\boxed{3}", "(2, 3)", "(2, 3)", True),
        ("$\\boxed{x = -1}$, $\\boxed{y = 4}$", "(-1, 4)", "(-1, 4)", True),
        ("x = \\boxed{2}, y = \\boxed{4}", "(2, 3)", "(2, 4)", False),
        # labels out of order: which entry is which? The last box stays the answer.
        ("$\\boxed{y = 3}$, $\\boxed{x = 2}$", "(2, 3)", "x = 2", False),
        ("one box: \\boxed{(2, 3)}", "(2, 3)", "(2, 3)", True),
        ("too few boxes: y = \\boxed{3}", "(2, 3)", "3", False),
        ("a box of two values last: \\boxed{1} then \\boxed{2, 3}", "(2, 3)", "2, 3", None),
        (
            "a stated answer after the boxes: \\boxed{2}, \\boxed{3}. The final answer is (2, 3).",
            "(2, 3)",
            "(2, 3)",
            True,
        ),
        ("not a tuple gold: \\boxed{2} and \\boxed{3}", "3", "3", True),
    ],
)
def test_a_gold_tuple_answered_in_as_many_boxes_is_read_as_that_tuple(text, gold, predicted, correct) -> None:
    verdict = grade(gold, text)
    assert verdict["predicted"] == predicted
    if correct is not None:
        assert verdict["correct"] is correct
