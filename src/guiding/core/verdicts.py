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
from dataclasses import dataclass

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


def _t_interval(values, confidence: float, scope: str) -> TInterval:
    import numpy as np
    from scipy import stats

    values = np.asarray(values, dtype=float)
    count = values.size
    mean = float(values.mean())
    se = float(values.std(ddof=1)) / math.sqrt(count)
    df = count - 1
    # Every replicate agrees (up to rounding): the interval is the point, decided unless it is 0.
    if se <= 1e-12 * max(1.0, abs(mean)):
        return TInterval(mean, mean, mean, 1.0 if mean == 0 else 0.0, df, scope)
    half = float(stats.t.ppf(0.5 + confidence / 2, df)) * se
    p_value = float(2 * stats.t.sf(abs(mean) / se, df))
    return TInterval(mean, mean - half, mean + half, p_value, df, scope)


def per_seed_t_interval(diff, confidence: float = 0.95) -> TInterval:
    """The t interval of the mean of ``diff`` (seeds x items: the per-item differences a - b of two
    settings at each training seed, paired by seed and item) over its per-seed means, with
    seeds - 1 degrees of freedom. With one seed: the t interval over the items, scope ``ITEMS_ONLY``."""
    import numpy as np

    diff = np.asarray(diff, dtype=float)
    if diff.ndim != 2 or 0 in diff.shape:
        raise ValueError(f"diff must be a non-empty seeds x items matrix, not of shape {diff.shape}")
    seeds, items = diff.shape
    if seeds == 1:
        if items < 2:
            raise ValueError("one seed and one item: there is nothing to estimate a spread from")
        return _t_interval(diff[0], confidence, ITEMS_ONLY)
    return _t_interval(diff.mean(axis=1), confidence, SEEDS)


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
    """SD over the seeds of the per-seed mean difference (ddof 1): what the t interval divides by sqrt(seeds)."""
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
) -> SeedPlan:
    """How many seeds the comparison ``diff`` (seeds x items, at least 2 seeds) would need for a t
    interval of ``half_width`` (``diff``'s units) and for deciding the sign of its observed mean
    difference with probability ``power`` (the noncentral t, one-sided at the interval's level),
    taking the observed per-seed spread as the truth."""
    import numpy as np
    from scipy import stats

    diff = np.asarray(diff, dtype=float)
    seeds, items = diff.shape
    if seeds < 2:
        raise ValueError("the seed spread needs at least 2 seeds")
    per_seed = diff.mean(axis=1)
    seed_sd = float(per_seed.std(ddof=1))
    if seed_sd <= 1e-12:  # the seeds agree (up to rounding)
        seed_sd = 0.0
    residual = diff - per_seed[:, None]
    item_var = float((residual**2).sum() / (seeds * (items - 1)))
    # The item-by-seed interaction (item luck that differs between seeds) puts item_interaction / items
    # into each per-seed mean's variance; what is left is the seed-level component.
    interaction = residual - residual.mean(axis=0, keepdims=True)
    interaction_var = float((interaction**2).sum() / ((seeds - 1) * (items - 1)))
    seed_component_sd = math.sqrt(max(0.0, seed_sd**2 - interaction_var / items))
    mean = float(per_seed.mean())
    counts = np.arange(2, max_seeds + 1)
    t_crit = stats.t.ppf(0.5 + confidence / 2, counts - 1)
    # E[s] = c4(n) * sigma: the half-width expected at n seeds, not just its value at the true sigma.
    c4 = np.exp(0.5 * np.log(2 / (counts - 1)) + _lgamma(counts / 2) - _lgamma((counts - 1) / 2))
    expected_half = t_crit * c4 * seed_sd / np.sqrt(counts)
    met = np.flatnonzero(expected_half <= half_width)
    seeds_for_half_width = int(counts[met[0]]) if met.size else None
    seeds_for_power = None
    if seed_sd == 0:
        seeds_for_power = 2 if mean != 0 else None
    elif mean != 0:
        noncentrality = abs(mean) / (seed_sd / np.sqrt(counts))
        reached = np.flatnonzero(stats.nct.sf(t_crit, counts - 1, noncentrality) >= power)
        seeds_for_power = int(counts[reached[0]]) if reached.size else None
    return SeedPlan(seed_sd, seed_component_sd, math.sqrt(item_var), seeds_for_half_width, seeds_for_power)


def _lgamma(x):
    from scipy.special import gammaln

    return gammaln(x)
