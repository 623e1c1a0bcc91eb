"""What the student stage needs from a mode: a base model to fine-tune.

The base is saved with ``save_pretrained`` (tokenizer with a chat template, model), so that
training and evaluation load it exactly as they would load a hub model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class StudentBase(Protocol):
    def build(self, texts: list[str], out_dir: str | Path) -> dict:
        """Write the base model to ``out_dir``; ``texts`` is the corpus the student will read and
        write (a from-scratch tokenizer learns from it). Returns facts for the log."""
        ...
