# rule data_sets_table (rules/report.smk)
from guiding.core.steps import run_step
from guiding.report.steps import data_sets_table

run_step(snakemake, data_sets_table)  # noqa: F821 (snakemake is given by the script directive)
