from guiding import pipeline
from guiding.logs import log_to_file

log_to_file(snakemake.log[0])
pipeline.filter_subtasks(
    snakemake.input.subtasks,
    snakemake.input.tasks,
    snakemake.output.kept,
    snakemake.output.report,
    snakemake.params.decomposition,
)
