"""Verdicts from paired per-seed scores: a t interval over the per-seed mean differences, Holm's
family-wise adjustment, and the seeds a comparison would need (``plan_seeds``).

Why a t interval over seeds: the training seeds are the replicates. Each seed's mean difference
over the items carries that seed's draw of training and its draw of item-level luck, so the spread
of the per-seed means estimates both, and Student's t with seeds - 1 degrees of freedom accounts
for estimating that spread from few seeds. The two-level percentile bootstrap
(``statistics.seed_item_bootstrap``) can only resample the few seed values it has, which makes its
interval too narrow when the seeds differ (docs/verdicts.md gives the calibration of both).

The items are held fixed: the interval is about the benchmark's items as answered by new draws of
training, not about a new sample of items. With one seed there is no seed spread to measure, and the
interval is over the items only (``scope`` says so)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from .student_t import chi2_quantile, nct_sf, t_quantile, t_sf

HOLDS, REFUTED, INCONCLUSIVE = "holds", "refuted", "inconclusive"
SEEDS, ITEMS_ONLY = "seeds", "items only"


@dataclass(frozen=True)
class TInterval:
    """A mean difference with its t interval and two-sided p-value."""

    diff: float
    """Mean difference a - b (the mean of the per-seed means; with one seed, of the items)."""
    low: float
    """Lower end of the interval."""
    high: float
    """Upper end of the interval."""
    p_value: float
    """Two-sided p-value of the t test of no difference; the interval excludes 0 iff it is below 1 - confidence."""
    df: int
    """Degrees of freedom: seeds - 1, or items - 1 with one seed."""
    scope: str
    """What the interval covers: ``SEEDS`` (seeds and their item-level luck) or ``ITEMS_ONLY`` (one seed)."""


def item_luck_sd(diff) -> float:
    """The part of a per-seed mean difference's SD that item-level luck alone gives: the root of the
    item-by-seed interaction mean square over the items (``diff``: seeds x items, 2+ seeds)."""

    seeds, items = diff.shape
    interaction = diff - diff.mean(axis=1, keepdims=True) - diff.mean(axis=0, keepdims=True) + diff.mean()
    return math.sqrt(float((interaction**2).sum()) / ((seeds - 1) * (items - 1)) / items) if items > 1 else 0.0


def seed_component_sd(diff) -> float:
    """The seed-level part of the per-seed means' SD (``diff``: seeds x items, 2+ seeds): item luck that
    differs between seeds puts ``item_luck_sd``^2 into each per-seed mean's variance; what is left of
    the variance is the training draw's (>= 0)."""
    per_seed = diff.mean(axis=1)
    return math.sqrt(max(0.0, float(per_seed.std(ddof=1)) ** 2 - item_luck_sd(diff) ** 2))


def per_seed_sd(diff) -> float:
    """The SD of the per-seed mean differences (ddof 1); where the seeds' means tie exactly (scores
    are counts, so ties happen, most at accuracies near 0 or 100%) the item luck (``item_luck_sd``)
    instead: a tie says nothing about a spread of 0, and would give an interval of width 0."""
    sd = float(diff.mean(axis=1).std(ddof=1))
    return sd if sd > 1e-12 else item_luck_sd(diff)


def _t_interval(mean: float, sd: float, count: int, df: int, confidence: float, scope: str) -> TInterval:
    se = sd / math.sqrt(count)
    if se <= 1e-12 * max(1.0, abs(mean)):  # the replicates agree on every item: the interval is the point
        return TInterval(mean, mean, mean, 1.0 if mean == 0 else 0.0, df, scope)
    half = t_quantile(0.5 + confidence / 2, df) * se
    p_value = 2 * t_sf(abs(mean) / se, df)
    return TInterval(mean, mean - half, mean + half, p_value, df, scope)


def per_seed_t_interval(diff, confidence: float = 0.95) -> TInterval:
    """The t interval of the mean of ``diff`` (seeds x items: the per-item differences a - b of two
    settings at each training seed, paired by seed and item) over its per-seed means, with
    seeds - 1 degrees of freedom and the SD of ``per_seed_sd``. With one seed: the t interval over
    the items, scope ``ITEMS_ONLY``."""
    import numpy as np

    diff = np.asarray(diff, dtype=float)
    if diff.ndim != 2 or 0 in diff.shape:
        raise ValueError(f"diff must be a non-empty seeds x items matrix, not of shape {diff.shape}")
    seeds, items = diff.shape
    if seeds == 1:
        if items < 2:
            raise ValueError("one seed and one item: there is nothing to estimate a spread from")
        return _t_interval(float(diff.mean()), float(diff[0].std(ddof=1)), items, items - 1, confidence, ITEMS_ONLY)
    return _t_interval(float(diff.mean()), per_seed_sd(diff), seeds, seeds - 1, confidence, SEEDS)


