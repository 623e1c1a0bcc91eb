"""The variance study's arithmetic: how much a run's held-out accuracy moves with the training
draw, and what one replicate costs (bench/variance_study.py runs the workflow and calls these).

A run's accuracy at a training seed carries that seed's draw of training and its draw of item
luck (which items happen to come out right). ``run_spread`` separates the two as
``guiding plan-seeds`` does for a difference: the item-by-seed interaction gives the item luck, and
what is left of the seed SD is the seed component. ``draw_components`` splits the training draw
itself, from a nested design: each stage-1 seed trained on with several stage-2 seeds
(``replicates.stage2_seed_offset``), so that the spread between stage-1 seeds and the spread of
stage-2 draws from one stage 1 are measured apart.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from ..core.verdicts import item_luck_sd, seed_component_sd
from .scores import correctness_matrix


@dataclass(frozen=True)
class RunSpread:
    """One run's held-out accuracy over training seeds, in points."""

    seeds: tuple[int, ...]
    """The training seeds, in the order of ``per_seed``."""
    per_seed: tuple[float, ...]
    """Accuracy at each seed."""
    mean: float
    """Mean accuracy over the seeds."""
    seed_sd: float
    """SD of the per-seed accuracies (ddof 1): the training draw and the item luck together."""
    item_luck_sd: float
    """The part of ``seed_sd`` that item luck alone gives (the item-by-seed interaction)."""
    seed_component_sd: float
    """What is left of ``seed_sd`` with the item luck taken out (>= 0): the training draw's own spread."""


def run_spread(scores: dict[int, dict[str, float]]) -> RunSpread:
    """The spread of one run from ``{training seed: {item: score in [0, 1]}}`` (2+ seeds, same items)."""
    seeds = sorted(scores)
    if len(seeds) < 2:
        raise ValueError(f"a spread needs at least 2 training seeds, got {seeds}")
    matrix = correctness_matrix(scores, seeds)
    per_seed = matrix.mean(axis=1)
    return RunSpread(
        seeds=tuple(seeds),
        per_seed=tuple(100 * float(v) for v in per_seed),
        mean=100 * float(per_seed.mean()),
        seed_sd=100 * float(per_seed.std(ddof=1)),
        item_luck_sd=100 * item_luck_sd(matrix),
        seed_component_sd=100 * seed_component_sd(matrix),
    )


@dataclass(frozen=True)
class DrawComponents:
    """The training draw of one run split into its stage-1 and stage-2 parts, in points."""

    stage1_seeds: int
    """Stage-1 seeds crossed."""
    stage2_draws: int
    """Stage-2 seeds trained from each stage 1."""
    stage1_sd: float
    """SD that the stage-1 draw adds (between stage-1 seeds, the stage-2 draws' share taken out; >= 0)."""
    stage2_sd: float
    """SD of accuracy between stage-2 draws from one stage 1 (pooled; item luck included)."""


def draw_components(accuracy: dict[int, list[float]]) -> DrawComponents:
    """Balanced one-way nested analysis of ``{stage-1 seed: [accuracy of each stage-2 draw]}``: the
    within-stage-1 mean square estimates the stage-2 draw's variance; the variance of the stage-1
    means, less that over the draws per stage 1, the stage-1 draw's."""
    import numpy as np

    draws = {len(v) for v in accuracy.values()}
    if len(accuracy) < 2 or len(draws) != 1 or draws.pop() < 2:
        raise ValueError("the nested analysis needs 2+ stage-1 seeds, each with the same number (2+) of stage-2 draws")
    table = np.array([accuracy[s] for s in sorted(accuracy)], dtype=float)
    stage1, per = table.shape
    within = float(((table - table.mean(axis=1, keepdims=True)) ** 2).sum() / (stage1 * (per - 1)))
    between_means = float(table.mean(axis=1).var(ddof=1))
    return DrawComponents(
        stage1_seeds=stage1,
        stage2_draws=per,
        stage1_sd=math.sqrt(max(0.0, between_means - within / per)),
        stage2_sd=math.sqrt(within),
    )


# Snakemake's benchmark files: one row per job, wall seconds in "s", CPU seconds in "cpu_time".
def job_cost(tsv: str | Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one job from its ``benchmark:`` file."""
    with open(tsv, newline="") as handle:
        row = next(csv.DictReader(handle, delimiter="\t"))
    return float(row["s"]), float(row["cpu_time"])
