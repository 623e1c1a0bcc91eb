"""``guiding estimate``: what a config's LLM requests will cost, before anything is sent.

Reads the config as the workflow does (the files merged in order, recipes read in, the schema's
defaults filled), prints the dry-run estimate per role and teacher (see guiding.llm.cost) and the
total against ``cost.limit_usd``; exits with status 1 when the total is above the limit.
"""

from __future__ import annotations

import argparse
import math
import sys

from .config import ConfigError, estimated_calls, load_config
from .core.paths import CHECKOUT
from .llm import cost

ROOT = CHECKOUT  # the workflow's directory (recipes, schema)


def format_table(calls: list[cost.RoleCall], prices: dict[str, cost.Price]) -> str:
    header = ("role", "teacher", "model", "requests", "prompt_tokens", "completion_tokens", "usd")
    rows = [
        (
            c.role,
            c.teacher,
            c.model,
            f"{c.requests:,}",
            f"{c.prompt_tokens:,}",
            f"{c.completion_tokens:,}",
            _money(cost.usd(prices, c.model, c.prompt_tokens, c.completion_tokens)),
        )
        for c in calls
    ]
    total = cost.total_usd(calls, prices)
    rows.append(
        (
            "total",
            "",
            "",
            f"{sum(c.requests for c in calls):,}",
            f"{sum(c.prompt_tokens for c in calls):,}",
            f"{sum(c.completion_tokens for c in calls):,}",
            _money(total),
        )
    )
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header))]
    lines = [
        "  ".join(str(v).ljust(w) if i < 3 else str(v).rjust(w) for i, (v, w) in enumerate(zip(r, widths)))
        for r in (header, *rows)
    ]
    return "\n".join([lines[0], "  ".join("-" * w for w in widths), *lines[1:]])


def _money(value: float) -> str:
    return "unpriced" if math.isnan(value) else f"${value:,.2f}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--configfile",
        nargs="+",
        default=[str(ROOT / "config" / "config.yaml")],
        help="config files, merged in order as Snakemake merges them (default: config/config.yaml)",
    )


def run(args: argparse.Namespace) -> int:
    config = load_config(args.configfile, ROOT, check=False)  # the limit is judged below, not refused
    try:
        calls = estimated_calls(config)
    except ConfigError as e:
        print(f"cannot estimate: {e}", file=sys.stderr)
        return 1
    prices = cost.price_table(config["cost"])
    print("Upper bounds: prompt tokens = (template + filled-in text characters) / chars_per_token;")
    print("completion tokens = max_tokens per request (see guiding.llm.cost).\n")
    print(format_table(calls, prices) if calls else "No role of this config asks an LLM: 0 requests, $0.00.")
    limit, total = config["cost"]["limit_usd"], cost.total_usd(calls, prices)
    if unpriced := cost.unpriced_models(calls, prices):
        print(f"\nno price in cost.prices for: {', '.join(unpriced)}")
    if limit is None:
        print("\ncost.limit_usd: none")
        return 0
    if unpriced:
        print(f"\ncost.limit_usd ${limit:,.2f} cannot be checked: the estimate has unpriced models")
        return 1
    verdict = "within" if total <= limit else "ABOVE"
    print(f"\nestimate ${total:,.2f} is {verdict} cost.limit_usd ${limit:,.2f}")
    return 0 if total <= limit else 1
