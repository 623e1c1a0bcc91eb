"""Generation with a trained student through transformers: batched, greedy, left-padded (CPU or GPU)."""

from __future__ import annotations


def generate_solutions(
    model_path: str,
    problems: list[str],
    max_new_tokens: int,
    batch_size: int,
    threads: int | None = None,
    progress: bool = True,
) -> list[str]:
    import torch
    from tqdm import tqdm
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if threads:
        torch.set_num_threads(threads)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    tokenizer.padding_side = "left"  # decoder-only: pad on the left so every row continues from its prompt
    model = AutoModelForCausalLM.from_pretrained(model_path).eval()
    prompts = [
        tokenizer.apply_chat_template([{"role": "user", "content": p}], tokenize=False, add_generation_prompt=True)
        for p in problems
    ]
    # Longest prompts first: batches of similar length waste less padding.
    order = sorted(range(len(prompts)), key=lambda i: -len(prompts[i]))
    outputs: list[str] = [""] * len(prompts)
    for start in tqdm(range(0, len(order), batch_size), desc="generating", disable=not progress):
        idx = order[start : start + batch_size]
        batch = tokenizer([prompts[i] for i in idx], return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.inference_mode():
            out = model.generate(
                **batch,
                do_sample=False,
                max_new_tokens=max_new_tokens,
                pad_token_id=tokenizer.pad_token_id,
                eos_token_id=tokenizer.eos_token_id,
            )
        for row, i in zip(out[:, batch["input_ids"].shape[1] :], idx):
            outputs[i] = tokenizer.decode(row, skip_special_tokens=True)
    return outputs


class TransformersGenerator:
    """Greedy generation of ``max_new_tokens`` at most, ``batch_size`` prompts at a time."""

    def __init__(self, max_new_tokens: int, batch_size: int, threads: int | None = None):
        self.max_new_tokens, self.batch_size, self.threads = max_new_tokens, batch_size, threads

    def generate(self, model_path: str, problems: list[str]) -> list[str]:
        return generate_solutions(model_path, problems, self.max_new_tokens, self.batch_size, self.threads)
