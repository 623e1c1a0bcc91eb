"""The authors' released data: reading it (``readers``), importing it as the pipeline's own files
(``importer``, from a local copy or the hub: ``hub``), and writing the pipeline's pairs and samples back
in the authors' layout (``exporters``, the readers' inverses). ``layout`` holds what they share.

He, Yin and Peng released their supervision as the Hugging Face dataset ``hexuan21/weak-to-strong``:

- ``task_sol_pairs/<pool>/*.json``: ``{ori_id, original: {task, pos_ans, neg_ans}, subtask_1: {...}, ...}``,
  the main teacher's pair of each hard task and of its subtasks;
- ``weaker_sampling/<teacher>/*.json``: ``{ori_id, task, ground_truth, sample1.., judge1..}``, the
  weaker teachers' samples of the hard tasks with the authors' judge labels (1 correct, 0 not);
- ``paraphrase/<pool>/*.json``: ``{ori_id, task, pos_ans, neg_ans}``, reworded hard-task pairs;
- ``test_data/*.json``: ``{question, ground_truth}``, the benchmarks as the authors asked them.

The layouts are undocumented (read off the authors' code), so every record is checked: what cannot
be read is counted by reason and file in the import report, a file none of whose records fits its
folder's layout fails the import (naming the file and its first bad record), and a pair missing a
side is dropped, never completed. Files may be JSON lists or JSONL.

The importer writes what the pipeline's own rules write (pair records, samples, judged samples)
so that the set builder, training and evaluation run unchanged. A pair side carries no step
verdicts in the released data: every written step gets None (the judge could not tell). Pairs
exported by :func:`export_pairs` carry what the authors' layout has no key for (task ids,
answers, step verdicts, sources, file order) under the extra key ``guiding`` inside each pair,
which the importer reads back, so an exported study imports byte-identically.
"""

from .exporters import export_pairs, export_weaker_sampling
from .hub import download
from .importer import Imported, import_released, judge_released_samples
from .layout import DATASET, FOLDERS, JUDGE_LABELS, ReleasedDataError, Tally, UnknownStepJudge, data_files, read_records
from .readers import pairs_from_records, paraphrases_from_records, samples_from_records, test_rows_from_records

__all__ = [
    "DATASET",
    "FOLDERS",
    "JUDGE_LABELS",
    "Imported",
    "ReleasedDataError",
    "Tally",
    "UnknownStepJudge",
    "data_files",
    "download",
    "export_pairs",
    "export_weaker_sampling",
    "import_released",
    "judge_released_samples",
    "pairs_from_records",
    "paraphrases_from_records",
    "read_records",
    "samples_from_records",
    "test_rows_from_records",
]
