"""The answered ledger: which answers a job has had, so that a lost cache is never paid for twice.

A paid answer lives in the response cache. If that file is deleted, emptied, replaced or swapped
for another, a rerun of a job would find its keys missing and send every request again, paying a
second time without a word. To notice, a job needs evidence that it had those answers before,
kept where the loss of the cache cannot take it:

- The request manifest (``results/data/requests/<job>.jsonl``) is no such evidence. It lists
  the keys a job *asked* (written before sending, so it holds keys that failed or were in flight
  when the job was killed), and it is a Snakemake output: Snakemake deletes it before the job
  reruns, and ``run_step`` starts it empty.
- A record inside the cache is lost with the cache.

So each job that has a manifest also keeps a ledger next to the results, not declared as an
output (Snakemake never deletes it): ``results/data/requests/answered/<job>.jsonl``, one JSON line
``{"key", "model", "prompt_tokens", "completion_tokens"}`` per answer the job obtained, appended
as each answer is committed (a killed job's answers are in it) and, for answers served from the
cache or by another job, when its batch returns. It is append-only and only ever read as a set.

Before sending anything, a job looks up its keys in its ledger: a key the ledger lists that has
no row in the cache is a lost answer. The job stops (``LostAnswers``), naming how many and what
they cost when they were answered, unless ``llm.resend_lost: true``. Deleting ``results/`` deletes
the ledgers with the outputs: a fresh run asks afresh, as it should.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from .cost import Price, usd
from .requests import ChatRequest, Response

LEDGER_FOLDER = "answered"


def ledger_path(manifest: str | Path) -> Path:
    """The ledger of the job whose request manifest is ``manifest``."""
    manifest = Path(manifest)
    return manifest.parent / LEDGER_FOLDER / manifest.name


def read_ledger(path: str | Path) -> dict[str, dict]:
    """Key -> ledger row (the first one of each key); empty when there is no ledger yet.

    A line cut short by a killed job (the last one) is skipped.
    """
    rows: dict[str, dict] = {}
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return rows
    for line in lines:
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and "key" in row:
            rows.setdefault(row["key"], row)
    return rows


class Ledger:
    """Appends a job's answers to its ledger at ``path``, each key once."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.known = read_ledger(self.path)

    def record(self, answered: Iterable[tuple[ChatRequest, Response]]) -> None:
        lines = []
        for request, response in answered:
            if request.key in self.known:
                continue
            row = {
                "key": request.key,
                "model": request.model,
                "prompt_tokens": response.prompt_tokens,
                "completion_tokens": response.completion_tokens,
            }
            self.known[request.key] = row
            lines.append(json.dumps(row, sort_keys=True) + "\n")
        if lines:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as f:
                f.writelines(lines)


class LostAnswers(RuntimeError):
    """Answers a job had before are missing from the cache; sending them again would pay twice."""

    def __init__(self, lost: Mapping[str, dict], asked: int, ledger: Path, cache: Path, prices: Mapping[str, Price]):
        self.lost = dict(lost)
        prompt = sum(r.get("prompt_tokens") or 0 for r in lost.values())
        completion = sum(r.get("completion_tokens") or 0 for r in lost.values())
        models = {r.get("model", "") for r in lost.values()}
        unpriced = sorted(m for m in models if m not in prices)
        cost = sum(
            usd(prices, r["model"], r.get("prompt_tokens") or 0, r.get("completion_tokens") or 0)
            for r in lost.values()
            if r.get("model", "") in prices
        )
        priced = f", about ${cost:.4f} at cost.prices" if len(unpriced) < len(models) else ""
        if unpriced:
            priced += f"; no price in cost.prices for {unpriced}"
        super().__init__(
            f"{len(lost)} of this job's {asked} requests were answered before (its ledger {ledger} lists them) "
            f"but have no answer in the response cache {cache}: the cache was replaced, emptied or lost rows. "
            f"Sending them again would pay for them twice ({prompt} prompt + {completion} completion tokens "
            f"when they were answered{priced}). Restore the cache from a backup or point llm.cache at the right "
            "file; or set llm.resend_lost: true to send them again."
        )


def lost_answers(ledger: Mapping[str, dict], requests: Iterable[ChatRequest], present: set[str]) -> dict[str, dict]:
    """The ledger rows of those ``requests`` the ledger lists that have no row (not in ``present``)."""
    return {r.key: ledger[r.key] for r in requests if r.key in ledger and r.key not in present}
