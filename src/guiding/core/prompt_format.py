"""The student's prompt template, shared by training, evaluation and the exported data sets.

Llama-3-8B base has no chat template, and the header and end-of-turn tokens of the instruct
model's template were never trained in the base model. This template uses plain text and the
tokens the base model did learn (its begin- and end-of-text tokens): a problem, then its
solution, then EOS. It is a chat template (Jinja, as transformers renders it), so the student's
tokenizer carries it, and :func:`prompt_and_completion` writes the same text for the exports.
"""

from __future__ import annotations

PROMPT_TEMPLATE = (
    "{% if bos_token %}{{ bos_token }}{% endif %}"
    "{% for message in messages %}"
    "{% if message['role'] == 'user' %}Problem:\n{{ message['content'] }}\n\nSolution:\n"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] }}{{ eos_token }}"
    "{% endif %}{% endfor %}"
)


def prompt_and_completion(problem: str, solution: str) -> tuple[str, str]:
    """The template's text for one problem and its solution, without special tokens (the trainer
    adds its tokenizer's BOS and EOS): the prompt (the problem and the "Solution:" cue) and the
    completion (the solution). A test checks it against the template as transformers renders it."""
    return f"Problem:\n{problem}\n\nSolution:\n", solution
