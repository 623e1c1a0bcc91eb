from guiding.io import read_jsonl, write_json
from guiding.logs import log_to_file
from guiding.student import build_student_base

log_to_file(snakemake.log[0])
student = snakemake.params.student
# The tokenizer learns from the text the student will read and write: problems and solutions.
texts = [f"{t['problem']}\n{t['solution']}" for path in snakemake.input for t in read_jsonl(path)]
info = build_student_base(texts, snakemake.output[0], student["vocab_size"], student["architecture"], student["seed"])
print(info)
