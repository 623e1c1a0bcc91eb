"""The paper's model half through the workflow's own rules, on the CPU, with a tiny model.

The data half is the small embedded study; the model half is paper mode's: a pretrained base
(a tiny Llama saved here as a hub model would be), the paper's recipes with max_steps cut short
and training under `accelerate launch`, sampled decoding with the released settings, and
benchmarks from files in their own answer forms (a MATH-500 subset, SAT letters, GSM8K), with
the average over benchmarks in the tables.
"""

import csv

import pytest
import yaml
from conftest import ROOT, SMALL, small_study_command

pytest.importorskip("trl")

DATA = ROOT / "tests" / "data" / "benchmarks"
pytestmark = pytest.mark.workflow


def paper_recipe(stage: str) -> dict:
    recipe = yaml.safe_load((ROOT / "config" / "recipes" / "paper" / f"{stage}.yaml").read_text())
    # The paper's recipe, cut short and on the CPU (bf16 autocast where the CPU has it).
    return {**recipe, "max_steps": 2, "save_steps": 1, "logging_steps": 1, "max_length": 512, "use_cpu": True}


@pytest.fixture(scope="module")
def hub_model(tmp_path_factory):
    from guiding.student.embedded import create_model, train_tokenizer

    path = tmp_path_factory.mktemp("hub")
    texts = [(DATA / "math500.jsonl").read_text()[:200_000], "Let a = 12 . What is a + 3 ? \\boxed{15}"]
    tokenizer = train_tokenizer(texts, 400)
    tokenizer.chat_template = None  # a base model: no template of its own
    arch = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2)
    create_model(tokenizer, {**arch, "num_key_value_heads": 2, "max_position_embeddings": 1024}, 0).save_pretrained(
        path
    )
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def study(tmp_path_factory, hub_model):
    config = yaml.safe_load(SMALL.read_text())
    config["backends"] = {"student_base": "pretrained"}
    config["student"] = {"model": str(hub_model), "dtype": "float32"}
    config["training"] = {
        "stage1": paper_recipe("stage1"),
        "stage2": paper_recipe("stage2"),
        "launcher": str(ROOT / "config" / "accelerate" / "cpu.yaml"),
    }
    # The fewest runs that fill every table: stage 1 and one hard and one subtask run.
    config["extra_runs"] = {}
    config["sets"]["combinations"] = {}
    config["sets"]["error_rate_sweep"]["error_rates"] = [0]
    config["sets"]["teacher_comparison"] = {"error_rate": 0, "teachers": ["main"]}
    config["teachers"] = {"main": config["teachers"]["main"]}
    config["evaluation"] = {
        "max_new_tokens": 16,
        "batch_size": 10,
        "temperature": 0.6,
        "top_p": 0.9,
        "top_k": 50,
        "seeds": [42, 7],  # two evaluation seeds, averaged per item
        "average": True,
        "benchmarks": {
            "math500": {"source": str(DATA / "math500.jsonl"), "label": "MATH", "limit": 10},
            "sat": {
                "source": str(DATA / "sat_math.jsonl"),
                "label": "SAT",
                "form": "letter",
                "columns": {"problem": "question", "answer": "Answer"},
                "options": "options",
                "limit": 10,
            },
            "gsm8k": {
                "source": str(DATA / "gsm8k_test_first200.jsonl"),
                "label": "GSM8K",
                "form": "gsm8k",
                "columns": {"problem": "question"},
                "limit": 10,
            },
        },
    }
    workdir = tmp_path_factory.mktemp("paper-path")
    path = workdir / "paper_small.yaml"
    path.write_text(yaml.safe_dump(config))
    import subprocess

    done = subprocess.run(
        small_study_command(workdir, "--cores", "2", configfile=path), capture_output=True, text=True, timeout=1200
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-6000:]
    return workdir, config


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_the_tables_hold_every_benchmark_with_n_and_the_average(study):
    workdir, config = study
    rows = read_csv(workdir / "results" / "tables" / "error_rate_sweep.csv")
    assert [r["run"] for r in rows] == [
        "stage1",
        "hard-main-er0",
        "subtask-main-er0",
    ]
    for row in rows:
        accs = [float(row[f"{label}_acc_%"]) for label in ("MATH", "SAT", "GSM8K")]
        assert all(int(row[f"{label}_n"]) == 10 for label in ("MATH", "SAT", "GSM8K"))
        assert float(row["avg_acc_%"]) == pytest.approx(sum(accs) / 3)


def test_each_benchmark_is_an_artifact_graded_in_its_own_form(study):
    import json

    workdir, _ = study
    for bench, form in (("math500", "plain"), ("sat", "letter"), ("gsm8k", "gsm8k")):
        rows = [
            json.loads(line) for line in (workdir / f"results/data/benchmarks/{bench}.jsonl").read_text().splitlines()
        ]
        assert len(rows) == 10 and {r["form"] for r in rows} == {form}
        report = json.loads((workdir / f"results/eval/stage1/seed42/{bench}.grading.json").read_text())
        assert report["items"] == 20  # every item once per evaluation seed
        by_seed = report["by_eval_seed"]
        assert sorted(by_seed) == ["42", "7"] and all(c["items"] == 10 for c in by_seed.values())
        assert report["correct"] == sum(c["correct"] for c in by_seed.values())


def test_the_tables_average_each_benchmark_over_the_evaluation_seeds(study):
    workdir, _ = study
    for row in read_csv(workdir / "results" / "tables" / "error_rate_sweep.csv"):
        for label in ("MATH", "SAT", "GSM8K"):
            per_seed = [float(row[f"{label}_eval{seed}_%"]) for seed in (42, 7)]
            assert float(row[f"{label}_acc_%"]) == pytest.approx(sum(per_seed) / 2)


def test_training_ran_under_accelerate_with_the_paper_recipe(study):
    import json

    workdir, config = study
    summary = json.loads((workdir / "results/models/stage1/seed42/training_summary.json").read_text())
    assert summary["global_step"] == 2 and summary["processes"] == 1
    log = (workdir / "results/logs/train/stage1/seed42.log").read_text()
    assert "accelerate.commands.launch --config_file" in log and "--num_processes 1" in log
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(workdir / "results/models/stage2/hard-main-er0/seed42")
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Q"}], tokenize=False, add_generation_prompt=True
    )
    assert prompt == "Problem:\nQ\n\nSolution:\n"  # the one template of training and evaluation
