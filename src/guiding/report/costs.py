"""The cost table: requests, tokens and USD per role and teacher, as the response cache recorded them."""

from __future__ import annotations

from ..core.provenance.sidecar import write_provenance
from ..core.tables import write_table
from ..llm import cost


def costs_table(
    *,
    requests: list[str],
    csv: str,
    md: str,
    provenance_json: str,
    prices: dict,
    response_cache: str,
    chars_per_token: float = 4,
) -> None:
    """The usage of every request that the run's jobs listed (``requests``: their manifests), read
    from the cache at ``response_cache`` and priced by ``prices`` (config ``cost.prices``); a
    request whose cache row was lost is bounded with ``chars_per_token`` (``cost.estimate``)."""
    import pandas as pd

    listed = cost.read_manifest_rows(requests) if requests else {}
    keys = {key: row.get("teacher") or "" for key, row in listed.items()}
    used = cost.used_requests(response_cache, keys, listed, chars_per_token) if keys else []
    rows = cost.cost_rows(used, cost.price_table({"prices": prices}))
    df = pd.DataFrame(rows, columns=list(cost.COST_COLUMNS))
    title = "LLM cost: requests, tokens and USD per role and teacher (NaN: the model has no price)"
    write_table(df, csv, md, title, 6, caption=how_counted(used, response_cache, chars_per_token))
    write_provenance(provenance_json, requests, {"cost": {"prices": prices}}, outputs=[csv, md])


def how_counted(used: list[cost.UsedRequest], response_cache: str, chars_per_token: float) -> str:
    """The caption, where anything was counted otherwise than from a cache row (else none)."""
    lost = [u for u in used if u.lost]
    unanswered = sum(not u.answered and not u.lost for u in used)
    if not lost and not unanswered:
        return ""
    answered = len(used) - len(lost) - unanswered
    parts = [f"Counted from the response cache {response_cache}: {answered} requests billed from their cache rows"]
    if unanswered:
        parts.append(f"{unanswered} unanswered (a failure record in the cache: nothing paid, $0)")
    if lost:
        parts.append(
            f"{len(lost)} whose cache row was lost (no row and no failure record, though a job sent them): "
            f"rows 'row lost: <role>', billed at an estimated upper bound, prompt characters / {chars_per_token:g} "
            "and max_tokens completion tokens each (NaN: no model known)"
        )
    return "; ".join(parts) + ("; the total row adds those bounds" if lost else "") + "."
