"""Where the workflow's checkout lies: the directory of the Snakefile, config/ and src/guiding."""

from __future__ import annotations

from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[3]  # src/guiding/core/paths.py -> the checkout
