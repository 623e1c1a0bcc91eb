"""Entry point of each process that ``accelerate launch`` starts for a training job.

    accelerate launch --config_file config/accelerate/ddp.yaml --num_processes N -m guiding.student.launch JOB.json

JOB.json is written by ``training.train_sft`` (the rows, the recipe, where to resume from).
"""

from __future__ import annotations

import json
import sys

from ..core.io import read_jsonl
from .training import train_rows


def main(argv: list[str]) -> None:
    (spec,) = argv
    with open(spec) as f:
        job = json.load(f)
    train_rows(**{**job, "rows": read_jsonl(job["rows"])})


if __name__ == "__main__":
    main(sys.argv[1:])
