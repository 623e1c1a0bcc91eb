"""Offline generation with vLLM (``vllm.LLM.chat``) on the machine's GPUs.

The client hands this backend chunks of the requests the cache does not hold; each chunk is one
``LLM.chat`` call and is committed as soon as it returns, so a killed job keeps every finished
chunk. Every request carries its own ``SamplingParams`` with its own seed, and every parameter is
set explicitly: vLLM fills unset ones from the model's generation config only when no
SamplingParams are passed, which never happens here.

vllm is imported in ``start`` only (it is in the ``paper`` extra, with its own torch).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from ..requests import ChatRequest, Completion, Sampling
from . import BackendError


def sampling_params_kwargs(s: Sampling) -> dict:
    """``vllm.SamplingParams`` keyword arguments for ``s``; unset extras take their neutral value."""
    return {
        "n": s.n,
        "temperature": s.temperature,
        "top_p": s.top_p,
        "top_k": s.top_k if s.top_k is not None else 0,  # 0: no top-k cut
        "min_p": s.min_p if s.min_p is not None else 0.0,
        "repetition_penalty": s.repetition_penalty if s.repetition_penalty is not None else 1.0,
        "max_tokens": s.max_tokens,
        "stop": list(s.stop),
        "seed": s.seed,
        "skip_special_tokens": True,
    }


class VLLMBackend:
    """``model`` (a path or hub id, loaded once in ``start``) through ``vllm.LLM``.

    - ``chunk_size``: requests per ``LLM.chat`` call, each chunk committed when it returns; larger
      chunks keep the GPU busier, smaller ones lose less to a kill.
    - ``engine``: keyword arguments of ``vllm.LLM`` (``tensor_parallel_size``, ``max_model_len``,
      ``gpu_memory_utilization``, ``dtype``, ...).
    - ``chat_template``: a Jinja template to use instead of the tokenizer's.
    - ``endpoint``: identity in request keys; default "vllm:<model>".
    """

    concurrency = 1

    def __init__(
        self,
        model: str,
        chunk_size: int = 512,
        engine: dict | None = None,
        chat_template: str | None = None,
        endpoint: str | None = None,
    ):
        self.model = model
        self.batch_size = chunk_size
        self.engine = dict(engine or {})
        self.chat_template = chat_template
        self.identity = endpoint or f"vllm:{model}"
        self._llm = None
        self._vllm = None

    async def start(self) -> None:
        if self._llm is not None:
            return
        try:
            import vllm
        except ImportError as e:
            raise BackendError(
                "the vllm backend needs vllm: run the GPU generation jobs in envs/gpu-generation.yaml "
                f"(snakemake --use-conda): {e}"
            ) from e
        self._vllm = vllm
        self._llm = await asyncio.to_thread(vllm.LLM, model=self.model, **self.engine)

    async def close(self) -> None:
        """Keeps the model loaded: the next generate call on this backend reuses it."""

    async def complete(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        if self._llm is None:
            raise BackendError("VLLMBackend.complete before start")
        return await asyncio.to_thread(self._chat, list(requests))

    def _chat(self, requests: list[ChatRequest]) -> list[Completion]:
        start = time.monotonic()
        params = [self._vllm.SamplingParams(**sampling_params_kwargs(r.sampling)) for r in requests]
        outputs = self._llm.chat(
            [r.message_dicts() for r in requests],
            sampling_params=params,
            use_tqdm=False,
            chat_template=self.chat_template,
        )
        latency = time.monotonic() - start  # the chunk's: its requests run together
        completions = []
        for out in outputs:
            first = out.outputs[0]
            completions.append(
                Completion(
                    text=first.text,
                    finish_reason=first.finish_reason or "unknown",
                    prompt_tokens=len(out.prompt_token_ids or []),
                    completion_tokens=len(first.token_ids),
                    latency_s=latency,
                )
            )
        return completions