def holm_adjust(p_values) -> list[float]:
    """Holm's step-down adjusted p-values (a family of comparisons: a comparison is decided at
    family-wise level alpha iff its adjusted p-value is at most alpha). Valid under any dependence
    between the comparisons, which share settings here."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def holm_confidence(p_value: float, adjusted_p: float, alpha: float) -> float:
    """The confidence of the interval that goes with a Holm-adjusted p-value: 1 - alpha * p / p_adj.
    Its t interval excludes 0 exactly when ``adjusted_p`` < ``alpha`` (a t interval at confidence c
    excludes 0 iff p < 1 - c), and equals the unadjusted one where the adjustment leaves p as it
    is. Holm's p_adj is at most m * p, so the confidence stays at most 1 - alpha / m. Where p = 0
    (the replicates agree on every item, and the interval is the point at any confidence) Holm's
    p_adj is 0 too: 1 - alpha."""
    if not 0 <= p_value <= adjusted_p:
        raise ValueError(f"an adjusted p-value ({adjusted_p}) below the p-value ({p_value}) or a negative one")
    return 1 - alpha if adjusted_p == 0 else 1 - alpha * p_value / adjusted_p


def adjusted_t_interval(diff, interval: TInterval, adjusted_p: float, alpha: float) -> TInterval:
    """The t interval of ``diff`` (as ``per_seed_t_interval``) widened to agree with the
    family-wise decision: at ``holm_confidence``, with ``adjusted_p`` as its p-value, so that it
    excludes 0 exactly when ``verdict_of(interval, alpha, p_value=adjusted_p)`` decides."""
    widened = per_seed_t_interval(diff, holm_confidence(interval.p_value, adjusted_p, alpha))
    return replace(widened, p_value=adjusted_p)


def labelled(verdict: str, scope: str) -> str:
    """The verdict as a table shows it: with one seed (scope ``ITEMS_ONLY``) it carries the
    label " (items only)", since it says nothing about another training draw."""
    return verdict if scope == SEEDS else f"{verdict} ({scope})"


def unlabelled(label: str) -> str:
    """The verdict (holds, refuted, inconclusive) of a table's ``labelled`` one."""
    return label.removesuffix(f" ({ITEMS_ONLY})")


def verdict_of(interval: TInterval, alpha: float, p_value: float | None = None) -> str:
    """Holds if a - b is decided above 0 at level ``alpha``, refuted if below, inconclusive
    otherwise; ``p_value`` (e.g. Holm-adjusted) replaces the interval's own."""
    p = interval.p_value if p_value is None else p_value
    if p < alpha:
        return HOLDS if interval.diff > 0 else REFUTED
    return INCONCLUSIVE


@dataclass(frozen=True)
class SeedPlan:
    """The seeds a comparison needs, from its variance components."""

    seed_sd: float
    """SD over the seeds of the per-seed mean difference (``per_seed_sd``), which the t interval
    divides by sqrt(seeds)."""
    seed_component_sd: float
    """Its seed-level part: the SD of the difference a new training draw adds, item-level luck taken out (>= 0)."""
    item_sd: float
    """Within-seed SD of the per-item differences (pooled over seeds): the item-level variance's root."""
    seeds_for_half_width: int | None
    """Fewest seeds whose expected t half-width is at most the target (None: more than ``max_seeds``)."""
    seeds_for_power: int | None
    """Fewest seeds that decide the observed difference's sign with the target power if it were true
    (None: more than ``max_seeds``, or no difference observed)."""


def plan_seeds(
    diff,
    *,
    half_width: float,
    power: float = 0.8,
    confidence: float = 0.95,
    max_seeds: int = 1000,
    sd_scale: float = 1.0,
) -> SeedPlan:
    """How many seeds the comparison ``diff`` (seeds x items, at least 2 seeds) would need for a t
    interval of ``half_width`` (``diff``'s units) and for deciding the sign of its observed mean
    difference with probability ``power`` (the noncentral t, one-sided at the interval's level),
    taking the observed per-seed spread, times ``sd_scale`` (e.g. to its upper confidence bound,
    ``sd_upper_bound_scale``), as the truth."""
    import numpy as np

    diff = np.asarray(diff, dtype=float)
    seeds, items = diff.shape
    if seeds < 2:
        raise ValueError("the seed spread needs at least 2 seeds")
    per_seed = diff.mean(axis=1)
    seed_sd = per_seed_sd(diff) * sd_scale
    residual = diff - per_seed[:, None]
    item_var = float((residual**2).sum() / (seeds * (items - 1)))
    mean = float(per_seed.mean())

    def expected_half_width(n: int) -> float:
        # E[s] = c4(n) * sigma: the half-width expected at n seeds, not its value at the true sigma.
        c4 = math.exp(0.5 * math.log(2 / (n - 1)) + math.lgamma(n / 2) - math.lgamma((n - 1) / 2))
        return t_quantile(0.5 + confidence / 2, n - 1) * c4 * seed_sd / math.sqrt(n)

    def power_at(n: int) -> float:
        return nct_sf(t_quantile(0.5 + confidence / 2, n - 1), n - 1, abs(mean) / (seed_sd / math.sqrt(n)))

    seeds_for_half_width = _fewest(lambda n: expected_half_width(n) <= half_width, max_seeds)
    if seed_sd <= 1e-12:  # the seeds agree on every item
        seeds_for_power = 2 if mean != 0 else None
    else:
        seeds_for_power = _fewest(lambda n: power_at(n) >= power, max_seeds) if mean != 0 else None
    return SeedPlan(seed_sd, seed_component_sd(diff), math.sqrt(item_var), seeds_for_half_width, seeds_for_power)


def sd_upper_bound_scale(seeds: int, confidence: float) -> float:
    """What a per-seed SD from ``seeds`` seeds is multiplied by to give its one-sided upper
    confidence bound at ``confidence`` (chi-squared with seeds - 1 degrees of freedom): with 3 seeds
    the SD rests on 2 degrees of freedom, and the next seeds can show a spread several times larger."""
    return math.sqrt((seeds - 1) / chi2_quantile(1 - confidence, seeds - 1))


def _fewest(enough, max_seeds: int) -> int | None:
    """The fewest seeds n in 2..max_seeds for which ``enough(n)`` (true from some n on), by bisection."""
    if not enough(max_seeds):
        return None
    low, high = 1, max_seeds  # enough(high); not enough(low), 1 seed having no spread
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if enough(middle) else (middle, high)
    return high
