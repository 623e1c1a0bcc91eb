"""What the supervision stage needs from a mode: a paraphraser."""

from __future__ import annotations

from typing import Protocol


class Paraphraser(Protocol):
    def paraphrase(self, item: dict) -> dict:
        """New wording of a set item's ``problem`` and ``solution`` (same math, same answer):
        a dict with those two keys."""
        ...
