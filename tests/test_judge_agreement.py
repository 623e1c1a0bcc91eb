"""The judge agreement table: second opinions against the verdicts the sets use."""

import math

import pandas as pd

from guiding import artifacts as A
from guiding.core.io import write_jsonl
from guiding.report.data_tables import judge_agreement_table


def test_agreement_counts_each_disagreement_and_leaves_unconfigured_opinions_empty(tmp_path):
    judged = tmp_path / A.fill(A.JUDGED, teacher="main", kind="hard")
    write_jsonl(
        judged,
        [
            # agrees on the result; one of three steps labelled otherwise
            {"correct": True, "judge_correct": True, "step_verdicts": [True, True, True],
             "check_step_verdicts": [True, False, True]},
            # disagrees on the result; a step the check could not judge is left out
            {"correct": False, "judge_correct": True, "step_verdicts": [True, False],
             "check_step_verdicts": [None, False]},
            # the final judge said N/A
            {"correct": False, "judge_correct": None, "step_verdicts": [False], "check_step_verdicts": [False]},
        ],
    )  # fmt: skip
    plain = tmp_path / A.fill(A.JUDGED, teacher="weak", kind="hard")
    write_jsonl(plain, [{"correct": True, "step_verdicts": [True]}])
    out = {x: str(tmp_path / f"agreement.{x}") for x in ("csv", "md", "provenance_json")}
    judge_agreement_table(judged=[str(judged), str(plain)], config={}, **out)
    rows = pd.read_csv(out["csv"]).set_index("teacher")
    main, weak = rows.loc["main"], rows.loc["weak"]
    assert main["samples"] == 3 and main["final_compared"] == 2 and main["final_judge_na"] == 1
    assert main["final_agreement_%"] == 50
    assert main["steps_compared"] == 5 and main["step_agreement_%"] == 80
    assert main["stepwise_ER_step_judge_%"] == 40 and main["stepwise_ER_second_judge_%"] == 60
    assert (
        weak["final_compared"] == 0 and math.isnan(weak["final_agreement_%"]) and math.isnan(weak["step_agreement_%"])
    )


def _agreement(tmp_path, final_flip: float, step_flip: float) -> pd.Series:
    """The agreement table of simulated judges that flip verdicts at these rates, on 200 solutions
    of a teacher that errs (the truth: the answer module and the exact step checker)."""
    from guiding.judging.embedded import ExactStepJudge
    from guiding.judging.llm import LLMFinalJudge, LLMStepJudge
    from guiding.judging.steps import judge_samples
    from guiding.llm import roles
    from guiding.teachers.embedded import SimulatedTeacher
    from guiding.world.generate import generate_splits

    sizes = {"train_easy": 1, "train_hard": 200, "eval_easy": 1, "eval_hard": 1}
    tasks = generate_splits(3, sizes, [1, 2], [3, 5])["train_hard"]
    teacher = SimulatedTeacher("main", 0.2, "slip")
    samples = [{"task_id": t["id"], "sample": 0, "solution": teacher.solve(t, 0)} for t in tasks]

    def judge(role: str, flip: dict):
        spec = {"backend": "simulated", "endpoint": "simulated", "model": "judge", "settings": flip}
        return (LLMFinalJudge if role == "final" else LLMStepJudge)(spec)

    roles.set_runtime(roles.Runtime(cache=str(tmp_path / f"cache-{final_flip}-{step_flip}.sqlite")))
    try:
        judged_rows = judge_samples(
            tasks,
            samples,
            ExactStepJudge(),
            final_judge=judge("final", {"final_judge_flip": final_flip}),
            step_judge_check=judge("steps", {"step_judge_flip": step_flip}),
        )
    finally:
        roles.set_runtime(roles.Runtime())
    judged = tmp_path / f"{final_flip}-{step_flip}" / A.fill(A.JUDGED, teacher="main", kind="hard")
    write_jsonl(judged, judged_rows)
    out = {x: str(tmp_path / f"agreement-{final_flip}-{step_flip}.{x}") for x in ("csv", "md", "provenance_json")}
    judge_agreement_table(judged=[str(judged)], config={}, **out)
    return pd.read_csv(out["csv"]).iloc[0]


def test_the_simulated_judges_agreement_tracks_their_configured_noise(tmp_path):
    exact = _agreement(tmp_path, 0.0, 0.0)
    assert exact["final_agreement_%"] == exact["step_agreement_%"] == 100
    assert 0 < exact["stepwise_ER_step_judge_%"] == exact["stepwise_ER_second_judge_%"]
    noisy = _agreement(tmp_path, 0.2, 0.1)
    # Binomial noise around 1 - flip: 200 verdicts (SE 2.8 points), about 800 steps (SE 1.1 points).
    assert noisy["final_compared"] == exact["final_compared"] and noisy["steps_compared"] == exact["steps_compared"]
    assert abs(noisy["final_agreement_%"] - 80) < 3 * 2.8 and abs(noisy["step_agreement_%"] - 90) < 3 * 1.1
    # A judge that flips labels at random sees a step-wise error rate pulled towards 50%.
    truth, seen = noisy["stepwise_ER_step_judge_%"], noisy["stepwise_ER_second_judge_%"]
    assert truth == exact["stepwise_ER_step_judge_%"] and abs(seen - (0.9 * truth + 0.1 * (100 - truth))) < 3
