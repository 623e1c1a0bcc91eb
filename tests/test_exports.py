"""Exports of the supervision sets: TRL prompt/completion JSONL and LLaMA-Factory alpaca + dataset_info."""

import hashlib
import json
from pathlib import Path

import pytest
from datasets import load_dataset
from transformers.utils.chat_template_utils import render_jinja_template

from guiding import artifacts as A
from guiding.core.io import read_jsonl, write_jsonl
from guiding.core.prompt_format import PROMPT_TEMPLATE
from guiding.supervision.steps import export_set, llamafactory_dataset_info

ITEMS = [
    {"task_id": "t0", "problem": "What is $1+1$?", "solution": "Step 1: 1 + 1 = 2.\nThe answer is $\\boxed{2}$."},
    {"task_id": "t1", "problem": "Solve $x^2 = 4$, $x > 0$.", "solution": "x = 2, so $\\boxed{2}$."},
    {"task_id": "t2", "problem": "Café: 3 € each, 2 of them?", "solution": "6 €: $\\boxed{6}$"},
]


def exported(tmp_path, name, items):
    path = lambda template: str(tmp_path / A.fill(template, name=name))
    write_jsonl(path(A.SET), items)
    export_set(supervision_set=path(A.SET), trl=path(A.EXPORT_TRL), llamafactory=path(A.EXPORT_LLAMAFACTORY))
    return path(A.EXPORT_TRL), path(A.EXPORT_LLAMAFACTORY)


def test_the_trl_export_reads_back_with_datasets_in_the_students_template(tmp_path):
    trl, _ = exported(tmp_path, "hard-main-er50", ITEMS)
    data = load_dataset("json", data_files=trl, split="train")
    assert set(data.column_names) == {"prompt", "completion"}
    assert len(data) == len(ITEMS)
    for row, item in zip(data, ITEMS):
        assert row["completion"] == item["solution"]
        # prompt + completion is the conversation as the student's tokenizer renders it (no BOS/EOS:
        # the trainer adds its own).
        conversation = [
            {"role": "user", "content": item["problem"]},
            {"role": "assistant", "content": item["solution"]},
        ]
        rendered = render_jinja_template([conversation], chat_template=PROMPT_TEMPLATE, bos_token="", eos_token="")[0][
            0
        ]
        assert row["prompt"] + row["completion"] == rendered
        assert row["prompt"].startswith("Problem:\n" + item["problem"]) and row["prompt"].endswith("Solution:\n")


def test_the_dataset_info_entry_describes_each_files_columns(tmp_path):
    files = [exported(tmp_path, name, ITEMS[:n])[1] for name, n in (("hard-main-er0", 3), ("subtask-main-er50", 2))]
    info_path = str(tmp_path / A.EXPORT_LLAMAFACTORY_INFO)
    llamafactory_dataset_info(alpaca=files, dataset_info=info_path)
    info = json.loads(Path(info_path).read_text())
    assert sorted(info) == ["hard-main-er0", "subtask-main-er50"]
    for name, entry in info.items():
        file = Path(info_path).parent / entry["file_name"]  # relative to LLaMA-Factory's dataset_dir
        rows = json.loads(file.read_text())
        assert entry["formatting"] == "alpaca"
        assert entry["file_sha1"] == hashlib.sha1(file.read_bytes()).hexdigest()
        columns = entry["columns"]
        assert all(set(row) == set(columns.values()) for row in rows)
        source = read_jsonl(tmp_path / A.fill(A.SET, name=name))
        assert [r[columns["prompt"]] for r in rows] == [i["problem"] for i in source]
        assert [r[columns["response"]] for r in rows] == [i["solution"] for i in source]
        assert all(r[columns["query"]] == "" for r in rows)


def test_dataset_info_refuses_a_file_outside_its_folder(tmp_path):
    _, alpaca = exported(tmp_path, "hard-main-er0", ITEMS)
    with pytest.raises(ValueError, match="not beside"):
        llamafactory_dataset_info(alpaca=[alpaca], dataset_info=str(tmp_path / "elsewhere" / "dataset_info.json"))
