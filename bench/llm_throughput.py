"""Benchmark: the generation client against ``guiding serve`` with a fixed latency per request.

At a concurrency c and a latency L, no client can do better than c / L requests per second. For
each concurrency this times, in one run, on fresh requests each time:

- ``raw``: the openai backend alone (a semaphore of c around ``complete``), nothing stored;
- ``cached``: ``generate`` with a fresh SQLite cache: leases, one commit per response, retries armed.

and prints each throughput as a fraction of c / L, and cached / raw (1 minus it is what leasing and
committing cost). Both run once with the official openai client and once with ``client="aiohttp"``
(the same requests with aiohttp alone; see ``guiding.llm.backends.openai_api``). Modes alternate
over ``--repeats`` rounds and the median is reported, so that a burst of other work on the machine
hits both alike. Client CPU seconds per request are printed too:
on a shared machine the wall-clock fractions depend on what else runs, the CPU cost does not.

    .venv/bin/python bench/llm_throughput.py                  # concurrency 32 and 128, 200 ms
    .venv/bin/python bench/llm_throughput.py --rounds 5 --repeats 1   # a quick run
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

from guiding.llm import ChatRequest, ClientSettings, ResponseCache, Sampling, derive_seed, generate
from guiding.llm.backends.openai_api import OpenAIBackend
from guiding.llm.serve import ServeProcess

ENDPOINT = "bench"


def make_requests(tag: str, n: int) -> list[ChatRequest]:
    return [
        ChatRequest.build(
            endpoint=ENDPOINT,
            model="echo",
            messages=[{"role": "user", "content": f"bench {tag} item {i}: what is {i} + {i}?"}],
            sampling=Sampling(temperature=1.0, max_tokens=256, seed=derive_seed(0, f"{tag}-{i}", 0)),
            template="bench/v1",
            item_id=f"{tag}-{i}",
        )
        for i in range(n)
    ]


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def process_cpu_s(pid: int) -> float:
    """CPU seconds of another process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def raw(backend: OpenAIBackend, requests: list[ChatRequest], concurrency: int) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(request):
        async with gate:
            (completion,) = await backend.complete([request])
            assert completion.text

    await backend.start()
    try:
        await asyncio.gather(*(one(r) for r in requests))
    finally:
        await backend.close()


def run_raw(backend: OpenAIBackend, requests: list[ChatRequest], concurrency: int, path: Path) -> None:
    asyncio.run(raw(backend, requests, concurrency))


def run_cached(backend: OpenAIBackend, requests: list[ChatRequest], concurrency: int, path: Path) -> None:
    with ResponseCache(path) as cache:
        result = generate(requests, backend, cache, ClientSettings(concurrency=concurrency))
    assert result.stats["sent"] == len(requests) and not result.failures


MODES = {"raw": run_raw, "cached": run_cached}


def timed(run, server_pid: int, *args) -> tuple[float, float, float]:
    """(wall, client CPU, server CPU) seconds of ``run(*args)``."""
    wall, cpu, server = time.perf_counter(), cpu_s(), process_cpu_s(server_pid)
    run(*args)
    return time.perf_counter() - wall, cpu_s() - cpu, process_cpu_s(server_pid) - server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=0.2, help="seconds the server adds to every request")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[32, 128])
    parser.add_argument("--rounds", type=int, default=10, help="requests per run = rounds x concurrency")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each mode, alternating")
    parser.add_argument("--clients", nargs="+", default=["openai", "aiohttp"], choices=["openai", "aiohttp"])
    args = parser.parse_args()

    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    with tempfile.TemporaryDirectory() as tmp, ServeProcess("--latency", str(args.latency)) as server:
        for c in args.concurrency:
            backends = {
                client: OpenAIBackend(
                    server.base_url, api_key_env=None, endpoint=ENDPOINT, timeout_s=60, concurrency=c, client=client
                )
                for client in args.clients
            }
            n, ideal = c * args.rounds, c / args.latency
            runs = [(client, mode) for client in backends for mode in MODES]
            results: dict[tuple[str, str], list[tuple[float, float, float]]] = {run: [] for run in runs}
            for repeat in range(-1, args.repeats):  # round -1 warms every path up and is not counted
                for client, mode in runs:
                    requests = make_requests(f"c{c}-{client}-{mode}{repeat}", n if repeat >= 0 else c)
                    db = Path(tmp) / f"c{c}-{client}-{repeat}.db"
                    measured = timed(MODES[mode], server.proc.pid, backends[client], requests, c, db)
                    if repeat >= 0:
                        results[client, mode].append(measured)
            rate = {run: statistics.median(n / wall for wall, _, _ in got) for run, got in results.items()}
            print(f"concurrency {c}, latency {args.latency * 1000:.0f} ms, {n} requests, median of {args.repeats}:")
            for (client, mode), got in results.items():
                client_ms = 1000 * statistics.median(cpu / n for _, cpu, _ in got)
                server_ms = 1000 * statistics.median(cpu / n for _, _, cpu in got)
                print(
                    f"  {client:>7} {mode:>6}: {rate[client, mode]:6.0f}/s = {rate[client, mode] / ideal:6.1%} of "
                    f"{ideal:.0f}/s; CPU per request: client {client_ms:.2f} ms, server {server_ms:.2f} ms"
                )
            for client in backends:
                print(f"  {client:>7} cached/raw {rate[client, 'cached'] / rate[client, 'raw']:.3f}")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
