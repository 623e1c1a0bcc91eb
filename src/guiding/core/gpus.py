"""The GPU preflight of every GPU job: fail in the first second, not after loading an 8B model.

A job declares its GPUs as the rule's ``gpu`` resource (SLURM's executor turns it into
``--gpus=N``; locally, profiles/default caps how many are in use at once). The preflight
compares that number with the GPUs the job can see and stops, naming both, when it sees
fewer: a job on a node without the GPUs it asked for would otherwise fall back to the CPU, or
train with a smaller global batch than its recipe assumes.
"""

from __future__ import annotations

import os


class GPUPreflightError(RuntimeError):
    pass


def visible_gpus() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def preflight(requested: int, job: str = "this job") -> int:
    """Check that ``job`` sees at least ``requested`` GPUs; returns the count it sees.

    ``requested`` 0 is a CPU job: nothing to check.
    """
    if requested < 0:
        raise GPUPreflightError(f"{job}: a negative GPU count ({requested}) was requested")
    if requested == 0:
        return visible_gpus()
    seen = visible_gpus()
    if seen < requested:
        devices = os.environ.get("CUDA_VISIBLE_DEVICES")
        where = f"CUDA_VISIBLE_DEVICES={devices!r}" if devices is not None else "CUDA_VISIBLE_DEVICES unset"
        raise GPUPreflightError(
            f"{job} asked for {requested} GPU(s) (the rule's `gpu` resource) but sees {seen} ({where}); "
            "check the node's GPUs, the profile's `gpu` settings and the scheduler's allocation"
        )
    return seen
