"""The spending limit at run time: a job stops before sending what would pass ``cost.limit_usd``.

Before a batch goes out, the job estimates what its misses (the requests without a cache row)
may cost, from their actual prompts (characters / ``chars_per_token``) and ``max_tokens``
completion tokens each, and adds what the cache has already billed (every row's recorded tokens
at the price table's prices). Above the limit it raises ``SpendingLimitError`` and sends nothing.

Jobs that run at once each count their own misses against what is billed when they check; the
limit is therefore held per job, not across jobs sending at the same moment.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .cost import Price, prompt_chars, usd
from .requests import ChatRequest


class SpendingLimitError(RuntimeError):
    """Sending a job's misses could pass ``cost.limit_usd``."""


@dataclass(frozen=True)
class SpendingLimit:
    """Config ``cost``'s limit, prices and characters per token, as a job checks them."""

    limit_usd: float
    """USD the cache's rows and this job's misses may cost together."""
    prices: dict[str, Price] = field(default_factory=dict)
    """USD per million tokens by model; a model without a price cannot be checked (an error)."""
    chars_per_token: float = 4.0
    """Characters per prompt token of the estimate."""

    @classmethod
    def from_config(cls, cost_config: dict | None) -> SpendingLimit | None:
        """The limit of config ``cost``; None without one."""
        if not cost_config or cost_config.get("limit_usd") is None:
            return None
        prices = {m: Price(p["prompt"], p["completion"]) for m, p in cost_config.get("prices", {}).items()}
        chars = cost_config.get("estimate", {}).get("chars_per_token", cls.chars_per_token)
        return cls(cost_config["limit_usd"], prices, chars)

    def estimate_usd(self, requests: Sequence[ChatRequest]) -> float:
        """The upper bound of what ``requests`` may cost (NaN if a model has no price)."""
        total = 0.0
        for r in requests:
            total += usd(self.prices, r.model, math.ceil(prompt_chars(r) / self.chars_per_token), r.sampling.max_tokens)
        return total

    def check(self, misses: Sequence[ChatRequest], cache_path: str | Path) -> None:
        """Raise SpendingLimitError if ``misses`` could pass the limit, with what the cache billed."""
        if not misses:
            return
        estimate, billed = self.estimate_usd(misses), billed_usd(cache_path, self.prices)
        if math.isnan(estimate) or math.isnan(billed):
            unpriced = sorted({r.model for r in misses if r.model not in self.prices})
            raise SpendingLimitError(
                "cost.limit_usd: the spending limit cannot be checked: no price in cost.prices for "
                f"{unpriced or 'a model the cache billed'}; nothing was sent"
            )
        if billed + estimate > self.limit_usd:
            raise SpendingLimitError(
                f"cost.limit_usd: sending {len(misses)} requests is estimated at up to ${estimate:,.4f} "
                f"(their prompts at {self.chars_per_token:g} characters per token, max_tokens completions), and the "
                f"cache {cache_path} has already billed ${billed:,.4f}: ${billed + estimate:,.4f} together, above "
                f"the limit of ${self.limit_usd:,.4f}. Nothing was sent; raise cost.limit_usd to go on"
            )


def billed_usd(cache_path: str | Path, prices: dict[str, Price]) -> float:
    """What the cache's rows cost: each model's recorded tokens at its price (read only; 0 without
    a cache; NaN if a billed model has no price)."""
    if not Path(cache_path).is_file():
        return 0.0
    query = (
        "SELECT json_extract(request, '$.model'), SUM(COALESCE(prompt_tokens, 0)), "
        "SUM(COALESCE(completion_tokens, 0)) FROM responses GROUP BY 1"
    )
    with sqlite3.connect(f"file:{Path(cache_path).resolve()}?mode=ro", uri=True) as db:
        try:
            rows = db.execute(query).fetchall()
        except sqlite3.OperationalError as e:
            if "no such table" not in str(e):
                raise
            rows = []
    return sum(usd(prices, model, prompt, completion) for model, prompt, completion in rows)
