# rule decompose_tasks (rules/tasks.smk)
from guiding.core.steps import run_step
from guiding.tasks.steps import decompose_tasks

run_step(snakemake, decompose_tasks)  # noqa: F821 (snakemake is given by the script directive)
