"""The paper mode's model half on a GPU machine, with a tiny model in place of Llama-3-8B.

Runs the same step functions as the workflow's rules: the pretrained student base (a tiny
Llama saved here as if it came from the hub), stage 1 and stage 2 with the paper recipes in
bf16 under `accelerate launch` (max_steps cut short), generation with the configured backend
on the GPU, and grading; then the GPU preflight against a job that asks for more GPUs than it
sees. Prints each step's wall time and the training throughput.

    python bench/gpu_paper_path.py --out /tmp/gpu-path [--generator vllm] [--steps 200]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from guiding.core.gpus import GPUPreflightError, preflight, visible_gpus  # noqa: E402
from guiding.core.io import read_jsonl, write_jsonl  # noqa: E402
from guiding.evaluation.steps import generate_predictions, grade_predictions  # noqa: E402
from guiding.student.embedded import create_model, train_tokenizer  # noqa: E402
from guiding.student.steps import build_student_base, train_stage1, train_stage2  # noqa: E402
from guiding.world.generate import generate_splits  # noqa: E402

ARCH = dict(
    hidden_size=256,
    intermediate_size=768,
    num_hidden_layers=4,
    num_attention_heads=4,
    num_key_value_heads=4,
    max_position_embeddings=1024,
    tie_word_embeddings=True,
)


def timed(label: str, times: dict, fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    times[label] = round(time.perf_counter() - start, 1)
    print(f"{label}: {times[label]} s", flush=True)
    return result


def recipe(stage: str, steps: int) -> dict:
    fields = yaml.safe_load((ROOT / "config" / "recipes" / "paper" / f"{stage}.yaml").read_text())
    # The paper's recipe with the run cut short and the checkpoints kept few.
    return {**fields, "max_steps": steps, "save_steps": steps, "logging_steps": max(steps // 10, 1)}


def throughput(model_dir: Path, rows: list[dict], summary_steps: int, batch: int) -> dict:
    from transformers import AutoTokenizer

    summary = json.loads((model_dir / "training_summary.json").read_text())
    runtime = next(h["train_runtime"] for h in summary["log_history"] if "train_runtime" in h)
    tok = AutoTokenizer.from_pretrained(model_dir)
    mean_tokens = sum(len(tok(r["problem"] + r["solution"])["input_ids"]) for r in rows) / len(rows)
    sequences = summary["global_step"] * batch
    return {
        "steps": summary["global_step"],
        "train_runtime_s": round(runtime, 1),
        "sequences_per_s": round(sequences / runtime, 1),
        "tokens_per_s": round(sequences * mean_tokens / runtime),
        "processes": summary["processes"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--generator", default="transformers", choices=["transformers", "vllm"])
    parser.add_argument("--launcher", default=str(ROOT / "config" / "accelerate" / "single_gpu.yaml"))
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--gpus", type=int, default=1, help="0: a CPU check of the same path")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    out, times, report = args.out, {}, {"gpus_visible": visible_gpus()}
    out.mkdir(parents=True, exist_ok=True)

    splits = generate_splits(
        0, {"train_easy": 4000, "train_hard": 1000, "eval_easy": 100, "eval_hard": 100}, [1, 2], [3, 4]
    )
    for name, rows in splits.items():
        write_jsonl(out / f"{name}.jsonl", rows)
    hub = out / "hub"
    tokenizer = train_tokenizer([f"{t['problem']}\n{t['solution']}" for t in splits["train_easy"]], 400)
    tokenizer.chat_template = None  # like a base model on the hub: no template
    create_model(tokenizer, ARCH, seed=0).save_pretrained(hub)
    tokenizer.save_pretrained(hub)

    timed(
        "build_student_base",
        times,
        build_student_base,
        tasks=[],
        base_model=str(out / "base"),
        backend="pretrained",
        student={"model": str(hub), "dtype": "bfloat16"},
    )
    for stage, step, model, data in (
        ("stage1", train_stage1, out / "base", out / "train_easy.jsonl"),
        ("stage2", train_stage2, out / "stage1", out / "train_hard.jsonl"),
    ):
        r = recipe(stage, args.steps) | ({"use_cpu": True} if args.gpus == 0 else {})
        timed(
            f"train_{stage}",
            times,
            step,
            model=str(model),
            data=str(data),
            trained=str(out / stage),
            recipe=r,
            checkpoints=str(out / f"{stage}-checkpoints"),
            launcher=args.launcher,
            gpu=args.gpus,
        )
        report[f"train_{stage}"] = throughput(
            out / stage,
            read_jsonl(data),
            args.steps,
            r["per_device_train_batch_size"] * r["gradient_accumulation_steps"],
        )
    generation = {
        "max_new_tokens": 256,
        "batch_size": 100,
        "temperature": 0.6,
        "top_p": 0.9,
        "top_k": 50,
        "seeds": [42],
    }
    for bench in ("eval_easy", "eval_hard"):
        timed(
            f"generate_{bench}",
            times,
            generate_predictions,
            model=str(out / "stage2"),
            tasks=str(out / f"{bench}.jsonl"),
            predictions=str(out / f"{bench}.predictions.jsonl"),
            backend=args.generator,
            generation=generation,
            gpu=args.gpus,
        )
        grade_predictions(
            tasks=str(out / f"{bench}.jsonl"),
            predictions=str(out / f"{bench}.predictions.jsonl"),
            graded=str(out / f"{bench}.graded.jsonl"),
            grading_report=str(out / f"{bench}.grading.json"),
            threads=4,
        )
        report[f"grading_{bench}"] = json.loads((out / f"{bench}.grading.json").read_text())
    try:
        preflight(visible_gpus() + 1, "a job asking for one GPU more than it sees")
        report["preflight"] = "NOT refused"
    except GPUPreflightError as err:
        report["preflight"] = f"refused: {err}"
    report["wall_s"] = times
    print(json.dumps(report, indent=2))
    (out / "report.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
