"""Supervised fine-tuning with TRL's SFTTrainer, shared by both stages and both modes.

Data are prompt/completion conversations, so the loss falls on completions only. The
recipe is a dict of SFTConfig fields (one recipe per stage, as in alignment-handbook); the
model to start from is the rule's input (the stage-1 output for stage 2).
Checkpoints go to a scratch directory outside the rule's declared output, so a rerun of an
interrupted job resumes from the last one instead of starting over.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from ..core.io import write_json


def to_conversation(item: dict) -> dict:
    return {
        "prompt": [{"role": "user", "content": item["problem"]}],
        "completion": [{"role": "assistant", "content": item["solution"]}],
    }


def _fingerprint(model_path: str, rows: list[dict], recipe: dict) -> str:
    h = hashlib.sha256(json.dumps([model_path, recipe], sort_keys=True).encode())
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
) -> dict:
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    if not items:
        raise ValueError("the training set is empty")
    if threads:
        torch.set_num_threads(threads)
    rows = [to_conversation(i) for i in items]
    scratch = Path(scratch_dir)
    resume_from = _prepare_scratch(scratch, _fingerprint(model_path, rows, recipe))

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForCausalLM.from_pretrained(
        model_path, dtype=torch.bfloat16 if recipe.get("bf16") else torch.float32
    )
    # Defaults a recipe may override: progress bars in the log, checkpoints for resuming.
    defaults = {"report_to": "none", "save_strategy": "steps", "disable_tqdm": False}
    args = SFTConfig(output_dir=str(scratch), **{**defaults, **recipe})
    trainer = SFTTrainer(
        model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tokenizer, callbacks=callbacks
    )
    result = trainer.train(resume_from_checkpoint=resume_from)
    trainer.save_model(str(out_dir))
    tokenizer.save_pretrained(str(out_dir))
    summary = {
        "resumed_from": resume_from,
        "train_loss": result.training_loss,
        "global_step": result.global_step,
        "examples": len(rows),
        "log_history": trainer.state.log_history,
    }
    write_json(Path(out_dir) / "training_summary.json", summary)
    shutil.rmtree(scratch)  # the finished model is the artifact; checkpoints were only for resuming
    return summary
