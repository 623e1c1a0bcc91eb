"""What the supervision stage needs from a mode: a paraphraser."""

from __future__ import annotations

from typing import Protocol


class Paraphraser(Protocol):
    def paraphrase(self, item: dict) -> dict:
        """New wording of a set item's ``problem`` and ``solution`` (same math, same answer):
        a dict with those two keys."""
        ...


def paraphrase_all(paraphraser: Paraphraser, items: list[dict]) -> list[dict | None]:
    """Each item's new wording in order (None where it failed): the paraphraser's own batch
    (``paraphrase_all``, e.g. concurrent LLM requests) when it has one, else one item at a time."""
    batch = getattr(paraphraser, "paraphrase_all", None)
    if batch is not None:
        return batch(items)
    return [paraphraser.paraphrase(item) for item in items]
