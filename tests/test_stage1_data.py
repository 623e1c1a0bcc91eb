"""Stage 1's data: sources concatenated, filtered, and the benchmarks' problems removed."""

import json

from guiding.core.io import read_jsonl, write_jsonl
from guiding.student.stage1_data import decontaminate, normalize
from guiding.student.steps import build_stage1_data

BENCH = ["What is $1+1$?", "Find the sum of all x such that x^2 = 4 and x is a positive integer greater than zero."]


def test_a_benchmark_problem_is_removed_however_it_is_spaced_or_cased():
    rows = [
        {"problem": "what is $1 + 1$ ?", "solution": "2"},  # same problem, other spacing and case
        {"problem": "What is $2+2$?", "solution": "4"},
    ]
    kept, removed = decontaminate(rows, BENCH, ngram=0)
    assert [r["problem"] for r in kept] == ["What is $2+2$?"] and removed == {"same_problem": 1}
    assert normalize("What  is $1+1$?") == normalize("what is 1 + 1")
    # The operator is the problem: the world's chains differ from each other by it alone.
    plus, minus = "Let x = 7. Let c = x + 4. Find c.", "Let x = 7. Let c = x - 4. Find c."
    assert normalize(plus) != normalize(minus)
    kept, removed = decontaminate([{"problem": minus}], [plus], 0)
    assert len(kept) == 1 and removed == {"same_problem": 0}


def test_an_ngram_overlap_removes_near_duplicates_only_when_asked():
    near = {
        "problem": "Please find the sum of all x such that x^2 = 4 and x is a positive integer, then add 1.",
        "solution": "3",
    }
    assert decontaminate([near], BENCH, ngram=0)[0] == [near]
    kept, removed = decontaminate([near], BENCH, ngram=8)
    assert kept == [] and removed == {"same_problem": 0, "shared_8gram": 1}


def test_the_step_reads_a_local_source_with_a_filter_and_the_world_and_reports_per_source(tmp_path):
    source = tmp_path / "numina.jsonl"
    write_jsonl(
        source,
        [
            {"question": "What is $1+1$?", "answer_text": "2", "origin": "orca_math"},
            {"question": "What is $3+4$?", "answer_text": "7", "origin": "orca_math"},
            {"question": "Prove it.", "answer_text": "...", "origin": "olympiads"},
        ],
    )
    world = tmp_path / "train_easy.jsonl"
    write_jsonl(world, [{"id": "w0", "problem": "Let a = 2 . What is a ?", "solution": "\\boxed{2}", "answer": "2"}])
    bench = tmp_path / "bench.jsonl"
    write_jsonl(bench, [{"id": "b0", "problem": BENCH[0], "answer": "2", "form": "plain"}])
    spec = {
        "sources": [
            {
                "source": str(source),
                "name": "numina",
                "where": {"column": "origin", "in": ["orca_math"]},
                "columns": {"problem": "question", "solution": "answer_text"},
            },
            {"source": "world"},
        ],
        "ngram": 0,
    }
    data, report = tmp_path / "stage1.jsonl", tmp_path / "report.json"
    build_stage1_data(
        benchmarks=[str(bench)], data=str(data), report=str(report), stage1_data=spec, world_tasks=str(world)
    )
    rows = read_jsonl(data)
    assert [r["problem"] for r in rows] == ["What is $3+4$?", "Let a = 2 . What is a ?"]
    facts = json.loads(report.read_text())
    assert facts["sources"]["numina"] == {"read": 3, "kept": 1, "where": 1, "same_problem": 1}  # read: before where
    assert facts["sources"]["world"] == {"read": 1, "kept": 1, "same_problem": 0} and facts["items"] == 2
