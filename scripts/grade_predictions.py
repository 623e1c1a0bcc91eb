from guiding.evaluation import grade_predictions
from guiding.io import read_jsonl, write_jsonl
from guiding.logs import log_to_file

log_to_file(snakemake.log[0])
graded = grade_predictions(read_jsonl(snakemake.input.tasks), read_jsonl(snakemake.input.predictions))
write_jsonl(snakemake.output[0], graded)
print(f"accuracy {sum(g['correct'] for g in graded)}/{len(graded)}")
