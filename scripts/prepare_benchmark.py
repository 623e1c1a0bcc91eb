# rule prepare_benchmark (rules/evaluation.smk)
from guiding.core.steps import run_step
from guiding.evaluation.steps import prepare_benchmark

run_step(snakemake, prepare_benchmark)  # noqa: F821 (snakemake is given by the script directive)
