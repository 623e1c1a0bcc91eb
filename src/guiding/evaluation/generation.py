"""The students' answers to a benchmark: transformers (CPU or GPU, batched) or vLLM (GPU).

Both read the prompt template and the stop tokens from the model directory (the student base
wrote them), so evaluation asks exactly as training taught. Decoding is greedy at temperature
0; otherwise sampled with top-p and top-k, seeded: vLLM seeds every prompt (seed + its index),
transformers every batch (seed + the batch's first index, as batches share one generator).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Decoding:
    """How answers are decoded (config section ``evaluation``)."""

    max_new_tokens: int
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = 0
    seed: int = 42

    @property
    def greedy(self) -> bool:
        return self.temperature == 0


def chat_prompts(tokenizer, problems: list[str]) -> list[str]:
    return [
        tokenizer.apply_chat_template([{"role": "user", "content": p}], tokenize=False, add_generation_prompt=True)
        for p in problems
    ]


def load_model(model_path: str, device: str = "cpu") -> tuple:
    """The tokenizer (padding on the left) and the model, in evaluation mode on ``device``."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    tokenizer.padding_side = "left"  # decoder-only: pad on the left so every row continues from its prompt
    return tokenizer, AutoModelForCausalLM.from_pretrained(model_path).to(device).eval()


def generate_solutions(
    model_path: str,
    problems: list[str],
    decoding: Decoding,
    batch_size: int,
    threads: int | None = None,
    device: str = "cpu",
    progress: bool = True,
    loaded: tuple | None = None,
) -> list[str]:
    """Answers to ``problems``; ``loaded`` is ``load_model``'s result for ``model_path`` when the
    caller keeps the model across calls."""
    import torch
    from tqdm import tqdm

    if threads:
        torch.set_num_threads(threads)
    tokenizer, model = loaded or load_model(model_path, device)
    stops = model.generation_config.eos_token_id
    prompts = chat_prompts(tokenizer, problems)
    sampling = {} if decoding.greedy else {"temperature": decoding.temperature, "top_p": decoding.top_p}
    if sampling and decoding.top_k:
        sampling["top_k"] = decoding.top_k
    # Longest prompts first: batches of similar length waste less padding.
    order = sorted(range(len(prompts)), key=lambda i: -len(prompts[i]))
    outputs: list[str] = [""] * len(prompts)
    for start in tqdm(range(0, len(order), batch_size), desc="generating", disable=not progress):
        idx = order[start : start + batch_size]
        batch = tokenizer([prompts[i] for i in idx], return_tensors="pt", padding=True, add_special_tokens=False)
        if sampling:
            torch.manual_seed(decoding.seed + start)
        with torch.inference_mode():
            out = model.generate(
                **batch.to(device),
                do_sample=bool(sampling),
                **sampling,
                max_new_tokens=decoding.max_new_tokens,
                pad_token_id=tokenizer.pad_token_id,
                eos_token_id=stops if stops is not None else tokenizer.eos_token_id,
            )
        for row, i in zip(out[:, batch["input_ids"].shape[1] :], idx):
            outputs[i] = tokenizer.decode(row, skip_special_tokens=True)
    return outputs


# (model path, device) -> (tokenizer, model), loaded once per job: the benchmarks and the
# evaluation seeds (one generator each) reuse it, as they reuse a vLLM engine (_ENGINES).
_MODELS: dict[tuple[str, str], tuple] = {}


class TransformersGenerator:
    """transformers' generate, ``batch_size`` prompts at a time, on the CPU or the first GPU."""

    def __init__(self, max_new_tokens: int, batch_size: int, threads: int | None = None, gpus: int = 0, **decoding):
        self.decoding = Decoding(max_new_tokens=max_new_tokens, **decoding)
        self.batch_size, self.threads = batch_size, threads
        self.device = "cuda" if gpus else "cpu"

    def generate(self, model_path: str, problems: list[str]) -> list[str]:
        key = (model_path, self.device)
        if key not in _MODELS:
            _MODELS[key] = load_model(model_path, self.device)
        return generate_solutions(
            model_path,
            problems,
            self.decoding,
            self.batch_size,
            self.threads,
            self.device,
            loaded=_MODELS[key],
        )


_ENGINES: dict[tuple[str, int], object] = {}  # (model path, GPUs) -> vLLM engine, loaded once per job


class VLLMGenerator:
    """vLLM's offline engine over all prompts at once (continuous batching), tensor-parallel over
    the job's GPUs, every prompt with its own seed."""

    def __init__(self, max_new_tokens: int, batch_size: int = 0, threads: int | None = None, gpus: int = 1, **decoding):
        self.decoding = Decoding(max_new_tokens=max_new_tokens, **decoding)
        self.gpus = max(gpus, 1)

    def sampling_params(self, stops: list[int], count: int) -> list:
        from vllm import SamplingParams

        d = self.decoding
        common = {"max_tokens": d.max_new_tokens, "stop_token_ids": stops, "skip_special_tokens": True}
        if d.greedy:
            return [SamplingParams(temperature=0.0, **common)] * count
        # vLLM leaves top-k off unless asked (the paper's decoding used top-k 50): always pass it.
        return [
            SamplingParams(temperature=d.temperature, top_p=d.top_p, top_k=d.top_k or -1, seed=d.seed + i, **common)
            for i in range(count)
        ]

    def generate(self, model_path: str, problems: list[str]) -> list[str]:
        from transformers import AutoTokenizer, GenerationConfig
        from vllm import LLM

        tokenizer = AutoTokenizer.from_pretrained(model_path)
        stops = GenerationConfig.from_pretrained(model_path).eos_token_id
        stops = stops if isinstance(stops, list) else [stops if stops is not None else tokenizer.eos_token_id]
        # One engine per model in a job: the evaluation seeds reuse it (every request carries its seed).
        key = (model_path, self.gpus)
        if key not in _ENGINES:
            _ENGINES[key] = LLM(model=model_path, tensor_parallel_size=self.gpus, seed=self.decoding.seed)
        llm = _ENGINES[key]
        # The template already holds the BOS token: the engine must not add another.
        outputs = llm.generate(
            [
                {"prompt_token_ids": tokenizer(p, add_special_tokens=False)["input_ids"]}
                for p in chat_prompts(tokenizer, problems)
            ],
            self.sampling_params(stops, len(problems)),
        )
        return [o.outputs[0].text for o in outputs]
