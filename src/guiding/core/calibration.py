"""Studies of the default's shape drawn with known variance components, to measure how often a
verdict method decides a comparison (tests/test_verdict_calibration.py, bench/verdict_calibration.py).

The model, per simulated study (two settings a and b, ``seeds`` training seeds, ``items`` items):
- each item has a difficulty on the logit scale, N(mu, item_logit_sd^2), shared by both settings and
  every seed (the items of a benchmark are hard or easy for every model);
- optionally each setting has its own item effect, N(0, interaction_logit_sd^2), shared by its seeds
  (an item that one setting happens to learn better);
- each setting at each seed has a training-draw effect, N(0, kappa^2) on the logit scale;
- a's logits are shifted by ``shift``; every answer is a Bernoulli draw of the item's probability.

``mu``, ``kappa`` and ``shift`` are solved so that b's expected accuracy, the SD over seeds of the
expected per-seed difference a - b (in accuracy units) and the expected difference are the ones
asked for. With ``shift`` 0 the two settings are exchangeable, so the true difference is exactly 0."""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from importlib import resources

from .student_t import t_quantile

SUMMARY = "calibration_summary.json"
"""The measured calibration that bench/verdict_calibration.py writes into this package and the
findings table's caption quotes (``read_summary``)."""


def read_summary() -> dict:
    """The calibration summary of the package (``SUMMARY``): the highest false-verdict rate per
    seed count, the grid, the studies per grid point, the RNG seed, the commit and the machine."""
    path = resources.files(__package__) / SUMMARY
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: write it with `PYTHONPATH=src python bench/verdict_calibration.py`"
        )
    return json.loads(path.read_text())


@dataclass(frozen=True)
class StudyShape:
    """The variance components of one simulated comparison (accuracies as shares, 0-1)."""

    accuracy: float
    """b's expected accuracy."""
    seed_sd: float
    """SD over training seeds of the expected per-seed difference a - b (the seed-level component)."""
    true_diff: float = 0.0
    """Expected difference a - b."""
    items: int = 200
    """Items of the benchmark."""
    item_logit_sd: float = 1.5
    """Spread of the item difficulties on the logit scale (shared by the settings)."""
    interaction_logit_sd: float = 0.0
    """Spread of each setting's own item effects on the logit scale (shared by its seeds)."""


@functools.cache
def _normal_nodes(count: int = 96):
    """Gauss-Hermite nodes and weights of the standard normal (computed once: they are costly)."""
    import numpy as np

    x, w = np.polynomial.hermite_e.hermegauss(count)
    return x, w / math.sqrt(2 * math.pi)


def _normal_expectation(values_at):
    """E[f(Z)] for a standard normal Z by quadrature; ``values_at`` maps the nodes to f's values."""
    x, w = _normal_nodes()
    return values_at(x) @ w


def _mean_sigmoid(center, sd: float):
    """E[sigmoid(center + sd * Z)], vectorised over ``center``."""
    import numpy as np

    center = np.atleast_1d(np.asarray(center, dtype=float))
    return _normal_expectation(lambda x: 1 / (1 + np.exp(-(center[:, None] + sd * x[None, :]))))


def _root(f, low: float, high: float) -> float:
    """The root of ``f`` (increasing, negative at ``low``, positive at ``high``) by bisection."""
    while high - low > 1e-12 * max(1.0, abs(low)):
        middle = (low + high) / 2
        low, high = (middle, high) if f(middle) < 0 else (low, middle)
    return (low + high) / 2


def solve_logits(shape: StudyShape) -> tuple[float, float, float]:
    """(mu, kappa, shift) of the module's model for ``shape``."""

    within = math.hypot(shape.item_logit_sd, shape.interaction_logit_sd)

    def mu_for(kappa: float) -> float:
        total = math.hypot(within, kappa)
        return _root(lambda mu: _mean_sigmoid(mu, total)[0] - shape.accuracy, -60, 60)

    def difference_sd(kappa: float) -> float:
        mu = mu_for(kappa)
        x, w = _normal_nodes()
        per_seed = _mean_sigmoid(mu + kappa * x, within)  # expected accuracy at a seed's draw
        variance = w @ (per_seed - w @ per_seed) ** 2
        return math.sqrt(2 * variance)  # a's and b's draws are independent

    if shape.seed_sd == 0:
        kappa = 0.0
    else:
        if difference_sd(30.0) < shape.seed_sd:
            raise ValueError(f"a seed SD of {shape.seed_sd} is out of reach at accuracy {shape.accuracy}")
        kappa = _root(lambda k: difference_sd(k) - shape.seed_sd, 0.0, 30.0)
    mu = mu_for(kappa)
    total = math.hypot(within, kappa)
    target = shape.accuracy + shape.true_diff
    if not 0 < target < 1:
        raise ValueError(f"accuracy {shape.accuracy} + difference {shape.true_diff} is not a share")
    shift = 0.0
    if shape.true_diff:
        shift = _root(lambda s: _mean_sigmoid(mu + s, total)[0] - target, -60, 60)
    return mu, kappa, shift


