# rule export_set (rules/supervision.smk)
from guiding.core.steps import run_step
from guiding.supervision.steps import export_set

run_step(snakemake, export_set)  # noqa: F821 (snakemake is given by the script directive)
