# rule combine_sets (rules/supervision.smk)
from guiding.core.steps import run_step
from guiding.supervision.steps import combine_sets

run_step(snakemake, combine_sets)  # noqa: F821 (snakemake is given by the script directive)
