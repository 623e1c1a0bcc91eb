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
