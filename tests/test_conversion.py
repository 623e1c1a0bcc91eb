"""Benchmark conversions through the cached interface, asked of an in-process converter that
answers well-formed and malformed replies: what is kept, what is dropped and why, what is sent."""

import pytest
from conversion_backend import CLOZE, MULTIPLE_CHOICE

from guiding.evaluation.conversion import convert, correct_letter, options_text, split_options
from guiding.llm import ResponseCache, roles
from guiding.llm.roles import RoleSpec, Runtime

CONVERTER = RoleSpec(backend="conversion_backend:ScriptedConverter", endpoint="scripted", model="converter")
SAT = {"convert": "open_questions", "columns": {"problem": "question", "answer": "label"}, "options": "options"}
GAOKAO = {"convert": "translate_en", "columns": {"problem": "question", "answer": "answer"}}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    path = tmp_path / "responses.sqlite"
    monkeypatch.setattr(roles, "_runtime", Runtime(cache=str(path), manifest=str(tmp_path / "requests.jsonl")))
    return path


def source(items, *keys):
    return [{k: item[k] for k in keys} for item in items]


def test_multiple_choice_items_become_open_questions_and_the_rest_is_dropped_by_reason(cache):
    rows, report = convert(source(MULTIPLE_CHOICE, "question", "options", "label"), "sat", SAT, CONVERTER)
    expected = [(i, item["expect"]) for i, item in enumerate(MULTIPLE_CHOICE) if isinstance(item["expect"], tuple)]
    assert [(r["source_index"], (r["problem"], r["answer"])) for r in rows] == expected
    assert [r["how"] for r in rows] == ["open_questions", "open_questions", "already_open", "open_questions"]
    assert report["dropped_by_reason"] == {
        "dropped_statements": 1,
        "options_left_in_question": 1,
        "several_correct_options": 1,
    }
    assert [d["source_index"] for d in report["dropped"]] == [2, 3, 5]
    # Letters-only golds with one letter were asked; "AC" and the open "4" were not.
    assert (report["selected"], report["asked"], report["kept"], report["kept_as_they_were"]) == (7, 5, 4, 1)
    assert report["answers_from_options"] == 3  # the answer is the option's content, not the model's "A) 2"
    with ResponseCache(cache) as responses:
        assert len(responses.keys()) == 5


def test_chinese_cloze_items_are_translated_and_keep_their_answers(cache):
    rows, report = convert(source(CLOZE, "question", "answer"), "gaokao", GAOKAO, CONVERTER)
    assert [(r["problem"], r["answer"]) for r in rows] == [item["expect"] for item in CLOZE[:2]]
    assert report["dropped_by_reason"] == {"not_translated": 1} and report["asked"] == 3


def test_options_inside_the_question_leave_the_answer_to_the_model_and_where_and_limit_select(cache, monkeypatch):
    import conversion_backend

    inline = "If 3x = 6, then x is (A) 1 (B) 2 (C) 3 (D) 4"
    reply = "### Open question\nIf 3x = 6, what is x?\n\n### Answer\n$2$"
    monkeypatch.setitem(conversion_backend.REPLIES, inline, reply)
    jee = [
        {"question": "A physics item nobody may ask about", "gold": "A", "subject": "phy"},
        {"question": inline, "gold": "B", "subject": "math"},
        {"question": "Find the integer n with n + 1 = 5.", "gold": "4", "subject": "math"},
        {"question": "Never selected: beyond the limit", "gold": "C", "subject": "math"},
    ]
    spec = {
        "convert": "open_questions",
        "columns": {"problem": "question", "answer": "gold"},
        "where": {"column": "subject", "in": ["math"]},
        "limit": 2,
    }
    rows, report = convert(jee, "jee", spec, CONVERTER)
    assert [(r["source_index"], r["problem"], r["answer"]) for r in rows] == [
        (1, "If 3x = 6, what is x?", "2"),
        (2, "Find the integer n with n + 1 = 5.", "4"),
    ]
    assert (report["source_items"], report["selected"], report["asked"], report["answers_from_options"]) == (4, 2, 1, 0)


def test_letters_and_options_are_read_in_the_sources_formats():
    assert [correct_letter(g) for g in ("C", "(B)", "ABD", "A, C", "12", "0.5", "")] == [
        ("C", None),
        ("B", None),
        (None, "several_correct_options"),
        (None, "several_correct_options"),
        (None, "already_open"),
        (None, "already_open"),
        (None, "no_gold"),
    ]
    assert split_options("A) $f(-6)=0$ B) $f(6)=-6$ C) $(3,18)$") == {
        "A": "$f(-6)=0$",
        "B": "$f(6)=-6$",
        "C": "$(3,18)$",
    }
    assert split_options(["(A)3", "B. 5", "7"]) == {"A": "3", "B": "5", "C": "7"}
    assert options_text(["(A)3", "(B)5"]) == "(A) 3\n(B) 5"
