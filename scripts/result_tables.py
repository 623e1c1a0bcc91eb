# rule result_tables (rules/report.smk)
from guiding.core.steps import run_step
from guiding.report.steps import result_tables

run_step(snakemake, result_tables)  # noqa: F821 (snakemake is given by the script directive)
