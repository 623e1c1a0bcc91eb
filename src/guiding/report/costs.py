"""The cost table: requests, tokens and USD per role and teacher, as the response cache recorded them."""

from __future__ import annotations

from ..core.provenance import write_provenance
from ..core.tables import write_table
from ..llm import cost


def costs_table(
    *, requests: list[str], csv: str, md: str, provenance_json: str, prices: dict, response_cache: str
) -> None:
    """The usage of every request that the run's jobs listed (``requests``: their manifests), read
    from the cache at ``response_cache`` and priced by ``prices`` (config ``cost.prices``)."""
    import pandas as pd

    used = cost.used_requests(response_cache, cost.read_manifests(requests)) if requests else []
    rows = cost.cost_rows(used, cost.price_table({"prices": prices}))
    df = pd.DataFrame(rows, columns=list(cost.COST_COLUMNS))
    write_table(df, csv, md, "LLM cost: requests, tokens and USD per role and teacher (NaN: the model has no price)", 6)
    write_provenance(provenance_json, requests, {"cost": {"prices": prices}}, outputs=[csv, md])
