"""The synthetic world: multi-step arithmetic problems whose every step is known exactly.

A problem is a *program*: a start variable with a value, then a chain of steps, each
defining a new variable from the previous one (``c = b + 4``). The number of steps is the
difficulty. Problems may state the definitions in shuffled order and add a distractor chain,
so that solving one means finding the chain; solutions walk the chain one line per step and
box the answer.
"""

from __future__ import annotations

import random
import re
from dataclasses import asdict, dataclass

from ..artifacts import OPERATIONS

# Letters that read unambiguously in text ("l" and "o" look like digits).
VARIABLES = "abcdefghjkmnpqrstuvwxyz"
MAX_VALUE = 20  # default bound: every intermediate value stays in 0..max_value
OPERAND_RANGE = (2, 5)


@dataclass(frozen=True)
class Step:
    target: str
    source: str
    op: str  # one of "+", "-", "*"
    operand: int


@dataclass(frozen=True)
class Program:
    start_var: str
    start_value: int
    steps: tuple[Step, ...]
    # A distractor chain: its own start and steps, never on the path to the answer. It makes
    # prompts vary in length and content, so a solver must look definitions up by name.
    distractor_start: tuple[str, int] | None = None
    distractor_steps: tuple[Step, ...] = ()

    @property
    def ask(self) -> str:
        return self.steps[-1].target

    def values(self) -> list[int]:
        """Value after each step (the reference solution's intermediate results)."""
        value, out = self.start_value, []
        for step in self.steps:
            value = apply_op(step.op, value, step.operand)
            out.append(value)
        return out

    @property
    def answer(self) -> int:
        return self.values()[-1]

    def to_dict(self) -> dict:
        return {
            "start_var": self.start_var,
            "start_value": self.start_value,
            "steps": [asdict(s) for s in self.steps],
            "distractor_start": list(self.distractor_start) if self.distractor_start else None,
            "distractor_steps": [asdict(s) for s in self.distractor_steps],
        }

    @classmethod
    def from_dict(cls, d: dict) -> Program:
        start = d.get("distractor_start")
        return cls(
            d["start_var"],
            int(d["start_value"]),
            tuple(Step(**s) for s in d["steps"]),
            (start[0], int(start[1])) if start else None,
            tuple(Step(**s) for s in d.get("distractor_steps", ())),
        )


def apply_op(op: str, a: int, b: int) -> int:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    raise ValueError(f"unknown operation {op!r}")


def _allowed_ops(value: int, operand: int, max_value: int, ops: tuple[str, ...] = OPERATIONS) -> list[str]:
    """The operations of ``ops`` that keep ``value op operand`` within 0..max_value (in OPERATIONS order)."""
    allowed = []
    if "+" in ops and value + operand <= max_value:
        allowed.append("+")
    if "-" in ops and value - operand >= 0:
        allowed.append("-")
    if "*" in ops and operand <= 3 and value * operand <= max_value and value > 0:
        allowed.append("*")
    return allowed


class _DeadEnd(Exception):
    """No operation of the allowed ones takes the chain's value any further."""


def _random_chain(
    rng: random.Random, names: list[str], value: int, max_value: int, ops: tuple[str, ...] = OPERATIONS
) -> list[Step]:
    steps = []
    operands = range(OPERAND_RANGE[0], OPERAND_RANGE[1] + 1)
    for source, target in zip(names, names[1:]):
        # With + and - one always fits; fewer operations can leave no way on (e.g. + alone at max_value).
        if not any(_allowed_ops(value, operand, max_value, ops) for operand in operands):
            raise _DeadEnd
        while True:
            operand = rng.randint(*OPERAND_RANGE)
            allowed = _allowed_ops(value, operand, max_value, ops)
            if allowed:
                break
        op = rng.choice(allowed)
        steps.append(Step(target, source, op, operand))
        value = apply_op(op, value, operand)
    return steps


