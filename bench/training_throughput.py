"""Training throughput of the embedded student on this CPU, recipe variants against the default.

Builds the default world and tiny student (config/config.yaml), then trains stage 1 and stage 2
for a fixed number of steps per variant through ``guiding.student.training.train_rows`` (the
path the rules take), alternating the variants over rounds. For each it prints the examples and
(unpadded) tokens per second and per thread, the model FLOP utilisation against this machine's
own peak (a 2048x2048 matmul measured in the same run, fp32 and bf16), and the ratio against
the first variant. Model FLOPs per token: 6 x (non-embedding parameters + the output layer) plus
the attention term 12 x layers x hidden x sequence length (the PaLM appendix's estimate).
Beside the steady-state rate it prints the wall time of the whole training call (model load,
tokenisation, any compilation, every step) and its speed ratio against the first variant (above
1: faster): what a short job of the workflow pays.

    .venv/bin/python bench/training_throughput.py                       # every variant, 2 rounds
    .venv/bin/python bench/training_throughput.py --variants default bf16 --steps 40 --threads 1
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
import yaml
from transformers import AutoTokenizer, TrainerCallback

from guiding import implementations
from guiding.config import load_recipes
from guiding.student.embedded import build_student_base
from guiding.student.training import to_conversation, train_rows

ROOT = Path(__file__).resolve().parents[1]

# Recipe overrides, each measured against the default recipe of its stage.
VARIANTS = {
    "default": {},
    "batch64": {"per_device_train_batch_size": 64},
    "bf16": {"bf16": True},
    "group_by_length": {"train_sampling_strategy": "group_by_length"},
    # TRL enforces no max_length without packing; the examples are far shorter than it anyway.
    "padding_free": {"padding_free": True, "max_length": None},
    # Inductor fuses the tiny model's many small elementwise ops; compiled once per process.
    "compile": {"torch_compile": True},
    "batch64_bf16_grouped": {
        "per_device_train_batch_size": 64,
        "bf16": True,
        "train_sampling_strategy": "group_by_length",
    },
}


def matmul_peak(dtype: torch.dtype, threads: int, n: int = 2048, repeats: int = 10) -> float:
    """GFLOP/s of an n x n matmul in ``dtype`` on ``threads`` threads (best of ``repeats``)."""
    torch.set_num_threads(threads)
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b  # warm-up
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


class StepClock(TrainerCallback):
    """Wall time of the steps after the first ``warmup`` (tokenisation and start-up excluded)."""

    def __init__(self, warmup: int):
        self.warmup, self.start, self.end, self.steps = warmup, None, None, 0

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.warmup:
            self.start = time.perf_counter()
        elif state.global_step > self.warmup:
            self.end, self.steps = time.perf_counter(), state.global_step - self.warmup


def flops_per_token(model_dir: Path, seq_len: float) -> float:
    from transformers import AutoConfig

    c = AutoConfig.from_pretrained(model_dir)
    h, layers, inter = c.hidden_size, c.num_hidden_layers, c.intermediate_size
    kv = c.num_key_value_heads * (h // c.num_attention_heads)
    per_layer = 2 * h * h + 2 * h * kv + 3 * h * inter  # q, o, k, v projections and the MLP
    return 6 * (layers * per_layer + h * c.vocab_size) + 12 * layers * h * seq_len


def measure(
    model: Path, rows: list[dict], recipe: dict, steps: int, warmup: int, threads: int, tmp: Path
) -> tuple[float, float]:
    """Examples per second after the warm-up steps, and the seconds of the whole training call."""
    clock = StepClock(warmup)
    recipe = {**recipe, "max_steps": steps + warmup, "save_strategy": "no", "logging_steps": 10**6}
    recipe.pop("save_steps", None)
    whole = _timed(
        lambda: train_rows(str(model), rows, str(tmp / "out"), recipe, str(tmp / "scratch"), None, threads, [clock])
    )
    seconds = clock.end - clock.start
    return clock.steps * recipe["per_device_train_batch_size"] / seconds, whole


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=str(ROOT / "config" / "config.yaml"))
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--steps", type=int, default=30, help="timed steps per variant and stage")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first")
    parser.add_argument("--rounds", type=int, default=2, help="the variants alternate over rounds")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = parser.parse_args()

    config = yaml.safe_load(open(args.config))
    load_recipes(config, ROOT)
    world = dict(config["world"])
    world["sizes"] = {**world["sizes"], "train_easy": 2000, "train_hard": 600}
    splits = implementations.create("task_source", "world", **world).splits()
    data = {"stage1": splits["train_easy"], "stage2": splits["train_hard"]}
    peak = {
        name: matmul_peak(dtype, args.threads) for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16))
    }
    print(
        f"threads {args.threads}; 2048^2 matmul peak: fp32 {peak['fp32']:.0f} GFLOP/s, bf16 {peak['bf16']:.0f} GFLOP/s"
    )

    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        base = tmp / "base"
        texts = [f"{t['problem']}\n{t['solution']}" for split in data.values() for t in split]
        student = config["student"]
        build_student_base(texts, base, student["vocab_size"], student["architecture"], student["seed"])
        tokenizer = AutoTokenizer.from_pretrained(base)
        results: dict[tuple[str, str], list[float]] = {}
        whole_runs: dict[tuple[str, str], list[float]] = {}
        tokens_per_example, flops = {}, {}
        for stage, items in data.items():
            rows = [to_conversation(i) for i in items]
            lengths = [
                len(tokenizer.apply_chat_template(r["prompt"] + r["completion"], return_dict=False)) for r in rows
            ]
            tokens_per_example[stage] = statistics.mean(lengths)
            flops[stage] = flops_per_token(base, tokens_per_example[stage])
            for _ in range(args.rounds):
                for variant in args.variants:
                    recipe = {**config["training"][stage], **VARIANTS[variant]}
                    rate, whole = measure(base, rows, recipe, args.steps, args.warmup, args.threads, tmp / variant)
                    results.setdefault((stage, variant), []).append(rate)
                    whole_runs.setdefault((stage, variant), []).append(whole)

    print(
        f"\n{'stage':7} {'variant':22} {'examples/s':>10} {'tokens/s':>9} {'tok/s/thr':>9} {'MFU fp32':>8} "
        f"{'MFU bf16':>8} {'ratio':>6} {'run s':>6} {'run ratio':>9}"
    )
    for stage in data:
        first = statistics.median(results[(stage, args.variants[0])])
        first_run = statistics.median(whole_runs[(stage, args.variants[0])])
        for variant in args.variants:
            rate = statistics.median(results[(stage, variant)])
            run = statistics.median(whole_runs[(stage, variant)])
            tokens = rate * tokens_per_example[stage]
            mfu = {name: tokens * flops[stage] / (gflops * 1e9) for name, gflops in peak.items()}
            print(
                f"{stage:7} {variant:22} {rate:10.1f} {tokens:9.0f} {tokens / args.threads:9.0f} "
                f"{mfu['fp32']:8.1%} {mfu['bf16']:8.1%} {rate / first:6.2f} {run:6.1f} {first_run / run:9.2f}"
            )


if __name__ == "__main__":
    main()
