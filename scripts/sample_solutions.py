from guiding import pipeline
from guiding.logs import log_to_file

log_to_file(snakemake.log[0])
pipeline.sample(
    snakemake.input[0],
    snakemake.output[0],
    snakemake.wildcards.teacher,
    snakemake.params.teacher,
    snakemake.params.sampling,
)
