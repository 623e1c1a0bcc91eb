from guiding import pipeline
from guiding.logs import log_to_file

log_to_file(snakemake.log[0])
pipeline.pairs(
    snakemake.input.tasks,
    snakemake.input.judged,
    snakemake.output.pairs,
    snakemake.output.stats,
    snakemake.params.seed,
)
