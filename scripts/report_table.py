# every table rule of rules/report.smk: the step named like the rule (guiding.report.steps.table_step)
from guiding.core.steps import run_step
from guiding.report.steps import table_step

run_step(snakemake, table_step(snakemake.rule))  # noqa: F821 (snakemake is given by the script directive)