def random_program(
    rng: random.Random,
    n_steps: int,
    max_value: int = MAX_VALUE,
    distractors: int = 0,
    ops: tuple[str, ...] = OPERATIONS,
    distractor_ops: tuple[str, ...] | None = None,
) -> Program:
    """A chain of ``n_steps`` using only the operations ``ops`` plus a distractor chain of
    ``distractors`` steps (none if 0) using ``distractor_ops`` (default ``ops``); a chain that runs
    into a dead end is drawn again."""
    for _ in range(1000):
        names = rng.sample(VARIABLES, n_steps + 1 + (distractors + 1 if distractors else 0))
        start_value = rng.randint(0, max_value)
        try:
            steps = _random_chain(rng, names[: n_steps + 1], start_value, max_value, ops)
            if not distractors:
                return Program(names[0], start_value, tuple(steps))
            noise_names = names[n_steps + 1 :]
            noise_value = rng.randint(0, max_value)
            noise = _random_chain(rng, noise_names, noise_value, max_value, distractor_ops or ops)
        except _DeadEnd:
            continue
        return Program(names[0], start_value, tuple(steps), (noise_names[0], noise_value), tuple(noise))
    raise ValueError(f"no chain of {n_steps} steps with operations {ops} stays within 0..{max_value}")


def operations(program: Program) -> set[str]:
    """The operations a program's problem states (its chain's and its distractors')."""
    return {s.op for s in (*program.steps, *program.distractor_steps)}


# ---------------------------------------------------------------- rendering


def render_problem(program: Program, order: list[int] | None = None) -> str:
    """Problem text: the start first, then every other definition in ``order`` (the shuffle is
    part of the task); definitions are numbered chain steps first, then the distractors."""

    def define(s: Step) -> str:
        return f"Let {s.target} = {s.source} {s.op} {s.operand}."

    defs = [define(s) for s in program.steps]
    if program.distractor_start:
        var, value = program.distractor_start
        defs += [f"Let {var} = {value}.", *(define(s) for s in program.distractor_steps)]
    order = list(range(len(defs))) if order is None else order
    parts = [f"Let {program.start_var} = {program.start_value}.", *(defs[i] for i in order)]
    parts.append(f"Find {program.ask}.")
    return " ".join(parts)


def render_step(index: int, step: Step, source_value: int, result: int, op: str | None = None) -> str:
    """Solution line ``index`` (from 1); ``op`` overrides the operation actually applied (a misread).

    The "Step i:" label keeps every variable preceded by a space, so a variable is the same
    token in the problem and in the solution (a tiny student learns to copy much faster).
    """
    op = step.op if op is None else op
    definition = f"{step.target} = {step.source} {op} {step.operand}"
    return f"Step {index}: {definition} = {source_value} {op} {step.operand} = {result}"


def render_answer(answer: int | str) -> str:
    return f"The answer is \\boxed{{{answer}}}."


def reference_solution(program: Program) -> str:
    lines, prev = [], program.start_value
    for i, (step, value) in enumerate(zip(program.steps, program.values()), start=1):
        lines.append(render_step(i, step, prev, value))
        prev = value
    lines.append(render_answer(program.answer))
    return "\n".join(lines)


def make_task(task_id: str, program: Program, rng: random.Random, kind: str, shuffle: bool = True, **extra) -> dict:
    n_defs = len(program.steps) + (1 + len(program.distractor_steps) if program.distractor_start else 0)
    order = list(range(n_defs))
    if shuffle:
        rng.shuffle(order)
    return {
        "id": task_id,
        "kind": kind,
        "n_steps": len(program.steps),
        "problem": render_problem(program, order),
        "solution": reference_solution(program),
        "answer": str(program.answer),
        "program": program.to_dict(),
        **extra,
    }


# ---------------------------------------------------------------- reading

_CONSTANT = re.compile(r"(?:Let|Set|Define|We have) ([a-z]) = (-?\d+)[.?]")
_DERIVED = re.compile(r"(?:Let|Set|Define|We have) ([a-z]) = ([a-z]) ([-+*]) (\d+)[.?]")
_ASK = re.compile(r"(?:Find|What is|Compute|Determine the value of) ([a-z])[.?]")


def read_problem(text: str) -> Program | None:
    """The program that a problem states (the inverse of ``render_problem``, paraphrases too), or
    None when the text is no well-defined problem: no question, a variable used but never defined,
    a definition given twice, or a cycle."""
    constants = {v: int(n) for v, n in _CONSTANT.findall(text)}
    derived: dict[str, Step] = {}
    for target, source, op, operand in _DERIVED.findall(text):
        if target in derived or target in constants:
            return None
        derived[target] = Step(target, source, op, int(operand))
    asks = _ASK.findall(text)
    if len(asks) != 1 or len(constants) != len(_CONSTANT.findall(text)):
        return None

    def chain_to(var: str) -> tuple[str, list[Step]] | None:
        steps: list[Step] = []
        while var in derived:
            steps.append(derived[var])
            var = derived[var].source
            if len(steps) > len(derived):
                return None  # a cycle
        return (var, steps[::-1]) if var in constants else None

    main = chain_to(asks[0])
    if main is None or not main[1]:
        return None
    start, steps = main
    rest = {v: s for v, s in derived.items() if s not in steps}
    others = [v for v in constants if v != start]
    if not others:
        return Program(start, constants[start], tuple(steps)) if not rest else None
    if len(others) > 1:
        return None
    noise_start, noise = others[0], []
    var = noise_start
    while True:  # the distractor chain, from its start forward
        nxt = [s for s in rest.values() if s.source == var]
        if len(nxt) != 1:
            break
        noise.append(nxt[0])
        var = nxt[0].target
    if len(noise) != len(rest):
        return None
    return Program(start, constants[start], tuple(steps), (noise_start, constants[noise_start]), tuple(noise))


