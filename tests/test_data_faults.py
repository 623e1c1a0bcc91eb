"""Local data files fail loudly, naming the file, the line or the column;
hub sources drop over-long records by a length pre-filter, counted by reason."""

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from guiding.core.datasets import load_rows
from guiding.core.io import write_jsonl
from guiding.evaluation.benchmarks import load_benchmark
from guiding.tasks.sources import HubTaskSource

sys.path.insert(0, str(Path(__file__).parent))
from test_sources import prefilter, words  # noqa: E402


def task(problem: str, level: str = "Level 5", answer: str = "7") -> dict:
    return {"problem": problem, "solution": words(2000, answer), "level": level}


def test_a_where_column_that_no_row_has_is_named_with_the_columns_that_exist(tmp_path):
    path = tmp_path / "math.jsonl"
    write_jsonl(path, [task(f"Find the sum of {i} and 4.") for i in range(10)])
    source = {"source": str(path), "name": "math", "where": {"column": "levle", "in": ["Level 5"]}}
    with pytest.raises(ValueError, match=r"where\.column 'levle' is a column of no row .*'level', 'problem'"):
        HubTaskSource([source], prefilter()).splits()
    with pytest.raises(ValueError, match=r"where\.column 'levle'"):
        load_benchmark("b", {"source": str(path), "where": {"column": "levle", "in": [1]}})


def test_read_counts_the_rows_before_the_filters(tmp_path):
    path = tmp_path / "math.jsonl"
    write_jsonl(path, [task(f"Find the sum of {i} and 4.", "Level 5" if i < 3 else "Level 1") for i in range(10)])
    source = HubTaskSource(
        [{"source": str(path), "name": "m", "where": {"column": "level", "in": ["Level 5"]}}], prefilter()
    )
    source.splits()
    report = source.filter_report["sources"]["m"]
    assert report["read"] == 10 and report["kept"] == 3 and report["dropped_by_reason"] == {"where": 7}


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", r"empty\.jsonl: the file is empty"),
        (b'{"problem": "a"}\n{"problem": "b\xff"}\n', r"empty\.jsonl, line 2: not UTF-8 \(byte 0xff"),
        (
            b"".join(b'{"problem": "p%d"}\n' % i for i in range(5)) + b'{"problem": \n',
            r"empty\.jsonl, line 6: not a JSON line",
        ),
        (b"\n\n", r"empty\.jsonl: the file has no rows"),
    ],
)
def test_bad_local_files_are_named_with_their_line(tmp_path, content, message):
    path = tmp_path / "empty.jsonl"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        load_rows(str(path))


def test_a_csv_with_a_bad_byte_names_its_line(tmp_path):
    path = tmp_path / "bench.csv"
    path.write_bytes(b"problem,answer\nwhat,1\nwh\xe9re,2\n")
    with pytest.raises(ValueError, match=r"bench\.csv, line 3: not UTF-8"):
        load_rows(str(path))


def test_a_local_file_rewritten_with_its_old_mtime_is_read_anew(tmp_path):
    path = tmp_path / "rows.jsonl"
    write_jsonl(path, [{"problem": "old", "answer": "1"}])
    assert [r["problem"] for r in load_rows(str(path))] == ["old"]
    stat = path.stat()
    newer = tmp_path / "newer.jsonl"
    write_jsonl(newer, [{"problem": "new", "answer": "2"}])  # the same size, as cp -p would bring it
    shutil.copyfile(newer, path)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_mtime_ns == stat.st_mtime_ns and path.stat().st_size == stat.st_size
    assert [r["problem"] for r in load_rows(str(path))] == ["new"]


def test_over_long_problems_are_dropped_by_the_length_prefilter_and_counted(tmp_path):
    path = tmp_path / "hub.jsonl"
    rows = [task("Find the sum of 3 and 4."), task("Find the sum of 3 and 4, " + "again " * 5000 + "please.")]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    source = HubTaskSource([{"source": str(path), "name": "h"}], prefilter(max_problem_chars=1000))
    assert [t["problem"] for t in source.splits()["train_hard"]] == ["Find the sum of 3 and 4."]
    assert source.filter_report["sources"]["h"]["dropped_by_reason"] == {"problem_too_long": 1}
    source = HubTaskSource(
        [{"source": str(path), "name": "h"}], prefilter(max_problem_chars=None, max_solution_chars=100)
    )
    with pytest.raises(ValueError, match="no task passed"):
        source.splits()
