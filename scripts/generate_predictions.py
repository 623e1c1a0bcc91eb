# rule generate_predictions (rules/evaluation.smk)
from guiding.core.steps import run_step
from guiding.evaluation.steps import generate_predictions

run_step(snakemake, generate_predictions)  # noqa: F821 (snakemake is given by the script directive)
