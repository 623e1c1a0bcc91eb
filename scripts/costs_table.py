# rule costs_table (rules/report.smk)
from guiding.core.steps import run_step
from guiding.report.steps import costs_table

run_step(snakemake, costs_table)  # noqa: F821 (snakemake is given by the script directive)
