"""The per-seed t interval (guiding.core.verdicts) calibrated by simulation: studies of the default's
shape (200 items, 2/3/5/10 training seeds, accuracies 5-95%, a seed-level SD of the difference of
0/5/10/20 points) drawn with no true difference must give a false verdict at most 5% of the time,
within the simulation's error; the power at true differences of 10 and 20 points is computed, and
the project's two-level percentile bootstrap is measured in the same simulation.

Monte-Carlo error: each grid point draws STUDIES studies, so a method whose true false-verdict rate
is exactly 5% shows a rate with standard error SE = sqrt(0.05 * 0.95 / STUDIES) (0.69 points at
1000). A grid point fails above 5% + 4 SE (7.8%: with 80 grid points, a calibrated method crosses
that somewhere with probability under 0.3%); the five accuracies of one (seeds, seed SD) pooled
fail above 5% + 3.5 SE of the pooled count (6.1%), and the whole grid pooled above 5% + 3 SE of
its 80,000 studies (5.23%). The RNG is seeded, so the test is deterministic.
bench/verdict_calibration.py prints the full table with more studies (docs/verdicts.md)."""

import math

import numpy as np
import pytest

from guiding.core.calibration import (
    StudyShape,
    bootstrap_intervals,
    simulate_differences,
    solve_logits,
    t_decisions,
)
from guiding.core.statistics import seed_item_bootstrap
from guiding.core.verdicts import (
    HOLDS,
    INCONCLUSIVE,
    ITEMS_ONLY,
    REFUTED,
    SEEDS,
    adjusted_t_interval,
    holm_adjust,
    holm_confidence,
    labelled,
    per_seed_t_interval,
    plan_seeds,
    unlabelled,
    verdict_of,
)

STUDIES = 1000
NOMINAL = 0.05
SEED_COUNTS = (2, 3, 5, 10)
SEED_SDS = (0.0, 0.05, 0.10, 0.20)
ACCURACIES = (0.05, 0.25, 0.50, 0.75, 0.95)


def se(count: int) -> float:
    return math.sqrt(NOMINAL * (1 - NOMINAL) / count)


@pytest.fixture(scope="module")
def null_studies():
    """{(seed SD, accuracy): studies x 10 seeds x 200 items of a - b with no true difference}; a
    study with fewer seeds uses the first ones (the seeds are independent replicates)."""
    rng = np.random.default_rng(20250)
    return {
        (sd, acc): simulate_differences(StudyShape(acc, sd), max(SEED_COUNTS), STUDIES, rng)
        for sd in SEED_SDS
        for acc in ACCURACIES
    }


def test_the_simulated_studies_have_the_asked_variance_components():
    rng = np.random.default_rng(3)
    for acc, sd in [(0.05, 0.2), (0.5, 0.1), (0.95, 0.05)]:
        diffs = simulate_differences(StudyShape(acc, sd, items=2000), 2, 400, rng)
        # With many items the per-seed mean difference is the seed-level effect plus little item luck.
        per_seed = diffs.mean(axis=2)
        assert abs(per_seed.mean()) < 0.02
        spread = per_seed.std(ddof=1)  # over seeds and studies alike
        assert spread == pytest.approx(sd, abs=0.15 * sd + 0.015)
    mu, _, shift = solve_logits(StudyShape(0.25, 0.1, true_diff=0.2))
    diffs = simulate_differences(StudyShape(0.25, 0.1, true_diff=0.2), 5, 400, rng)
    assert diffs.mean() == pytest.approx(0.2, abs=0.01) and shift > 0


def test_the_t_interval_keeps_its_false_verdict_rate_at_nominal(null_studies):
    rates = {}
    for (sd, acc), diffs in null_studies.items():
        for seeds in SEED_COUNTS:
            rates[seeds, sd, acc] = np.mean(t_decisions(diffs[:, :seeds]) != 0)
    bad = {k: r for k, r in rates.items() if r > NOMINAL + 4 * se(STUDIES)}
    assert not bad, f"false-verdict rate above 5% + 4 SE at (seeds, seed SD, accuracy): {bad}"
    for seeds in SEED_COUNTS:
        for sd in SEED_SDS:
            pooled = np.mean([rates[seeds, sd, acc] for acc in ACCURACIES])
            assert pooled <= NOMINAL + 3.5 * se(STUDIES * len(ACCURACIES)), (seeds, sd, pooled)
    assert np.mean(list(rates.values())) <= NOMINAL + 3 * se(STUDIES * len(rates))


