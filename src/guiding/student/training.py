"""Supervised fine-tuning with TRL's SFTTrainer, shared by both stages and both modes.

Data are prompt/completion conversations, so the loss falls on completions only. The
recipe is a dict of SFTConfig fields (one recipe per stage, as in alignment-handbook); the
model to start from is the rule's input (the stage-1 output for stage 2).
Checkpoints go to a scratch directory outside the rule's declared output, so a rerun of an
interrupted job resumes from the last one instead of starting over.
"""

from __future__ import annotations

import collections
import hashlib
import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path

from ..core.io import write_json, write_jsonl
from ..core.provenance.lineage import note

# Defaults a recipe may override: progress bars in the log, checkpoints for resuming.
SFT_DEFAULTS = {"report_to": "none", "save_strategy": "steps", "disable_tqdm": False}

log = logging.getLogger("guiding")


def to_conversation(item: dict) -> dict:
    return {
        "prompt": [{"role": "user", "content": item["problem"]}],
        "completion": [{"role": "assistant", "content": item["solution"]}],
    }


def _model_identity(model_path: str) -> list:
    """What the starting model is: a local directory by its files' names, sizes and modification
    times (a model rewritten at the same path, say a retrained stage 1, is another model; hashing
    the weights of an 8B model at every start would cost a minute), a hub id by its name."""
    root = Path(model_path)
    if not root.is_dir():
        return [str(model_path)]
    return [
        [str(f.relative_to(root)), f.stat().st_size, f.stat().st_mtime_ns]
        for f in sorted(root.rglob("*"))
        if f.is_file()
    ]


def _fingerprint(model_path: str, rows: list[dict], recipe: dict) -> str:
    """The identity of a training job: its starting model, recipe and rows. A checkpoint resumes only
    the job that wrote it: resuming one of another starting model would mix two trainings."""
    h = hashlib.sha256(json.dumps([str(model_path), _model_identity(model_path), recipe], sort_keys=True).encode())
    for row in rows:
        h.update(json.dumps(row, sort_keys=True).encode())
    return h.hexdigest()


def _prepare_scratch(scratch: Path, fingerprint: str) -> str | None:
    """Last checkpoint of an interrupted run of the same job, or None (stale scratch is wiped)."""
    stamp = scratch / "fingerprint"
    if scratch.exists() and (not stamp.exists() or stamp.read_text() != fingerprint):
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    stamp.write_text(fingerprint)
    checkpoints = sorted(scratch.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    return str(checkpoints[-1]) if checkpoints else None


def train_sft(
    model_path: str,
    items: list[dict],
    out_dir: str | Path,
    recipe: dict,
    scratch_dir: str | Path,
    threads: int | None = None,
    callbacks: list | None = None,
    launcher: str | None = None,
    gpus: int = 0,
) -> dict:
    """Fine-tune ``model_path`` on ``items`` with ``recipe`` and save the result to ``out_dir``.

    Without a ``launcher`` the training runs in this process (CPU or one GPU). With one (an
    accelerate config file, config/accelerate/), it runs under ``accelerate launch`` with one
    process per GPU; the scratch directory is prepared here, once, before any process starts.
    """
    if not items:
        raise ValueError("the training set is empty")
    rows = [to_conversation(i) for i in items]
    scratch = Path(scratch_dir)
    fingerprint = _fingerprint(model_path, rows, recipe)
    resume_from = _prepare_scratch(scratch, fingerprint)
    note("training", _training_facts(model_path, fingerprint, recipe, scratch, launcher, resume_from))
    job = {
        "model_path": str(model_path),
        "rows": rows,
        "out_dir": str(out_dir),
        "recipe": recipe,
        "scratch_dir": str(scratch),
        "resume_from": resume_from,
        "threads": threads,
    }
    if launcher is None:
        return train_rows(**job, callbacks=callbacks)
    if callbacks:
        raise ValueError("callbacks cannot cross into processes started by accelerate launch")
    return _launch(job, launcher, gpus)


def _training_facts(model_path, fingerprint, recipe, scratch, launcher, resume_from) -> dict:
    """What the job's lineage record says of its training: the starting model and the resume
    fingerprint, every SFTConfig field the job sets, and the accelerate config (None: in-process)."""
    accelerate = None
    if launcher:
        import yaml

        accelerate = {"path": str(launcher), "config": yaml.safe_load(Path(launcher).read_text())}
    return {
        "starting_model": str(model_path),
        "resume_fingerprint": fingerprint,
        "resumed_from": resume_from,
        "sft_config": {"output_dir": str(scratch), **SFT_DEFAULTS, **recipe},
        "accelerate": accelerate,
    }


def _launch(job: dict, launcher: str, gpus: int) -> dict:
    """Run ``train_rows(**job)`` in ``gpus`` processes under ``accelerate launch``."""
    scratch = Path(job["scratch_dir"])
    spec = scratch / "job.json"
    # The rows go to a file of their own: each process reads it, no copy passes through argv.
    write_jsonl(scratch / "rows.jsonl", job["rows"])
    write_json(spec, {**job, "rows": str(scratch / "rows.jsonl")})
    cmd = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--config_file",
        str(launcher),
        "--num_processes",
        str(max(gpus, 1)),
        "-m",
        "guiding.student.launch",
        str(spec),
    ]
    log.info("launching: %s", " ".join(cmd))
    tail: collections.deque[str] = collections.deque(maxlen=30)
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        for line in proc.stdout:
            log.info("%s", line.rstrip())
            tail.append(line)
    if proc.returncode != 0:
        raise RuntimeError(
            f"accelerate launch exited with {proc.returncode} (config {launcher}, {gpus} GPU(s)); "
            f"its last lines:\n{''.join(tail)}"
        )
    return json.loads((Path(job["out_dir"]) / "training_summary.json").read_text())


def train_rows(
    model_path: str,
    rows: list[dict],
    out_dir: str,
    recipe: dict,
    scratch_dir: str,
    resume_from: str | None,
    threads: int | None = None,
    callbacks: list | None = None,
) -> dict:
    """The training itself, in every process of a launch; only the main process writes."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    if threads:
        torch.set_num_threads(threads)
    # The config comes first: under DeepSpeed ZeRO-3 it must exist before the model is loaded,
    # so that the weights are partitioned as they load.
    args = SFTConfig(output_dir=str(scratch_dir), **{**SFT_DEFAULTS, **recipe})
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForCausalLM.from_pretrained(
        model_path, dtype=torch.bfloat16 if recipe.get("bf16") else torch.float32
    )
    trainer = SFTTrainer(
        model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tokenizer, callbacks=callbacks
    )
    result = trainer.train(resume_from_checkpoint=resume_from)
    if trainer.is_fsdp_enabled:
        # Sharded checkpoints serve resuming; the artifact is one whole model that any job loads.
        trainer.accelerator.state.fsdp_plugin.set_state_dict_type("FULL_STATE_DICT")
    trainer.save_model(str(out_dir))  # gathers sharded weights; writes on the main process
    summary = {
        "resumed_from": resume_from,
        "train_loss": result.training_loss,
        "global_step": result.global_step,
        "examples": len(rows),
        "processes": trainer.accelerator.num_processes,
        "log_history": trainer.state.log_history,
    }
    trainer.accelerator.wait_for_everyone()
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(str(out_dir))
        write_json(Path(out_dir) / "training_summary.json", summary)
        shutil.rmtree(scratch_dir)  # the finished model is the artifact; checkpoints were only for resuming
    return summary
