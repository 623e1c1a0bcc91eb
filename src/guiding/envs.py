"""Which conda environment (``envs/*.yaml``) a rule's jobs run in under ``--use-conda``.

Each rule names an env of its group (``data``, ``training``, ``evaluation``, ``report``). The rules
whose jobs may run on GPUs (training and generation) take a GPU env instead where their job asks
for GPUs: ``gpu-training`` (the CUDA build of torch, DeepSpeed) and ``gpu-generation`` (vLLM,
which pins its own torch and transformers and so cannot share an env with the training stack).
The rule files call :func:`job_env` in their ``conda:`` directive; paths are relative to
``rules/``, as Snakemake resolves them.
"""

from __future__ import annotations

GROUPS = ("data", "training", "evaluation", "report")
"""The env of each group of rules, for jobs on the CPU."""

GPU_ENVS = {"training": "gpu-training", "evaluation": "gpu-generation"}
"""The env that replaces a group's env for a job that asks for GPUs."""


def job_env(group: str, gpus: int = 0) -> str:
    """The env file of a rule of ``group`` whose job asks for ``gpus`` GPUs (relative to ``rules/``)."""
    if group not in GROUPS:
        raise ValueError(f"no env group {group!r} (groups: {', '.join(GROUPS)})")
    name = GPU_ENVS[group] if gpus and group in GPU_ENVS else group
    return f"../envs/{name}.yaml"
