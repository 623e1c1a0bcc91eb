"""The workflow end to end through Snakemake itself, on the small test config."""

import csv
import io
import json
import re
from pathlib import Path

import pytest
import report_browser
import yaml
from conftest import SMALL, run_snakemake
from PIL import Image

import guiding.artifacts as A
from guiding.config import stage2_runs
from guiding.core.io import sha256_file
from guiding.report import layout

TABLES = [
    f"{name}.{ext}"
    for name in ("data_sets", "teachers", "error_rate_sweep", "teacher_comparison", "combinations", "findings")
    for ext in ("csv", "md")
]

pytestmark = pytest.mark.workflow


snakemake = run_snakemake


def planned_jobs(output: str) -> dict[str, int]:
    """The 'Job stats' table of a dry run, as {rule: count}."""
    jobs, in_table = {}, False
    for line in output.splitlines():
        if line.startswith("job ") and "count" in line:
            in_table = True
            continue
        if in_table:
            m = re.match(r"^(\w+)\s+(\d+)$", line.strip())
            if m and m[1] != "total":
                jobs[m[1]] = int(m[2])
            elif line.strip().startswith("total"):
                break
    return jobs


@pytest.fixture(scope="module")
def run(small_study):
    return small_study  # shared with other modules: dry runs and reads only


def read_csv(path: Path) -> list[dict]:
    with open(path) as f:
        return list(csv.DictReader(f))


def test_measured_error_rates_equal_the_configured_ones(run):
    config = yaml.safe_load(SMALL.read_text())
    rows = {r["set"]: r for r in read_csv(run / "results" / "tables" / "data_sets.csv")}
    for rate in config["sets"]["error_rate_sweep"]["error_rates"]:
        for kind, size in (("hard", config["sets"]["hard_size"]), ("subtask", config["sets"]["subtask_size"])):
            row = rows[f"{kind}-main-er{rate}"]
            assert int(row["size"]) == size
            assert int(row["incorrect"]) == size * rate // 100
            assert float(row["outcome_ER_%"]) == rate
    # Same outcome ER, different step-wise ER: the weak teacher's wrong solutions have more wrong steps.
    assert float(rows["hard-weak-er50"]["stepwise_ER_%"]) > float(rows["hard-main-er50"]["stepwise_ER_%"])


def test_provenance_names_every_input_with_its_hash(run):
    sidecar = json.loads((run / "results" / "tables" / "data_sets.provenance.json").read_text())
    assert sidecar["inputs"], "no inputs recorded"
    for entry in sidecar["inputs"]:
        assert sha256_file(run / entry["path"]) == entry["sha256"]
    for entry in sidecar["outputs"]:
        assert sha256_file(run / entry["path"]) == entry["sha256"]
    assert sidecar["config"]["sets"]["hard_size"] == 40
    assert sidecar["packages"]["snakemake"] and sidecar["packages"]["pandas"]
    assert "commit" in sidecar["code"] and "dirty" in sidecar["code"]


def test_a_finished_study_has_nothing_left_to_do(run):
    assert "Nothing to be done" in snakemake(run, "-n")


def test_changing_one_error_rate_plans_only_that_set_and_its_dependents(run, tmp_path):
    config = yaml.safe_load(SMALL.read_text())
    config["sets"]["error_rate_sweep"]["error_rates"] = [0, 60]  # 50 -> 60
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(config))
    jobs = planned_jobs(snakemake(run, "-n", configfile=changed))
    expected = {
        "build_error_rate_set": 2,  # hard-main-er60 and subtask-main-er60, nothing else
        "set_statistics": 2,
        "data_sets_table": 1,
        "export_set": 2,  # their TRL and LLaMA-Factory files, and the dataset_info that names them
        "llamafactory_dataset_info": 1,
        "all": 1,
    }
    expected.update(EXTRA_PLANNED_FOR_A_NEW_SET)
    assert jobs == expected


# Downstream of a new set beyond the data tables: its stage-2 run, evaluated on the benchmark.
EXTRA_PLANNED_FOR_A_NEW_SET = {
    "train_stage2": 2,
    "generate_predictions": 2,
    "grade_predictions": 2,
    "result_tables": 1,
    "findings_table": 1,  # the new rate is the sweep's highest: finding 1 compares its hard run
}


def test_adding_a_seed_plans_exactly_the_new_seeds_replicate(run, tmp_path):
    config = yaml.safe_load(SMALL.read_text())
    config["replicates"] = {"seeds": [42, 1]}  # the finished study trained seed 42
    changed = tmp_path / "seeds.yaml"
    changed.write_text(yaml.safe_dump(config))
    output = snakemake(run, "-n", configfile=changed)
    runs = len(stage2_runs(config))
    assert planned_jobs(output) == {
        "train_stage1": 1,  # the new replicate's own stage 1 ...
        "train_stage2": runs,  # ... and every stage-2 run from it; the data and seed 42's models stay
        "generate_predictions": 1 + runs,  # one job per model answers every benchmark
        "grade_predictions": 1 + runs,
        "result_tables": 1,
        "findings_table": 1,
        "all": 1,
    }
    assert "seed42" not in "".join(line for line in output.splitlines() if "output:" in line)


