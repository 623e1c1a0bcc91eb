"""Evaluation of a student: batched greedy generation (left padding), graded by the boxed answer."""

from __future__ import annotations

from .grading import grade_solution


def generate_solutions(model_path: str, problems: list[str], max_new_tokens: int, batch_size: int,
                       threads: int | None = None, progress: bool = True) -> list[str]:
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
            out = model.generate(**batch, do_sample=False, max_new_tokens=max_new_tokens,
                                 pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
        for row, i in zip(out[:, batch["input_ids"].shape[1]:], idx):
            outputs[i] = tokenizer.decode(row, skip_special_tokens=True)
    return outputs


def grade_predictions(tasks: list[dict], predictions: list[dict]) -> list[dict]:
    by_id = {t["id"]: t for t in tasks}
    return [{**p, **grade_solution(by_id[p["task_id"]]["answer"], p["output"])} for p in predictions]
