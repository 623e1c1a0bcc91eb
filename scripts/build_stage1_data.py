# rule build_stage1_data (rules/student.smk)
from guiding.core.steps import run_step
from guiding.student.steps import build_stage1_data

run_step(snakemake, build_stage1_data)  # noqa: F821 (snakemake is given by the script directive)
