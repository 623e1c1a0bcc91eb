"""The GPU-hour budget: tokens of each training and evaluation job over a stated throughput."""

import math
from pathlib import Path

import pytest
from conftest import ROOT, SMALL

from guiding import artifacts as A
from guiding.cli import main
from guiding.config import load_config, set_size, stage2_runs
from guiding.core.io import write_jsonl
from guiding.report.gpu_budget import Throughput, plan

RATE = Throughput(train_tokens_per_s=100.0, generate_tokens_per_s=50.0)


def built(workdir: Path) -> dict:
    """The small study's stage-1 data, one of its sets and its benchmarks, with known lengths."""
    write_jsonl(workdir / A.STAGE1_DATA, [{"problem": "a" * 40, "solution": "b" * 39}] * 3)  # 80 chars: 20 tokens
    write_jsonl(workdir / A.fill(A.SET, name="hard-main-er0"), [{"problem": "p" * 7, "solution": "s" * 4}] * 5)
    config = load_config(SMALL, ROOT)
    for bench in config["evaluation"]["benchmarks"]:
        write_jsonl(workdir / A.fill(A.BENCHMARK, bench=bench), [{"problem": "q" * 8, "answer": "1"}] * 2)
    return config


def test_tokens_come_from_built_artifacts_and_sizes_fill_in_the_rest(tmp_path):
    config = built(tmp_path)
    config["replicates"]["seeds"] = [42, 1]  # two of everything: stage 1 and stage 2
    jobs = {job.name: job for job in plan(config, tmp_path, RATE, tokens_per_example=10)}
    runs = stage2_runs(config)
    epochs1 = config["training"]["stage1"]["num_train_epochs"]
    seeds = config["replicates"]["seeds"]
    for seed in seeds:  # each replicate trains its own stage 1
        stage1 = jobs[f"{A.BASELINE} seed {seed}"]
        assert stage1.tokens == 3 * 20 * epochs1 and stage1.measured
        assert stage1.gpu_hours == pytest.approx(3 * 20 * epochs1 / 100 / 3600)
    assert len([job for job in jobs.values() if job.kind == "train"]) == (1 + len(runs)) * len(seeds)
    for run, spec in runs.items():
        job, epochs = jobs[f"{A.stage2_model(run)} seed {seeds[-1]}"], spec["recipe"]["num_train_epochs"]
        if spec["set"] == "hard-main-er0":  # built: 12 characters -> 3 tokens per example
            assert (job.tokens, job.measured) == (5 * 3 * epochs, True)
        else:
            assert (job.tokens, job.measured) == (set_size(config, spec["set"]) * 10 * epochs, False)
    evaluations = [job for job in jobs.values() if job.kind == "evaluate"]
    assert len(evaluations) == (1 + len(runs)) * len(seeds)  # one job per model answers every benchmark
    per_model = 2 * (2 + config["evaluation"]["max_new_tokens"]) * len(config["evaluation"]["benchmarks"])
    assert {job.tokens for job in evaluations} == {per_model}
    assert evaluations[0].gpu_hours == pytest.approx(per_model / 50 / 3600)
    # Sampled decoding at three evaluation seeds answers every item three times; greedy, once.
    config["evaluation"].update(temperature=0.6, seeds=[1, 2, 3])
    sampled = [job for job in plan(config, tmp_path, RATE, tokens_per_example=10) if job.kind == "evaluate"]
    assert len(sampled) == len(evaluations) and {job.tokens for job in sampled} == {3 * per_model}


def test_the_budget_needs_the_stage1_data_and_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match=A.STAGE1_DATA):
        plan(load_config(SMALL, ROOT), tmp_path, RATE, tokens_per_example=10)


def test_the_command_prints_the_total(tmp_path, capsys):
    config = built(tmp_path)
    total = sum(job.gpu_hours for job in plan(config, tmp_path, RATE, tokens_per_example=600))
    with pytest.raises(SystemExit) as exit_:
        main(
            ["gpu-budget", "--configfile", str(SMALL), "--directory", str(tmp_path)]
            + ["--train-tokens-per-s", "100", "--generate-tokens-per-s", "50"]
        )
    assert exit_.value.code == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("| total |") and math.isclose(float(last.split("|")[4]), round(total, 1))
