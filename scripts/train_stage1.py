# rule train_stage1 (rules/student.smk)
from guiding.core.steps import run_step
from guiding.student.steps import train_stage1

run_step(snakemake, train_stage1)  # noqa: F821 (snakemake is given by the script directive)