def test_the_projects_bootstrap_is_too_narrow_when_the_seeds_differ(null_studies):
    # The same studies under the two-level percentile bootstrap (1000 of its resamples): with 2-3
    # seeds and a seed-level spread it decides far more often than 5%, the t interval does not.
    for seeds, sd in [(2, 0.20), (3, 0.10)]:
        diffs = null_studies[sd, 0.5][:, :seeds]
        low, high = bootstrap_intervals(diffs, resamples=1000)
        boot_rate = np.mean((low > 0) | (high < 0))
        t_rate = np.mean(t_decisions(diffs) != 0)
        print(f"{seeds} seeds, seed SD {sd:.0%}: bootstrap {boot_rate:.1%}, t interval {t_rate:.1%}")
        assert boot_rate > NOMINAL + 4 * se(STUDIES) > t_rate


def test_the_vectorised_bootstrap_is_the_projects_bootstrap():
    diffs = simulate_differences(StudyShape(0.4, 0.1), 3, 4, np.random.default_rng(5))
    low, high = bootstrap_intervals(diffs, resamples=1500)
    for k in range(len(diffs)):
        assert (low[k], high[k]) == pytest.approx(seed_item_bootstrap(diffs[k], resamples=1500), abs=1e-12)


def test_the_vectorised_t_decisions_are_the_t_interval():
    diffs = simulate_differences(StudyShape(0.05, 0.05), 2, 300, np.random.default_rng(8))
    decisions = t_decisions(diffs)
    for k in range(len(diffs)):
        interval = per_seed_t_interval(diffs[k])
        assert decisions[k] == (1 if interval.low > 0 else -1 if interval.high < 0 else 0)
    # Two seeds that tie on other items: the item luck keeps the interval open.
    same_mean = np.zeros((2, 200))
    same_mean[0, :6], same_mean[1, 100:106] = 1, 1
    assert per_seed_t_interval(same_mean).low < 0 < per_seed_t_interval(same_mean).high


def test_power_at_true_differences_of_10_and_20_points():
    rng = np.random.default_rng(11)
    power = {}
    for acc in (0.25, 0.5):
        for delta in (0.1, 0.2):
            for sd in (0.0, 0.1):
                diffs = simulate_differences(StudyShape(acc, sd, true_diff=delta), 10, 300, rng)
                for seeds in (2, 3, 10):
                    power[acc, delta, sd, seeds] = np.mean(t_decisions(diffs[:, :seeds]) == 1)
    print(power)
    # No seed-level spread: the item luck alone leaves about 4 points of per-seed SD at 200 items.
    assert all(power[acc, 0.2, 0.0, 3] > 0.9 and power[acc, 0.1, 0.0, 10] > 0.9 for acc in (0.25, 0.5))
    for acc in (0.25, 0.5):
        for delta in (0.1, 0.2):
            assert power[acc, delta, 0.1, 2] < power[acc, delta, 0.1, 3] < power[acc, delta, 0.1, 10]
        assert power[acc, 0.1, 0.1, 10] < power[acc, 0.2, 0.1, 10]


def test_t_interval_by_hand_and_with_one_seed():
    diff = np.array([[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0]], dtype=float)  # per-seed 0.25, 0.5, 0.75
    interval = per_seed_t_interval(diff)
    half = 4.302652729749462 * 0.25 / math.sqrt(3)  # t(0.975, 2) x sd / sqrt(seeds)
    assert (interval.low, interval.diff, interval.high) == pytest.approx((0.5 - half, 0.5, 0.5 + half))
    assert interval.scope == SEEDS and interval.df == 2 and interval.low < 0 < 0.05 < interval.p_value < 0.1
    assert verdict_of(interval, 0.05) == INCONCLUSIVE and verdict_of(interval, 0.1) == HOLDS
    assert verdict_of(interval, 0.1, p_value=0.2) == INCONCLUSIVE
    one = per_seed_t_interval(-diff[2:])
    assert one.scope == ITEMS_ONLY and one.df == 3 and one.diff == -0.75 and verdict_of(one, 0.5) == REFUTED
    with pytest.raises(ValueError, match="seeds x items"):
        per_seed_t_interval(np.zeros(3))


