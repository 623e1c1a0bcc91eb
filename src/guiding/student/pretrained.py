"""Paper mode's student base: a pretrained causal LM (Llama-3-8B base) from a hub id or a local
directory, given the one prompt template that training and evaluation share.

The template (``guiding.core.prompt_format``) uses plain text and the tokens the base model did
learn: a problem, then its solution, then EOS. Generation stops at EOS, and at the end-of-turn token too where the
vocabulary has one, so a model that drifts into another template still stops.
"""

from __future__ import annotations

from pathlib import Path

from ..core.prompt_format import PROMPT_TEMPLATE

# Tokens that end an answer besides EOS, where the vocabulary has them.
EXTRA_STOP_TOKENS = ("<|eot_id|>", "<|end_of_text|>")


def stop_token_ids(tokenizer) -> list[int]:
    vocab = tokenizer.get_vocab()
    ids = [tokenizer.eos_token_id, *(vocab[t] for t in EXTRA_STOP_TOKENS if t in vocab)]
    return sorted(set(ids))


class PretrainedStudentBase:
    """``model`` (a hub id or a local directory), saved with the shared template and stop tokens."""

    def __init__(self, model: str, dtype: str = "bfloat16"):
        self.model, self.dtype = model, dtype

    def build(self, texts: list[str], out_dir: str | Path) -> dict:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(self.model)
        tokenizer.chat_template = PROMPT_TEMPLATE
        if tokenizer.pad_token is None:
            # Padding positions are masked out of the loss by the attention mask, not by token id.
            tokenizer.pad_token = tokenizer.eos_token
        model = AutoModelForCausalLM.from_pretrained(self.model, dtype=getattr(torch, self.dtype))
        stops = stop_token_ids(tokenizer)
        model.generation_config.eos_token_id = stops
        model.generation_config.pad_token_id = tokenizer.pad_token_id
        out_dir = Path(out_dir)
        tokenizer.save_pretrained(out_dir)
        model.save_pretrained(out_dir)
        return {"source": self.model, "parameters": sum(p.numel() for p in model.parameters()), "stop_tokens": stops}
