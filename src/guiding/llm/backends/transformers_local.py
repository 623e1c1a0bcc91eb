"""Local batched generation with transformers (CPU or GPU), for models saved with ``save_pretrained``.

Every sampling parameter goes into an explicit ``GenerationConfig``, so the model's own generation
config cannot fill one in. Requests share a ``generate`` call only when their answers cannot depend
on it: greedy requests, or sampled ones without a seed, with equal sampling parameters. A sampled
request with a seed runs alone after ``torch.manual_seed(seed)``, so its answer depends on its seed
only, never on the batch it happened to be sent in.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Sequence

from ..requests import ChatRequest, Completion, Sampling
from . import BackendError


class TransformersBackend:
    """``model_path`` loaded once with ``AutoModelForCausalLM``.

    - ``batch_size``: requests per ``generate`` call (left-padded).
    - ``device``: "cpu", "cuda", "cuda:1", ...
    - ``dtype``: ``from_pretrained``'s dtype ("auto", "bfloat16", ...); None keeps the saved one.
    - ``threads``: torch CPU threads; None leaves torch's default.
    - ``chat_template``: a Jinja template to use instead of the tokenizer's.
    - ``endpoint``: identity in request keys; default "transformers:<model_path>".
    """

    concurrency = 1

    def __init__(
        self,
        model_path: str,
        batch_size: int = 8,
        device: str = "cpu",
        dtype: str | None = None,
        threads: int | None = None,
        chat_template: str | None = None,
        endpoint: str | None = None,
    ):
        self.model_path = model_path
        self.batch_size = batch_size
        self.device = device
        self.dtype = dtype
        self.threads = threads
        self.chat_template = chat_template
        self.identity = endpoint or f"transformers:{model_path}"
        self._model = None
        self._tokenizer = None

    async def start(self) -> None:
        if self._model is None:
            await asyncio.to_thread(self._load)

    def _load(self) -> None:
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as e:
            raise BackendError(f"the transformers backend needs torch and transformers: {e}") from e
        if self.threads:
            torch.set_num_threads(self.threads)
        tokenizer = AutoTokenizer.from_pretrained(self.model_path)
        tokenizer.padding_side = "left"  # decoder-only: every row continues right after its prompt
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        extra = {"dtype": self.dtype} if self.dtype else {}
        self._tokenizer = tokenizer
        self._model = AutoModelForCausalLM.from_pretrained(self.model_path, **extra).to(self.device).eval()

    async def close(self) -> None:
        """Keeps the model loaded: the next generate call on this backend reuses it."""

    async def complete(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        if self._model is None:
            raise BackendError("TransformersBackend.complete before start")
        return await asyncio.to_thread(self._complete, list(requests))

    def _complete(self, requests: list[ChatRequest]) -> list[Completion]:
        groups: dict[object, list[int]] = {}
        for i, r in enumerate(requests):
            s = r.sampling
            alone = s.temperature > 0 and s.seed is not None
            groups.setdefault(("alone", i) if alone else dataclasses.replace(s, seed=None), []).append(i)
        out: list[Completion | None] = [None] * len(requests)
        for indices in groups.values():
            for start in range(0, len(indices), self.batch_size):
                chunk = indices[start : start + self.batch_size]
                for i, completion in zip(chunk, self._generate([requests[i] for i in chunk])):
                    out[i] = completion
        return out

    def generation_config(self, s: Sampling):
        """The explicit GenerationConfig of ``s`` (greedy at temperature 0)."""
        from transformers import GenerationConfig

        tok = self._tokenizer
        common = dict(
            max_new_tokens=s.max_tokens,
            pad_token_id=tok.pad_token_id,
            eos_token_id=tok.eos_token_id,
            repetition_penalty=s.repetition_penalty if s.repetition_penalty is not None else 1.0,
            stop_strings=list(s.stop) or None,
        )
        if s.temperature == 0:
            return GenerationConfig(do_sample=False, temperature=None, top_p=None, top_k=None, **common)
        return GenerationConfig(
            do_sample=True,
            temperature=s.temperature,
            top_p=s.top_p,
            top_k=s.top_k if s.top_k is not None else 0,  # 0: no top-k cut
            min_p=s.min_p,
            **common,
        )

    def _generate(self, batch: list[ChatRequest]) -> list[Completion]:
        import torch

        tok, s = self._tokenizer, batch[0].sampling
        prompts = [
            tok.apply_chat_template(
                r.message_dicts(), tokenize=False, add_generation_prompt=True, chat_template=self.chat_template
            )
            for r in batch
        ]
        enc = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
        if s.temperature > 0 and s.seed is not None:
            torch.manual_seed(s.seed)
        start = time.monotonic()
        with torch.inference_mode():
            generated = self._model.generate(**enc, generation_config=self.generation_config(s), tokenizer=tok)
        latency = time.monotonic() - start
        ends = {tok.eos_token_id, tok.pad_token_id}
        completions = []
        for row, prompt_tokens in zip(generated[:, enc["input_ids"].shape[1] :].tolist(), enc["attention_mask"].sum(1)):
            end = next((j for j, t in enumerate(row) if t in ends), None)
            tokens = row if end is None else row[:end]
            text = tok.decode(tokens, skip_special_tokens=True)
            cut = [text.index(stop) for stop in s.stop if stop in text]
            if cut:
                text, finish = text[: min(cut)], "stop"
            elif end is None and len(tokens) >= s.max_tokens:
                finish = "length"
            else:
                finish = "stop"
            completions.append(Completion(text, finish, int(prompt_tokens), len(tokens), latency))
        return completions
