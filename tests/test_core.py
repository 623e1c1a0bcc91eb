"""The mode-neutral core: artifact names, step calls from Snakemake, statistics."""

import numpy as np
import pytest

from guiding import artifacts as A
from guiding.core.statistics import seed_item_bootstrap, wilson_interval
from guiding.core.steps import step_arguments


def test_a_filled_path_parses_back_to_its_wildcards():
    path = A.fill(A.GRADED, model="stage2-hard-main-er90", seed=7, bench="eval_hard")
    assert path == "results/eval/stage2-hard-main-er90/seed7/eval_hard.graded.jsonl"
    assert A.parse(A.GRADED, path) == {"model": "stage2-hard-main-er90", "seed": "7", "bench": "eval_hard"}
    assert A.parse(A.PAIR_STATS, "/tmp/x/results/data/pairs/main/subtask.stats.json") == {
        "teacher": "main",
        "kind": "subtask",
    }
    with pytest.raises(ValueError, match="is not a path of the form"):
        A.parse(A.GRADED, "results/eval/stage1/seed42/eval_hard.predictions.jsonl")


def test_model_names_map_to_their_directories():
    assert A.model_dir(A.BASELINE, 42) == "results/models/stage1/seed42"
    assert A.model_dir(A.stage2_model("combo-x"), 3) == "results/models/stage2/combo-x/seed3"
    with pytest.raises(ValueError, match="neither"):
        A.model_dir("stage3-x", 42)


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


def test_the_seed_item_bootstrap_of_identical_seeds_is_the_item_interval():
    # Three seeds that answered alike: no seed variance, so the interval is the items' alone
    # (drawing items anew for each seed would shrink it by about sqrt(3)).
    items = np.array([1.0] * 60 + [0.0] * 140)
    low, high = seed_item_bootstrap(np.stack([items] * 3), 0.95, resamples=4000, rng_seed=1)
    wilson_low, wilson_high = wilson_interval(60, 200, 0.95)
    assert low == pytest.approx(wilson_low, abs=0.015) and high == pytest.approx(wilson_high, abs=0.015)
    one_low, one_high = seed_item_bootstrap(items[None, :], 0.95, resamples=4000, rng_seed=1)
    assert high - low == pytest.approx(one_high - one_low, abs=0.01)


def test_the_seed_item_bootstrap_has_no_width_without_variance_and_spans_the_seeds_with_many_items():
    assert seed_item_bootstrap(np.ones((3, 50)), resamples=500) == (1.0, 1.0)
    assert seed_item_bootstrap(np.full((2, 10), -1.0), resamples=500) == (-1.0, -1.0)
    # Seeds at 20%, 50% and 80% on many items: the mean of three seeds drawn with replacement is
    # 20% (or 80%) with probability 1/27 > 2.5%, so the 95% interval runs from about 20% to 80%.
    rng = np.random.default_rng(0)
    seeds = np.stack([rng.permutation(np.arange(4000) < 4000 * p) for p in (0.2, 0.5, 0.8)]).astype(float)
    low, high = seed_item_bootstrap(seeds, 0.95, resamples=4000)
    assert low == pytest.approx(0.2, abs=0.02) and high == pytest.approx(0.8, abs=0.02)


def test_the_seed_item_bootstrap_repeats_itself_with_its_rng_seed():
    scores = np.random.default_rng(3).random((3, 40))  # continuous: distinct draws give distinct bounds
    assert seed_item_bootstrap(scores, rng_seed=5) == seed_item_bootstrap(scores, rng_seed=5)
    assert seed_item_bootstrap(scores, rng_seed=5) != seed_item_bootstrap(scores, rng_seed=6)
    with pytest.raises(ValueError, match="seeds x items"):
        seed_item_bootstrap(np.ones(5))
