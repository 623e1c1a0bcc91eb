# rule train_stage2 (rules/student.smk)
from guiding.core.steps import run_step
from guiding.student.steps import train_stage2

run_step(snakemake, train_stage2)  # noqa: F821 (snakemake is given by the script directive)
