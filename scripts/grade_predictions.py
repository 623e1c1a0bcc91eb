# rule grade_predictions (rules/evaluation.smk)
from guiding.core.steps import run_step
from guiding.evaluation.steps import grade_predictions

run_step(snakemake, grade_predictions)  # noqa: F821 (snakemake is given by the script directive)