def solution_steps(solution: str) -> list[str]:
    """The written steps of a solution: its non-empty lines before the boxed answer."""
    lines = [ln.strip() for ln in solution.strip().splitlines() if ln.strip()]
    return [ln for ln in lines if not _ANSWER_LINE.search(ln)]


# ---------------------------------------------------------------- checking

_STEP_LINE = re.compile(
    r"^Step (?P<index>\d+): (?P<target>[a-z]) = (?P<source>[a-z]) (?P<op>[-+*]) (?P<operand>\d+) = "
    r"(?P<a>-?\d+) (?P<op2>[-+*]) (?P<b>\d+) = (?P<result>-?\d+)$"
)
_ANSWER_LINE = re.compile(r"\\boxed\{([^{}]*)\}")  # the reference format's last line


def check_steps(program: Program, solution: str) -> list[bool]:
    """Judge each written step of ``solution`` exactly; one verdict per line before the answer.

    A step is correct when it defines the next variable of the chain with the operation and
    operand the problem states, starts from the value the solution itself derived for its
    source (so a slip is counted once, where it happens, not again in every later step that
    carries it), and its arithmetic is right. Missing steps count as wrong.
    """
    step_lines = solution_steps(solution)
    verdicts = []
    carried = program.start_value
    truth = program.values()
    for i, step in enumerate(program.steps):
        if i >= len(step_lines):
            verdicts.append(False)
            continue
        m = _STEP_LINE.match(step_lines[i])
        if not m:
            verdicts.append(False)
            carried = truth[i]  # an unreadable step produced no value: judge the next from the true one
            continue
        a, b, result = int(m["a"]), int(m["b"]), int(m["result"])
        ok = (
            int(m["index"]) == i + 1
            and m["target"] == step.target
            and m["source"] == step.source
            and m["op"] == m["op2"] == step.op
            and int(m["operand"]) == b == step.operand
            and a == carried
            and result == apply_op(step.op, a, b)
        )
        verdicts.append(ok)
        carried = result
    # Extra lines beyond the chain are wrong steps too.
    verdicts.extend(False for _ in step_lines[len(program.steps) :])
    return verdicts


# What a step can get wrong, in the order ``first_error`` checks it.
RIGHT, MISSING, UNREADABLE, OPERATION, OPERAND, CARRY, ARITHMETIC, EXTRA = (
    "right",
    "missing step",
    "unreadable",
    "operation copied wrong",
    "operand copied wrong",
    "value carried wrong",
    "arithmetic",
    "extra lines",
)


def first_error(program: Program, solution: str) -> tuple[str, str | None]:
    """The first thing ``solution`` gets wrong, as (kind, the step's true operation), or (RIGHT, None).

    Variable names are not checked: they never reach the answer, and a student may get every
    name wrong and every answer right. The operation is given so that errors on the operation
    stage 1 never saw can be told from the others."""
    step_lines = solution_steps(solution)
    carried = program.start_value
    for i, step in enumerate(program.steps):
        if i >= len(step_lines):
            return MISSING, step.op
        m = _STEP_LINE.match(step_lines[i])
        if not m:
            return UNREADABLE, step.op
        a, b, result = int(m["a"]), int(m["b"]), int(m["result"])
        if not m["op"] == m["op2"] == step.op:
            return OPERATION, step.op
        if not int(m["operand"]) == b == step.operand:
            return OPERAND, step.op
        if a != carried:
            return CARRY, step.op
        if result != apply_op(step.op, a, b):
            return ARITHMETIC, step.op
        carried = result
    return (EXTRA, None) if len(step_lines) > len(program.steps) else (RIGHT, None)
