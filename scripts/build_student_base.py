# rule build_student_base (rules/student.smk)
from guiding.core.steps import run_step
from guiding.student.steps import build_student_base

run_step(snakemake, build_student_base)  # noqa: F821 (snakemake is given by the script directive)
