# rule generate_tasks (rules/tasks.smk)
from guiding.core.steps import run_step
from guiding.tasks.steps import generate_tasks

run_step(snakemake, generate_tasks)  # noqa: F821 (snakemake is given by the script directive)
