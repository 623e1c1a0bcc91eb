# rule convert_benchmark (rules/evaluation.smk)
from guiding.core.steps import run_step
from guiding.evaluation.steps import convert_benchmark

run_step(snakemake, convert_benchmark)  # noqa: F821 (snakemake is given by the script directive)
