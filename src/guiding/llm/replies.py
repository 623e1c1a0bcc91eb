"""The answer part of a reply: what every parser reads, with reasoning and cut-off replies kept out.

Reasoning models write their thinking before the answer, either in a field of their own
(``reasoning_content`` / ``reasoning``, as vLLM's reasoning parsers and DeepSeek's API return it)
or inline as a leading ``<think>...</think>`` block. Thinking mentions drafts, labels and numbers
that are not the answer, so no parser ever sees it. A reply cut off at ``max_tokens`` is refused:
its last decision line or final answer may be missing, and a wrong value is worse than none.
"""

from __future__ import annotations

import re

from .parsers import Parsed, failed

# Tags that reasoning models and their chat templates put around their thinking.
_OPEN = re.compile(r"^\s*<(think|thinking|reasoning)>", re.IGNORECASE)
_LENGTH = "length"


def split_reasoning(text: str) -> tuple[str, str]:
    """``(reasoning, answer)``: a leading ``<think>...</think>`` block cut off ``text``.

    An unclosed leading block is all reasoning (the model never reached its answer). Tags later
    in the text are left alone: a model may quote them in its answer.
    """
    opened = _OPEN.match(text)
    if not opened:
        # Some servers strip the opening tag and leave only the closing one.
        head, sep, rest = text.partition("</think>")
        if sep and "<think>" not in head.lower():
            return head.strip(), rest.strip()
        return "", text
    tag = opened.group(1)
    close = re.compile(rf"</{tag}>", re.IGNORECASE).search(text, opened.end())
    if close is None:
        return text[opened.end() :].strip(), ""
    return text[opened.end() : close.start()].strip(), text[close.end() :].strip()


def answer_part(text: str, *, finish_reason: str | None = None, allow_truncated: bool = False) -> Parsed:
    """The text a parser reads, or why there is none (``truncated``, ``reasoning_only``).

    Reasoning returned in a separate field never reaches this function; inline reasoning is cut here.
    """
    if finish_reason == _LENGTH and not allow_truncated:
        return failed("truncated")
    _, answer = split_reasoning(text)
    if not answer.strip():
        return failed("reasoning_only" if text.strip() else "empty")
    return Parsed(answer)
