"""The mode-neutral core: artifact names, step calls from Snakemake, statistics."""

import pytest

from guiding import artifacts as A
from guiding.core.statistics import wilson_interval
from guiding.core.steps import step_arguments


def test_a_filled_path_parses_back_to_its_wildcards():
    path = A.fill(A.GRADED, model="stage2-hard-main-er90", bench="eval_hard")
    assert path == "results/eval/stage2-hard-main-er90/eval_hard.graded.jsonl"
    assert A.parse(A.GRADED, path) == {"model": "stage2-hard-main-er90", "bench": "eval_hard"}
    assert A.parse(A.PAIR_STATS, "/tmp/x/results/data/pairs/main/subtask.stats.json") == {
        "teacher": "main",
        "kind": "subtask",
    }
    with pytest.raises(ValueError, match="is not a path of the form"):
        A.parse(A.GRADED, "results/eval/stage1/eval_hard.predictions.jsonl")


def test_model_names_map_to_their_directories():
    assert A.model_dir(A.BASELINE) == A.STAGE1_MODEL
    assert A.model_dir(A.stage2_model("combo-x")) == "results/models/stage2/combo-x"
    with pytest.raises(ValueError, match="neither"):
        A.model_dir("stage3-x")


class Job(dict):
    """A stand-in for Snakemake's Namedlist: what step_arguments reads is items()."""


def args(step, input=(), output=(), params=(), wildcards=(), threads=1, resources=()):
    return step_arguments(
        step,
        input=Job(input),
        output=Job(output),
        params=Job(params),
        wildcards=Job(wildcards),
        threads=threads,
        resources=Job(resources),
    )


def test_steps_get_their_arguments_by_name_not_by_position():
    def step(*, tasks, samples, seed, threads=1):
        return None

    got = args(
        step,
        input={"tasks": "t.jsonl"},
        output={"samples": "s.jsonl"},
        params={"seed": 3},
        wildcards={"teacher": "main"},
        threads=2,
    )
    assert got == {"tasks": "t.jsonl", "samples": "s.jsonl", "seed": 3, "threads": 2}


def test_a_rule_and_step_that_drift_apart_fail_naming_the_argument():
    def step(*, tasks, samples):
        return None

    with pytest.raises(TypeError, match=r"gives no \['samples'\]"):
        args(step, input={"tasks": "t"})
    with pytest.raises(TypeError, match=r"gives \['extra'\], which the step does not take"):
        args(step, input={"tasks": "t", "extra": "e"}, output={"samples": "s"})
    with pytest.raises(TypeError, match="'tasks' is given twice"):
        args(step, input={"tasks": "t"}, output={"tasks": "t2", "samples": "s"})


def test_a_step_takes_the_resources_it_names_and_only_those():
    def gpu_step(*, model, gpu=0):
        return None

    def cpu_step(*, model):
        return None

    resources = {"gpu": 2, "mem_mb": 4000, "_cores": 2, "tmpdir": "/tmp"}  # what Snakemake gives every job
    assert args(gpu_step, input={"model": "m"}, resources=resources) == {"model": "m", "gpu": 2}
    assert args(cpu_step, input={"model": "m"}, resources=resources) == {"model": "m"}


def test_list_inputs_arrive_as_plain_lists():
    def step(*, parts, **outputs):
        return None

    got = args(step, input={"parts": ["a", "b"]}, output={"x_csv": "x.csv"})
    assert got == {"parts": ["a", "b"], "x_csv": "x.csv"}


@pytest.mark.parametrize(
    "correct, n, low, high",
    [
        # Newcombe (1998), Statistics in Medicine 17:857-872, table I, method 3 (score interval).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_matches_published_values(correct, n, low, high):
    lo, hi = wilson_interval(correct, n, 0.95)
    assert lo == pytest.approx(low, abs=1e-4) and hi == pytest.approx(high, abs=1e-4)


def test_a_file_named_like_a_wildcard_wins_over_the_wildcard():
    def step(*, model, predictions):
        return None

    got = args(
        step, input={"model": "results/models/stage1"}, output={"predictions": "p"}, wildcards={"model": "stage1"}
    )
    assert got["model"] == "results/models/stage1"