def test_the_findings_table_gives_each_claim_a_verdict_from_its_interval(run):
    rows = read_csv(run / "results" / "tables" / "findings.csv")
    assert {r["benchmark"] for r in rows} == {"hard"}
    assert {int(r["finding"]) for r in rows} == {0, 1, 2, 3}
    for r in rows:
        # The verdict follows from the Holm-adjusted interval; the small config has one seed: items only.
        low, high = float(r["adj_ci_low"]), float(r["adj_ci_high"])
        assert low <= float(r["ci_low"]) <= float(r["ci_high"]) <= high and r["scope"] == "items only"
        verdict = "holds" if low > 0 else "refuted" if high < 0 else "inconclusive"
        assert r["verdict"] == f"{verdict} (items only)" and (verdict != "inconclusive") == (float(r["p_holm"]) < 0.05)


def test_two_runs_from_clean_give_byte_identical_tables(run, tmp_path):
    second = tmp_path / "again"
    second.mkdir()
    snakemake(second, "--cores", "2")
    for name in TABLES:
        assert (run / "results" / "tables" / name).read_bytes() == (
            second / "results" / "tables" / name
        ).read_bytes(), name


# ---------------------------------------------------------------- the Snakemake report


@pytest.fixture(scope="module")
def report(run, tmp_path_factory):
    """`snakemake --report` of the small study: one self-contained HTML file."""
    path = tmp_path_factory.mktemp("report") / "report.html"
    snakemake(run, "--report", str(path))
    return path


def reported_results() -> dict[str, tuple[str, str]]:
    """Every result table and figure the report must hold: {path: (table, Table or Figure)}."""
    tables = [A.FINDINGS, *A.EXPERIMENTS, *layout.DATA_TABLES, A.COST_TABLE]
    return {
        **{A.fill(A.TABLE, table=t, ext="csv"): (t, layout.TABLE) for t in tables},
        **{A.fill(A.FIGURE, figure=f): (f, layout.FIGURE) for f in A.EXPERIMENTS},
    }


def test_the_report_embeds_every_table_and_figure_in_its_category(run, report):
    config = yaml.safe_load(SMALL.read_text())
    results = report_browser.payload(report, "results")
    categories = report_browser.payload(report, "categories")
    assert set(results) == set(reported_results())
    # The menu sorts the categories by name: the findings first.
    assert sorted(categories)[0] == layout.category(A.FINDINGS)
    for path, (table, result) in reported_results().items():
        # Snakemake names a missing subcategory "Other".
        assert path in categories[layout.category(table)][layout.subcategory(table, result) or "Other"], path
        entry = results[path]
        assert entry["labels"] == layout.labels(config, table, result), path
        # What the eye button hands the reader: the file itself.
        assert report_browser.decode_data_uri(entry["data_uri"]) == (run / path).read_bytes(), path
        if result == layout.FIGURE:
            image = Image.open(io.BytesIO(report_browser.decode_data_uri(entry["data_uri"])))
            image.load()  # decodes every pixel
            assert image.format == "PNG" and min(image.size) > 100, path
        else:
            assert "<table" in entry["caption"], f"{path}: the caption embeds no table"
        assert entry["caption"] and "system-message" not in entry["caption"], path
    # The first page's text: the study's description, its links all resolved.
    description = report_browser.payload(report, "workflow_desc", script_id="workflow-desc")
    assert "What makes good supervision for hard reasoning tasks?" in description
    assert "system-message" not in description and "problematic" not in description


@pytest.mark.skipif(
    report_browser.chromium() is None,
    reason="no chromium on PATH: install Debian's package (apt-get install chromium; .ci/run does, as root)",
)
def test_the_report_in_a_browser_opens_on_the_study_and_shows_every_table_and_figure(run, report, tmp_path):
    seen = report_browser.walk(report, tmp_path)
    assert seen["errors"] == [] and seen["done"], seen["errors"]
    # The first page: the study's description, beside (before) the rule graph.
    landing = seen["landing"]
    assert landing["text"].lstrip().startswith("What makes good supervision for hard reasoning tasks?")
    assert 0 <= landing["title_top"] < landing["window_height"] / 4, "the description's title is out of sight"
    assert "How to read a verdict" in landing["text"] and "Where each table comes from" in landing["text"]
    assert 0 <= landing["html"].index("How to read a verdict") < landing["html"].index('id="rulegraph"')
    assert "system-message" not in landing["html"]
    # The menu lists the findings first.
    listed_categories = [item for item in seen["menu"] if item in seen["categories"]]
    assert listed_categories[0] == layout.category(A.FINDINGS)
    assert listed_categories == sorted(seen["categories"])
    rows = {
        row["path"]: (category, subcategory, row)
        for category, subcategories in seen["categories"].items()
        for subcategory, listed in subcategories.items()
        for row in listed
    }
    config = yaml.safe_load(SMALL.read_text())
    assert set(rows) == set(reported_results())
    for path, (table, result) in reported_results().items():
        category, subcategory, row = rows[path]
        assert category == layout.category(table)
        assert row["labels"] == list(layout.labels(config, table, result).values()), path
        panel = seen["panels"][path]
        assert panel["problems"] == 0, f"{path}: the caption has docutils errors"
        data = (run / path).read_bytes()
        if result == layout.FIGURE:
            # The eye button showed the figure, decoded at the PNG's size.
            assert report_browser.decode_data_uri(row["shows"]) == data, path
            width, height = Image.open(run / path).size
            assert seen["images"][path] == {"width": width, "height": height}, path
        else:
            # The eye button downloads the CSV; the info panel shows its cells.
            assert row["download"] == Path(path).name
            assert report_browser.decode_data_uri(row["href"]) == data, path
            with open(run / path, newline="") as f:
                assert panel["cells"] == [[cell.strip() for cell in line] for line in csv.reader(f)], path
