"""The generated data: disjoint splits of tasks drawn from the synthetic world."""

from __future__ import annotations

import random

from ..artifacts import OPERATIONS, SPLITS
from .program import MAX_VALUE, Program, make_task, random_program


def generate_splits(
    seed: int,
    sizes: dict[str, int],
    easy_steps: list[int],
    hard_steps: list[int],
    shuffle: bool = True,
    max_value: int = MAX_VALUE,
    distractor_steps: tuple[int, int] = (0, 0),
    easy_ops: tuple[str, ...] = OPERATIONS,
    distractor_ops: tuple[str, ...] | None = None,
) -> dict[str, list[dict]]:
    """Disjoint task sets: easy tasks (stage 1), hard tasks (supervision pool) and held-out evaluation.

    ``easy_steps``/``hard_steps`` are inclusive [min, max] step counts. No program appears twice,
    across splits or within one, so evaluation never sees a training task (short chains can
    share their arithmetic with a training task under other variable names: the skill tested
    is reading the chain and computing, not recall).

    Easy tasks state only the operations ``easy_ops``; hard tasks may state every operation, and
    when ``easy_ops`` leaves some out, each hard task's chain uses at least one of those: stage 1
    then lacks a skill that every hard task needs, and the subtasks cut from a hard task carry it,
    so clean subtask supervision can teach what stage 1 did not. ``distractor_ops`` (default: the
    chain's own operations) are those a distractor chain may state; they are never computed.
    """
    easy_ops = tuple(op for op in OPERATIONS if op in easy_ops)
    new_ops = set(OPERATIONS) - set(easy_ops)
    rng = random.Random(f"{seed}:world")
    seen: set[Program] = set()
    out = {}
    for split in SPLITS:
        easy = split.endswith("easy")
        lo, hi = easy_steps if easy else hard_steps
        ops = easy_ops if easy else OPERATIONS
        tasks = []
        attempts = 0
        while len(tasks) < sizes[split]:
            attempts += 1
            if attempts > 50 * sizes[split] + 1000:
                raise ValueError(f"cannot draw {sizes[split]} distinct {split} tasks with {lo}-{hi} steps")
            n_steps, n_distractors = rng.randint(lo, hi), rng.randint(*distractor_steps)  # in this order
            program = random_program(rng, n_steps, max_value, n_distractors, ops, distractor_ops)
            if not easy and new_ops and not new_ops & {s.op for s in program.steps}:
                continue  # a hard task that stage 1's operations alone would solve
            if program in seen:  # programs are equal when names, values and steps all are
                continue
            seen.add(program)
            kind = "easy" if easy else "hard"
            tasks.append(make_task(f"{split}-{len(tasks):05d}", program, rng, kind, shuffle=shuffle))
        out[split] = tasks
    return out
