from guiding import results
from guiding.logs import log_to_file

log_to_file(snakemake.log[0])
results.write_results(
    graded=list(snakemake.input.graded),
    set_stats=list(snakemake.input.set_stats),
    output=snakemake.output,
    config=snakemake.params.config,
    runs=snakemake.params.runs,
)
