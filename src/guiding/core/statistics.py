"""Statistics of the result tables."""

from __future__ import annotations

import math
from statistics import NormalDist


def wilson_interval(correct: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (sound at 0% and 100%, unlike the normal one)."""
    if n == 0:
        return (math.nan, math.nan)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = correct / n
    denom = 1 + z * z / n
    center = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, center - half), min(1.0, center + half))


def seed_item_bootstrap(
    scores, confidence: float = 0.95, resamples: int = 10_000, rng_seed: int = 0, chunk: int = 1_000
) -> tuple[float, float]:
    """Percentile interval of the mean of ``scores`` (seeds x items) by a two-level bootstrap.

    Each resample draws the training seeds with replacement, then the items with replacement;
    the drawn items are the same for every drawn seed, because every seed answered the same
    items (drawing them anew per seed would let the seeds average the item sample's luck away).
    With identical seeds this is the item bootstrap; with many items, the seed bootstrap. For a
    paired comparison, ``scores`` holds the per-item differences of two settings at each seed.
    A fixed ``rng_seed`` gives the same interval on every rerun and machine.
    """
    import numpy as np

    scores = np.asarray(scores, dtype=float)
    if scores.ndim != 2 or 0 in scores.shape:
        raise ValueError(f"scores must be a non-empty seeds x items matrix, not of shape {scores.shape}")
    seeds, items = scores.shape
    rng = np.random.default_rng(rng_seed)
    means = np.empty(resamples)
    for start in range(0, resamples, chunk):
        b = min(chunk, resamples - start)
        drawn_seeds = rng.integers(0, seeds, size=(b, seeds))
        drawn_items = rng.integers(0, items, size=(b, items))
        means[start : start + b] = scores[drawn_seeds[:, :, None], drawn_items[:, None, :]].mean(axis=(1, 2))
    alpha = 1 - confidence
    low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def cluster_ratio_bootstrap(
    numerators, denominators, confidence: float = 0.95, resamples: int = 10_000, rng_seed: int = 0, chunk: int = 1_000
) -> tuple[float, float]:
    """Percentile interval of sum(numerators) / sum(denominators) when the units counted come in
    clusters (cluster i holds ``denominators[i]`` units, ``numerators[i]`` of them with the trait).

    The clusters are resampled with replacement, not the units: the steps of one solution share its
    writer's luck (a slip carried on makes the later steps wrong too), so resampling steps would give
    too narrow an interval. Resamples without any unit are left out. A fixed ``rng_seed`` gives the
    same interval on every rerun and machine; (NaN, NaN) when there is no unit at all.
    """
    import numpy as np

    num, den = np.asarray(numerators, dtype=float), np.asarray(denominators, dtype=float)
    if num.shape != den.shape or num.ndim != 1:
        raise ValueError(f"numerators and denominators must be two lists of one length, not {num.shape}, {den.shape}")
    if den.sum() == 0:
        return (math.nan, math.nan)
    rng = np.random.default_rng(rng_seed)
    ratios = []
    for start in range(0, resamples, chunk):
        drawn = rng.integers(0, len(num), size=(min(chunk, resamples - start), len(num)))
        totals = den[drawn].sum(axis=1)
        ratios.append(num[drawn].sum(axis=1)[totals > 0] / totals[totals > 0])
    alpha = 1 - confidence
    low, high = np.quantile(np.concatenate(ratios), [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)
