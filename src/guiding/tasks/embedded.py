"""The task stage in the synthetic world: generated tasks, exact decomposition and filters.

A subtask is a contiguous run of the hard task's chain. Its start value is the hard task's own
reference intermediate, so it holds no information that the hard task lacks, and it has fewer
steps than the hard task, so the hard task stays strictly more complex (the paper's two
conditions). The filters are the paper's three checks, done exactly instead of by an LLM.
"""

from __future__ import annotations

import random
import re

from ..artifacts import OPERATIONS
from ..world.generate import generate_splits
from ..world.program import Program, make_task


class WorldTaskSource:
    """Tasks drawn from the synthetic world, as configured by the ``world`` config section."""

    def __init__(
        self,
        seed: int,
        sizes: dict[str, int],
        easy_steps: list[int],
        hard_steps: list[int],
        shuffle_definitions: bool,
        max_value: int,
        distractor_steps: list[int],
        easy_ops: list[str] = OPERATIONS,
        distractor_ops: list[str] | None = None,
    ):
        self.settings = dict(
            seed=seed,
            sizes=sizes,
            easy_steps=easy_steps,
            hard_steps=hard_steps,
            shuffle=shuffle_definitions,
            max_value=max_value,
            distractor_steps=tuple(distractor_steps),
            easy_ops=tuple(easy_ops),
            distractor_ops=tuple(distractor_ops) if distractor_ops else None,
        )

    def splits(self) -> dict[str, list[dict]]:
        return generate_splits(**self.settings)


class ChainDecomposer:
    """Splits a hard task's chain into 2 parts (up to ``two_parts_up_to`` steps) or 3."""

    def __init__(self, two_parts_up_to: int, seed: int, shuffle: bool):
        self.two_parts_up_to, self.seed, self.shuffle = two_parts_up_to, seed, shuffle

    def parts(self, n_steps: int) -> int:
        """Number of subtasks, picked by the task's length as the paper picks it by solution length."""
        return 2 if n_steps <= self.two_parts_up_to else 3

    def decompose(self, task: dict) -> list[dict]:
        rng = random.Random(f"{self.seed}:decompose:{task['id']}")
        return decompose(task, self.parts(task["n_steps"]), rng, self.shuffle)


class ExactSubtaskFilter:
    """The paper's three LLM checks, done exactly, plus a check that no information was added."""

    def __init__(self, min_steps: int, max_fraction: float):
        self.min_steps, self.max_fraction = min_steps, max_fraction

    def problems(self, subtask: dict, parent: dict) -> list[str]:
        return subtask_problems(subtask, parent, self.min_steps, self.max_fraction)


def split_sizes(n_steps: int, n_parts: int, rng: random.Random, min_steps: int = 2) -> list[int]:
    """Sizes of ``n_parts`` contiguous chunks covering ``n_steps``, each at least ``min_steps``.

    A chain too short for that gets parts as even as possible instead (a 3-step chain splits 1+2),
    as a decomposer asked for 2 subtasks of a short solution would write them; the subtask filter
    then drops the parts with too few steps.
    """
    if n_parts > n_steps:
        raise ValueError(f"cannot split {n_steps} steps into {n_parts} non-empty parts")
    min_steps = min(min_steps, n_steps // n_parts)
    sizes = [min_steps] * n_parts
    for _ in range(n_steps - n_parts * min_steps):
        sizes[rng.randrange(n_parts)] += 1
    return sizes


def decompose(task: dict, n_parts: int, rng: random.Random, shuffle: bool = True) -> list[dict]:
    """Split ``task`` into ``n_parts`` subtasks whose solutions are contiguous parts of its solution.

    ``shuffle`` states each subtask's definitions in shuffled order, as the world states its tasks.
    A subtask keeps the hard task's distractor chain: its statement reads like the world's
    problems, and it adds no information that the hard task lacks.
    """
    program = Program.from_dict(task["program"])
    values = [program.start_value, *program.values()]
    subtasks, begin = [], 0
    for j, size in enumerate(split_sizes(len(program.steps), n_parts, rng)):
        steps = program.steps[begin : begin + size]
        sub = Program(steps[0].source, values[begin], steps, program.distractor_start, program.distractor_steps)
        subtasks.append(make_task(f"{task['id']}-s{j}", sub, rng, "subtask", shuffle=shuffle, parent_id=task["id"]))
        begin += size
    return subtasks


_DEFINED = re.compile(r"Let ([a-z]) = ")
_USED = re.compile(r"Let [a-z] = ([a-z]) ")


def ill_defined(problem: str) -> bool:
    """The problem uses a variable that its own statement never defines."""
    return not set(_USED.findall(problem)) <= set(_DEFINED.findall(problem))


def near_duplicate(n_steps: int, parent_steps: int, max_fraction: float) -> bool:
    """A subtask covering ``max_fraction`` of its hard task's steps or more asks for nearly the same work."""
    return n_steps >= max_fraction * parent_steps


def subtask_problems(subtask: dict, parent: dict, min_steps: int, max_fraction: float) -> list[str]:
    """Reasons to drop ``subtask``; an empty list means it passes every filter."""
    reasons = []
    if ill_defined(subtask["problem"]):
        reasons.append("ill_defined")  # uses a variable its own statement never defines
    if subtask["n_steps"] < min_steps:
        reasons.append("too_few_steps")
    if near_duplicate(subtask["n_steps"], parent["n_steps"], max_fraction):
        reasons.append("near_duplicate")
    # No new information: the start value must be the parent's own intermediate result.
    sub, full = Program.from_dict(subtask["program"]), Program.from_dict(parent["program"])
    known = {full.start_var: full.start_value}
    known.update({s.target: v for s, v in zip(full.steps, full.values())})
    foreign_distractors = sub.distractor_start not in (None, full.distractor_start) or not (
        set(sub.distractor_steps) <= set(full.distractor_steps)
    )
    if known.get(sub.start_var) != sub.start_value or not set(sub.steps) <= set(full.steps) or foreign_distractors:
        reasons.append("adds_information")
    return reasons