def simulate_differences(shape: StudyShape, seeds: int, studies: int, rng):
    """``studies`` draws of the seeds x items matrix of a - b (int8, -1/0/1) under ``shape``."""
    import numpy as np

    mu, kappa, shift = solve_logits(shape)
    n = shape.items
    item = mu + shape.item_logit_sd * rng.standard_normal((studies, 1, n))

    def answers(extra_shift: float):
        own = shape.interaction_logit_sd * rng.standard_normal((studies, 1, n))
        draw = kappa * rng.standard_normal((studies, seeds, 1))
        p = 1 / (1 + np.exp(-(item + own + draw + extra_shift)))
        return rng.random((studies, seeds, n)) < p

    return answers(shift).astype(np.int8) - answers(0.0).astype(np.int8)


def t_decisions(diffs, confidence: float = 0.95):
    """Per study: +1 if the per-seed t interval (``verdicts.per_seed_t_interval``, the item luck where
    the seeds tie) lies above 0, -1 below, 0 otherwise; vectorised over the studies (``diffs``:
    studies x seeds x items)."""
    import numpy as np

    per_seed = diffs.mean(axis=2)
    seeds, items = diffs.shape[1:]
    mean = per_seed.mean(axis=1)
    interaction = diffs - per_seed[:, :, None] - diffs.mean(axis=1, keepdims=True) + mean[:, None, None]
    item_luck = np.sqrt((interaction**2).sum(axis=(1, 2)) / ((seeds - 1) * (items - 1)) / items)
    sd = per_seed.std(axis=1, ddof=1)
    sd = np.where(sd > 1e-12, sd, item_luck)
    half = t_quantile(0.5 + confidence / 2, seeds - 1) * sd / math.sqrt(seeds)
    return np.where(mean - half > 0, 1, np.where(mean + half < 0, -1, 0))


def bootstrap_intervals(diffs, confidence: float = 0.95, resamples: int = 2000, rng_seed: int = 0, chunk: int = 1000):
    """Per study (``diffs``: studies x seeds x items): the interval of the project's two-level
    percentile bootstrap (``statistics.seed_item_bootstrap`` with the same RNG seed and draws, so its
    first ``resamples`` resamples), vectorised: a resample's mean is seed counts x scores x item counts."""
    import numpy as np

    studies, seeds, items = diffs.shape
    rng = np.random.default_rng(rng_seed)
    seed_counts, item_counts = [], []
    for start in range(0, resamples, chunk):
        b = min(chunk, resamples - start)
        drawn_seeds = rng.integers(0, seeds, size=(b, seeds))
        drawn_items = rng.integers(0, items, size=(b, items))
        seed_counts.append(np.stack([np.bincount(r, minlength=seeds) for r in drawn_seeds]))
        item_counts.append(np.stack([np.bincount(r, minlength=items) for r in drawn_items]))
    # Counts and scores are small integers, exact in float32; so is every resample's sum.
    seed_counts = np.concatenate(seed_counts).astype(np.float32)  # resamples x seeds
    item_counts = np.concatenate(item_counts).astype(np.float32)  # resamples x items
    by_item = diffs.reshape(studies * seeds, items).astype(np.float32) @ item_counts.T
    sums = np.einsum("ksb,bs->kb", by_item.reshape(studies, seeds, resamples), seed_counts)
    alpha = 1 - confidence
    low, high = np.quantile(sums.astype(float) / (seeds * items), [alpha / 2, 1 - alpha / 2], axis=1)
    return low, high


def bootstrap_decisions(diffs, confidence: float = 0.95, resamples: int = 2000, rng_seed: int = 0):
    """Per study: +1 if the bootstrap interval (``bootstrap_intervals``) lies above 0, -1 below, 0 otherwise."""
    import numpy as np

    low, high = bootstrap_intervals(diffs, confidence, resamples, rng_seed)
    return np.where(low > 0, 1, np.where(high < 0, -1, 0))
