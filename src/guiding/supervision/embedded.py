"""The paraphraser of the synthetic world: new surface text, the same math.

Each sentence of a problem and each line of a solution is rewritten from a small set of
phrasings; numbers, variables, operations and their order are untouched.
"""

from __future__ import annotations

import random
import re

_DEF = re.compile(r"Let ([a-z]) = ([^.]+)\.")
_FIND = re.compile(r"Find ([a-z])\.")
_ANSWER = re.compile(r"The answer is (\\boxed\{[^{}]*\})\.")

DEFINITION_FORMS = ("Let {v} = {e}.", "Set {v} = {e}.", "Define {v} = {e}.", "We have {v} = {e}.")
QUESTION_FORMS = ("Find {v}.", "What is {v}?", "Compute {v}.", "Determine the value of {v}.")
_STEP_LABEL = re.compile(r"^Step (\d+): ")
STEP_LABELS = ("Step {i}: ", "({i}) ", "{i}) ", "Part {i}: ", "Next, step {i}: ")
ANSWER_FORMS = ("The answer is {b}.", "So the final answer is {b}.", "Therefore the result is {b}.")


def paraphrase_problem(text: str, rng: random.Random) -> str:
    text = _DEF.sub(lambda m: rng.choice(DEFINITION_FORMS).format(v=m[1], e=m[2]), text)
    return _FIND.sub(lambda m: rng.choice(QUESTION_FORMS).format(v=m[1]), text)


def paraphrase_solution(text: str, rng: random.Random) -> str:
    lines = []
    for line in text.splitlines():
        m = _ANSWER.fullmatch(line.strip())
        if m:
            lines.append(rng.choice(ANSWER_FORMS).format(b=m[1]))
        else:
            lines.append(_STEP_LABEL.sub(lambda s: rng.choice(STEP_LABELS).format(i=s[1]), line))
    return "\n".join(lines)


def math_content(text: str) -> list[str]:
    """The sequence of numbers, variables and operators: what a paraphrase must keep."""
    return re.findall(r"\d+|\b[a-z]\b|[-+*=]", text)


class TemplateParaphraser:
    """Rewrites each sentence and line from the phrasings above; ``seed`` fixes the choices per task."""

    def __init__(self, seed: int):
        self.seed = seed

    def paraphrase(self, item: dict) -> dict:
        rng = random.Random(f"{self.seed}:paraphrase:{item['task_id']}")
        problem = paraphrase_problem(item["problem"], rng)  # problem first: the order fixes the draws
        return {"problem": problem, "solution": paraphrase_solution(item["solution"], rng)}
