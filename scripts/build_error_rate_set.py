from guiding import pipeline
from guiding.config import error_rate_set_name
from guiding.logs import log_to_file

log_to_file(snakemake.log[0])
wc = snakemake.wildcards
pipeline.error_rate_set(
    name=error_rate_set_name(wc.kind, wc.teacher, int(wc.error_rate)),
    kind=wc.kind,
    error_rate=int(wc.error_rate),
    pairs_path=snakemake.input.pairs,
    hard_pairs_path=snakemake.input.get("hard_pairs"),
    out_path=snakemake.output[0],
    hard_size=snakemake.params.hard_size,
    subtask_size=snakemake.params.subtask_size,
    seed=snakemake.params.seed,
)
