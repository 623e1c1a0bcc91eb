"""Benchmark: grading one pair at a time in one process versus guiding.answers.grade_many on all cores.

The pairs come from MATH-500: each gold answer against (1) its reference solution, (2) the solution
with the boxed answer restated in an equivalent form, (3) with a digit of the answer changed, and
(4) with another problem's answer. Half are right, and most need math-verify rather than a plain
number comparison (integers are restated as fractions). Both runs grade the same pairs and must give
the same verdicts; a disagreement can only come from a time limit (math-verify's own 5 s of wall time
in both, ``--timeout`` CPU seconds per item in grade_many), and is listed with its timeout flags.

    .venv/bin/python bench/grading.py            # 10,000 pairs
    .venv/bin/python bench/grading.py --n 1000   # a quick run
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import time
from pathlib import Path

from guiding.answers import extract_answer, grade, grade_many

DEFAULT_DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "benchmarks" / "math500.jsonl"
PLAIN_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
INTEGER = re.compile(r"^-?\d+$")


def restated(answer: str) -> str:
    """An equivalent answer in other words: an integer as a fraction, \\dfrac, no \\left/\\right, spaced commas."""
    if INTEGER.match(answer):
        return rf"\frac{{{2 * int(answer)}}}{{2}}"
    return answer.replace(r"\frac", r"\dfrac").replace(r"\left", "").replace(r"\right", "").replace(",", ", ")


def digit_changed(answer: str) -> str | None:
    """A wrong answer: its first digit plus one (an integer result restated as a fraction), or None."""
    digit = re.search(r"\d", answer)
    if digit is None:
        return None
    changed = answer[: digit.start()] + str((int(digit.group()) + 1) % 10) + answer[digit.end() :]
    return restated(changed) if INTEGER.match(changed) else changed


def with_answer(solution: str, answer: str) -> str:
    """The solution with its last boxed answer replaced."""
    start = solution.rindex(r"\boxed")
    depth = 0
    for end in range(solution.index("{", start), len(solution)):
        depth += {"{": 1, "}": -1}.get(solution[end], 0)
        if depth == 0:
            break
    return solution[:start] + rf"\boxed{{{answer}}}" + solution[end + 1 :]


def build_pairs(rows: list[dict], n: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    variants = []
    for row in rows:
        gold, solution = row["answer"], row["solution"]
        other = rng.choice([r["answer"] for r in rows if r["answer"] != gold])
        wrong = digit_changed(gold) or other
        variants.append([(gold, solution), (gold, with_answer(solution, restated(gold)))])
        variants[-1] += [(gold, with_answer(solution, wrong)), (gold, with_answer(solution, other))]
    pairs = [variants[(i // 4) % len(rows)][i % 4] for i in range(n)]
    rng.shuffle(pairs)  # as an evaluation run would meet them: no run of one problem's pairs
    return pairs


def _children_cpu() -> float:
    """CPU seconds of this process's finished children (grade_many's workers, once it has ended them)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000, help="number of (gold, prediction) pairs")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="MATH-500 jsonl (problem, solution, answer)")
    parser.add_argument("--workers", type=int, default=None, help="grade_many's worker processes (default: all cores)")
    parser.add_argument("--timeout", type=float, default=3.0, help="grade_many's per-item limit in CPU seconds")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rows = [json.loads(line) for line in args.data.read_text(encoding="utf-8").splitlines() if line.strip()]
    pairs = build_pairs(rows, args.n, args.seed)
    plain = sum(
        bool(PLAIN_NUMBER.match(gold.strip()) and PLAIN_NUMBER.match(extract_answer(text) or ""))
        for gold, text in pairs
    )
    print(f"{len(pairs)} pairs, {plain} of them plain numbers on both sides; cores: {len(os.sched_getaffinity(0))}")
    import math_verify  # noqa: F401  (loaded before either clock starts)

    # grade_many first: its workers are forked from this process, and must not inherit caches warmed by the serial run.
    start, cpu, children_cpu = time.perf_counter(), time.process_time(), _children_cpu()
    parallel, report = grade_many(pairs, workers=args.workers, timeout=args.timeout)
    parallel_s = time.perf_counter() - start
    parallel_cpu = time.process_time() - cpu + _children_cpu() - children_cpu
    start, cpu = time.perf_counter(), time.process_time()
    serial = [grade(gold, text) for gold, text in pairs]
    serial_s, serial_cpu = time.perf_counter() - start, time.process_time() - cpu

    disagreements = [i for i, (s, p) in enumerate(zip(serial, parallel)) if s["correct"] != p["correct"]]
    rate = len(pairs) / serial_s, len(pairs) / parallel_s
    print(f"(a) grade, one pair at a time: {serial_s:7.2f} s wall, {serial_cpu:7.2f} s CPU, {rate[0]:6.1f} pairs/s")
    print(
        f"(b) grade_many, {report['workers']} workers:     {parallel_s:7.2f} s wall, {parallel_cpu:7.2f} s CPU, ",
        end="",
    )
    print(f"{rate[1]:6.1f} pairs/s (CPU of this process and its workers)")
    print(f"speed-up: {serial_s / parallel_s:.2f}x; CPU of (b) per CPU second of (a): {parallel_cpu / serial_cpu:.2f}")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the end")
    print(f"correct: (a) {sum(s['correct'] for s in serial)}, (b) {report['correct']}; ", end="")
    print(f"timed out: (a) {sum(s['timed_out'] for s in serial)}, (b) {report['timed_out']}")
    print(f"disagreements: {len(disagreements)}")
    for i in disagreements:
        print(f"  gold {pairs[i][0]!r}: (a) {serial[i]}, (b) {parallel[i]}")


if __name__ == "__main__":
    main()
