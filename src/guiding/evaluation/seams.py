"""What the evaluation stage needs from a mode: a generator that answers problems with a model."""

from __future__ import annotations

from typing import Protocol


class Generator(Protocol):
    def generate(self, model_path: str, problems: list[str]) -> list[str]:
        """One completion per problem, in order, from the model saved at ``model_path``."""
        ...
