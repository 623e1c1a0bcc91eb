"""The generated data: disjoint splits of tasks drawn from the synthetic world."""

from __future__ import annotations

import random

from ..artifacts import SPLITS
from .program import MAX_VALUE, Program, make_task, random_program


def generate_splits(
    seed: int,
    sizes: dict[str, int],
    easy_steps: list[int],
    hard_steps: list[int],
    shuffle: bool = True,
    max_value: int = MAX_VALUE,
    distractor_steps: tuple[int, int] = (0, 0),
) -> dict[str, list[dict]]:
    """Disjoint task sets: easy tasks (stage 1), hard tasks (supervision pool) and held-out evaluation.

    ``easy_steps``/``hard_steps`` are inclusive [min, max] step counts. No program appears twice,
    across splits or within one, so evaluation never sees a training task (short chains can
    share their arithmetic with a training task under other variable names: the skill tested
    is reading the chain and computing, not recall).
    """
    rng = random.Random(f"{seed}:world")
    seen: set[Program] = set()
    out = {}
    for split in SPLITS:
        lo, hi = easy_steps if split.endswith("easy") else hard_steps
        tasks = []
        attempts = 0
        while len(tasks) < sizes[split]:
            attempts += 1
            if attempts > 50 * sizes[split] + 1000:
                raise ValueError(f"cannot draw {sizes[split]} distinct {split} tasks with {lo}-{hi} steps")
            program = random_program(rng, rng.randint(lo, hi), max_value, rng.randint(*distractor_steps))
            if program in seen:  # programs are equal when names, values and steps all are
                continue
            seen.add(program)
            kind = "easy" if split.endswith("easy") else "hard"
            tasks.append(make_task(f"{split}-{len(tasks):05d}", program, rng, kind, shuffle=shuffle))
        out[split] = tasks
    return out
