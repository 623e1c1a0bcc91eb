"""Send a script's logging, warnings and progress bars to its rule's log file."""

from __future__ import annotations

import logging
import sys


def log_to_file(path: str) -> None:
    stream = open(path, "w", buffering=1, encoding="utf-8")  # line-buffered: progress is visible while it runs
    sys.stderr = sys.stdout = stream
    logging.basicConfig(
        stream=stream, level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    logging.captureWarnings(True)
