"""Answer equivalence: exact for plain numbers, math-verify for everything else.

math-verify times out with signals, so call it from a process's main thread (use processes,
not threads, to parallelise grading).
"""

from __future__ import annotations

import re

from .world import extract_boxed

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def answers_match(gold: str, predicted: str | None) -> bool:
    if predicted is None:
        return False
    gold, predicted = gold.strip(), predicted.strip()
    if _NUMBER.match(gold) and _NUMBER.match(predicted):
        return float(gold) == float(predicted)
    from math_verify import parse, verify  # imported lazily: it pulls in sympy and antlr

    # Gold first (math-verify is not symmetric); LaTeX needs $...$ or \boxed{} to be parsed as such.
    return bool(verify(parse(f"${gold}$"), parse(f"${predicted}$")))


def grade_solution(gold: str, solution: str) -> dict:
    predicted = extract_boxed(solution)
    return {"predicted": predicted, "correct": answers_match(gold, predicted)}
