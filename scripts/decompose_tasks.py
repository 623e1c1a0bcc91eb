from guiding import pipeline
from guiding.logs import log_to_file

log_to_file(snakemake.log[0])
pipeline.decompose_tasks(
    snakemake.input[0],
    snakemake.output[0],
    snakemake.params.decomposition,
    snakemake.params.shuffle,
)
