"""The cached generation interface: every question the study asks a model goes through here.

    requests = [ChatRequest.build(endpoint=backend.identity, model=..., messages=[...],
                                  sampling=Sampling(seed=derive_seed(42, item_id, i)), sample=i,
                                  template="solve/v1", item_id=item_id) for ...]
    with ResponseCache(path) as cache:
        answers = generate(requests, create_backend("openai", base_url=...), cache)

Mode-neutral: it imports no stage package and no world (import-linter checks it). Backends that
need heavy packages (openai, torch, vllm) import them only when created or started.
"""

from .backends import Backend, BackendError, PermanentError, TransientError, create_backend
from .cache import CacheError, ResponseCache
from .client import CacheMiss, ClientSettings, Generation, GenerationError, agenerate, generate
from .requests import ChatRequest, Completion, Failure, Response, Sampling, derive_seed

__all__ = [
    "Backend",
    "BackendError",
    "CacheError",
    "CacheMiss",
    "ChatRequest",
    "ClientSettings",
    "Completion",
    "Failure",
    "Generation",
    "GenerationError",
    "PermanentError",
    "ResponseCache",
    "Response",
    "Sampling",
    "TransientError",
    "agenerate",
    "create_backend",
    "derive_seed",
    "generate",
]
