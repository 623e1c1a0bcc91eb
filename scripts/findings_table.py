# rule findings_table (rules/report.smk)
from guiding.core.steps import run_step
from guiding.report.steps import findings_table

run_step(snakemake, findings_table)  # noqa: F821 (snakemake is given by the script directive)
