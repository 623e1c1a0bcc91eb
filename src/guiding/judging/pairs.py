"""One correct and one incorrect solution per task, as the paper keeps them.

A task with no incorrect sample is dropped (it cannot serve an error-rate grid). A task
with no correct sample gets the reference solution rewritten by the teacher in its own words (as
the paper does) when a rewriter is given, else the reference as it is. A rewrite stands in for
the reference only when the answer module finds the task's answer in it: one that failed
(``rewrite_failed``) or reaches another answer (``rewrite_incorrect``, a model's nonsense or a slip)
falls back to the reference, which is correct by definition, so the correct side stays correct.
"""

from __future__ import annotations

import random
from collections import defaultdict

from ..answers import grade
from .seams import Rewriter, StepJudge


def build_pairs(
    tasks: list[dict], judged: list[dict], seed: int, step_judge: StepJudge, rewriter: Rewriter | None = None
) -> tuple[list[dict], dict]:
    samples = defaultdict(list)
    for s in judged:
        samples[s["task_id"]].append(s)
    needs_rewrite = [t for t in tasks if samples[t["id"]] and not any(s["correct"] for s in samples[t["id"]])]
    rewrites = dict(zip((t["id"] for t in needs_rewrite), rewriter.rewrite_all(needs_rewrite))) if rewriter else {}
    pairs, stats = [], {"tasks": len(tasks), "dropped_no_incorrect": 0, "reference_rewritten": 0}
    stats.update(rewrite_failed=0, rewrite_incorrect=0)
    for task in tasks:
        rng = random.Random(f"{seed}:pair:{task['id']}")
        ordered = sorted(samples[task["id"]], key=lambda s: s["sample"])
        correct = [s for s in ordered if s["correct"]]
        incorrect = [s for s in ordered if not s["correct"]]
        if not incorrect:
            stats["dropped_no_incorrect"] += 1
            continue
        if correct:
            chosen = rng.choice(correct)
            good = {"solution": chosen["solution"], "step_verdicts": chosen["step_verdicts"], "source": "sample"}
        else:
            stats["reference_rewritten"] += 1
            text = rewrites.get(task["id"])
            if rewriter is not None and text is None:
                stats["rewrite_failed"] += 1
            elif text is not None and not grade(task["answer"], text)["correct"]:
                stats["rewrite_incorrect"] += 1
                text = None
            text, source = (text, "rewritten") if text is not None else (task["solution"], "reference")
            good = {"solution": text, "step_verdicts": step_judge.judge_steps(task, text), "source": source}
        bad = rng.choice(incorrect)
        pairs.append(
            {
                "task_id": task["id"],
                "kind": task["kind"],
                "parent_id": task.get("parent_id"),
                "problem": task["problem"],
                "answer": task["answer"],
                "n_steps": task["n_steps"],
                "correct": good,
                "incorrect": {"solution": bad["solution"], "step_verdicts": bad["step_verdicts"], "source": "sample"},
            }
        )
    stats["pairs"] = len(pairs)
    return pairs, stats
