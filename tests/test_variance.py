"""The variance study's arithmetic (guiding.report.variance): a run's seed spread with its item-luck
part taken out, the nested split of the training draw into stage 1 and stage 2, and job costs."""

import math

import numpy as np
import pytest

from guiding.core.verdicts import plan_seeds
from guiding.report.variance import draw_components, job_cost, run_spread

ITEMS = 200


def scores_from(matrix) -> dict[int, dict[str, float]]:
    return {seed: {f"item-{i:04d}": float(v) for i, v in enumerate(row)} for seed, row in enumerate(matrix)}


def test_seeds_that_answer_alike_have_no_seed_component():
    # Every seed gets the same items right: no spread at all.
    row = np.arange(ITEMS) < 120
    spread = run_spread(scores_from([row, row, row]))
    assert spread.mean == pytest.approx(60.0)
    assert spread.seed_sd == spread.item_luck_sd == spread.seed_component_sd == 0.0


def test_item_luck_alone_leaves_a_small_seed_component_and_a_seed_shift_shows():
    rng = np.random.default_rng(0)
    luck_only = rng.random((8, ITEMS)) < 0.5  # every seed the same model; only item luck differs
    spread = run_spread(scores_from(luck_only))
    # Binomial item luck at p = 0.5, n = 200: about 3.5 points per seed.
    assert 2.5 < spread.item_luck_sd < 4.5
    assert spread.seed_component_sd < spread.seed_sd
    shifted = np.array([rng.random(ITEMS) < p for p in (0.2, 0.8, 0.2, 0.8, 0.2, 0.8, 0.2, 0.8)])
    spread = run_spread(scores_from(shifted))
    assert spread.seed_component_sd > 25  # a 60-point swing between seeds is the training draw's


def test_the_seed_component_is_plan_seeds_own():
    rng = np.random.default_rng(1)
    matrix = np.array([rng.random(ITEMS) < p for p in (0.3, 0.5, 0.6, 0.45, 0.7)], dtype=float)
    spread = run_spread(scores_from(matrix))
    plan = plan_seeds(matrix, half_width=0.1)
    assert spread.seed_component_sd == pytest.approx(100 * plan.seed_component_sd)
    assert spread.per_seed == pytest.approx(tuple(100 * matrix.mean(axis=1)))


def test_one_seed_is_refused():
    with pytest.raises(ValueError, match="at least 2 training seeds"):
        run_spread(scores_from([np.ones(ITEMS)]))


def test_nested_draws_split_into_stage1_and_stage2_parts():
    # Stage-2 draws 2 points apart around stage-1 means of 11 and 31.
    parts = draw_components({42: [10.0, 12.0], 1: [30.0, 32.0]})
    assert parts.stage2_sd == pytest.approx(math.sqrt(2.0))
    assert parts.stage1_sd == pytest.approx(math.sqrt(200.0 - 2.0 / 2))
    # All of the spread within stage 1: the stage-1 part is 0, not negative.
    parts = draw_components({42: [10.0, 30.0], 1: [30.0, 10.0]})
    assert parts.stage1_sd == 0.0 and parts.stage2_sd == pytest.approx(math.sqrt(200.0))


@pytest.mark.parametrize("draws", [{42: [1.0, 2.0]}, {42: [1.0, 2.0], 1: [3.0]}, {42: [1.0], 1: [2.0]}])
def test_an_unbalanced_or_too_small_design_is_refused(draws):
    with pytest.raises(ValueError, match="nested analysis"):
        draw_components(draws)


def test_job_cost_reads_snakemakes_benchmark_file(tmp_path):
    tsv = tmp_path / "seed42.tsv"
    tsv.write_text(
        "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
        "301.5\t0:05:01\t812.3\t2000.1\t800.0\t805.0\t0.1\t3.2\t180.4\t540.25\n"
    )
    assert job_cost(tsv) == (301.5, 540.25)