def test_holm_adjusts_step_down_and_monotone():
    assert holm_adjust([0.01, 0.04, 0.03, 0.5]) == pytest.approx([0.04, 0.09, 0.09, 0.5])
    assert holm_adjust([0.3, 0.3]) == pytest.approx([0.6, 0.6])
    assert holm_adjust([0.9, 0.001]) == pytest.approx([0.9, 0.002])


def test_the_holm_interval_excludes_0_exactly_when_the_adjusted_p_decides():
    diff = np.array([[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0]], dtype=float)  # per-seed 0.25, 0.5, 0.75
    interval = per_seed_t_interval(diff, 0.8)  # t = 0.5 / (0.25 / sqrt(3)) = sqrt(12), 2 df: p = 0.074
    assert interval.low > 0 and interval.p_value == pytest.approx(1 - math.sqrt(12 / 14))
    # p_adj = 2p = 0.148 < 0.2: still decided; the interval at 1 - 0.2 x p / p_adj = 0.9, t(0.95, 2) = 2.920.
    twice = adjusted_t_interval(diff, interval, 2 * interval.p_value, 0.2)
    assert holm_confidence(interval.p_value, 2 * interval.p_value, 0.2) == pytest.approx(0.9)
    half = 2.919986 * 0.25 / math.sqrt(3)
    assert (twice.low, twice.high) == pytest.approx((0.5 - half, 0.5 + half))
    assert 0 < twice.low < interval.low and twice.p_value == 2 * interval.p_value and verdict_of(twice, 0.2) == HOLDS
    # p_adj = 4p = 0.297 > 0.2: not decided, and the interval now reaches below 0.
    four = adjusted_t_interval(diff, interval, 4 * interval.p_value, 0.2)
    assert four.low < 0 < four.high and verdict_of(four, 0.2) == INCONCLUSIVE
    # Exactly at alpha the interval touches 0.
    edge = adjusted_t_interval(diff, interval, 0.2, 0.2)
    assert edge.low == pytest.approx(0, abs=1e-9) and verdict_of(edge, 0.2) == INCONCLUSIVE
    # p_adj = p: the unadjusted interval.
    assert adjusted_t_interval(diff, interval, interval.p_value, 0.2) == interval
    # Identical replicates: the interval is the point, p = 0, and Holm keeps 0: no division by zero.
    same = np.tile([1.0, 1.0, 0.0, 0.0], (3, 1))
    point = per_seed_t_interval(same)
    assert (point.low, point.high, point.p_value) == (0.5, 0.5, 0.0) and holm_confidence(0.0, 0.0, 0.05) == 0.95
    assert adjusted_t_interval(same, point, 0.0, 0.05) == point
    with pytest.raises(ValueError, match="below the p-value"):
        holm_confidence(0.2, 0.1, 0.05)


def test_a_one_seed_verdict_carries_its_label():
    assert labelled(HOLDS, SEEDS) == "holds" and labelled(REFUTED, ITEMS_ONLY) == "refuted (items only)"
    assert unlabelled("inconclusive (items only)") == INCONCLUSIVE == unlabelled("inconclusive")


def test_plan_seeds_on_a_known_spread():
    rng = np.random.default_rng(2)
    # 3 seeds whose per-seed mean differences are 0.02, 0.06, 0.10 (SD 0.04), on 200 items.
    diff = np.zeros((3, 200))
    for s, ones in enumerate((4, 12, 20)):
        diff[s, rng.choice(200, ones, replace=False)] = 1
    plan = plan_seeds(diff, half_width=0.05)
    assert plan.seed_sd == pytest.approx(0.04)
    # t(0.975, n-1) x c4(n) x 0.04 / sqrt(n) <= 0.05 first at n = 5 (2.776 x 0.940 x 0.04 / 2.236 = 0.0467).
    assert plan.seeds_for_half_width == 5
    # Observed +0.06 with SD 0.04: 80% power to decide it above 0 first at 6 seeds.
    assert plan.seeds_for_power == 6
    assert plan_seeds(np.zeros((2, 10)), half_width=0.05).seeds_for_power is None
