# rule build_error_rate_set (rules/supervision.smk)
from guiding.core.steps import run_step
from guiding.supervision.steps import build_error_rate_set

run_step(snakemake, build_error_rate_set)  # noqa: F821 (snakemake is given by the script directive)
