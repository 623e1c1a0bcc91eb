"""A generation job in a process of its own, against guiding serve (the kill and two-job tests).

    python tests/llm_job.py BASE_URL CACHE START STOP OUT [--concurrency N] [--start-file F]

Asks for the echo answers of items START..STOP-1 and writes their texts and the call's stats to OUT.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from guiding.llm import ChatRequest, ClientSettings, ResponseCache, Sampling, derive_seed, generate  # noqa: E402
from guiding.llm.backends.openai_api import OpenAIBackend  # noqa: E402

ENDPOINT = "test-serve"  # the server's port changes from run to run; its identity does not


def job_requests(start: int, stop: int) -> list[ChatRequest]:
    return [
        ChatRequest.build(
            endpoint=ENDPOINT,
            model="echo",
            messages=[{"role": "user", "content": f"item {i}"}],
            sampling=Sampling(temperature=1.0, max_tokens=64, seed=derive_seed(0, f"item-{i}", 0)),
            template="job/v1",
            item_id=f"item-{i}",
        )
        for i in range(start, stop)
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("base_url", "cache", "start", "stop", "out"):
        parser.add_argument(name)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--ready-file", default=None, help="create this file once ready to send")
    parser.add_argument("--start-file", default=None, help="wait for this file before sending (a start line)")
    args = parser.parse_args()
    backend = OpenAIBackend(args.base_url, api_key_env=None, endpoint=ENDPOINT, timeout_s=30)
    requests = job_requests(int(args.start), int(args.stop))
    with ResponseCache(args.cache) as cache:
        if args.ready_file:
            Path(args.ready_file).touch()
        if args.start_file:
            while not Path(args.start_file).exists():
                time.sleep(0.01)
        result = generate(requests, backend, cache, ClientSettings(concurrency=args.concurrency, poll_s=0.05))
    Path(args.out).write_text(json.dumps({"texts": result.texts(), "stats": result.stats}))


if __name__ == "__main__":
    main()
