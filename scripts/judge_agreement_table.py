# rule judge_agreement_table (rules/report.smk)
from guiding.core.steps import run_step
from guiding.report.steps import judge_agreement_table

run_step(snakemake, judge_agreement_table)  # noqa: F821 (snakemake is given by the script directive)
