from guiding import reports
from guiding.logs import log_to_file

log_to_file(snakemake.log[0])
reports.teachers_table(
    list(snakemake.input.judged),
    list(snakemake.input.pair_stats),
    snakemake.params.config["teachers"],
    snakemake.output,
    snakemake.params.config,
)
