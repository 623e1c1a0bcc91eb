"""Where each result table and figure appears in the Snakemake report (`snakemake --report`).

`rules/report.smk` declares every table and figure with Snakemake's ``report()`` flag, taking its
category, subcategory and labels from here, and the report test checks the built report against
the same names. The report's menu sorts categories by name, so their names are numbered: the
findings come first, then the three experiments in the paper's order, then the data and the costs.

An experiment's table and figure sit in subcategories of their own ("Table", "Figure"): the report
shows the results of one subcategory as rows of their labels, and where two results differ in one
label only it offers that label as a switch between them, which breaks when the other labels
differ too (a figure that shows fewer benchmarks than its table). One result per row never does.
"""

from __future__ import annotations

from ..artifacts import COST_TABLE, EXPERIMENTS, FINDINGS, error_rate_set_name
from ..config import claimed_comparisons

# The data tables, each with its labels in the report: what it is and what it has a row for. A
# table here is built by the default target (rule all) and shown under "5. Data".
DATA_TABLES = {
    "data_sets": {"table": "supervision sets", "rows": "every supervision set"},
    "teachers": {"table": "teachers", "rows": "every teacher and kind of supervision"},
    "judge_agreement": {"table": "judge agreement", "rows": "every teacher and kind of supervision"},
}
COST_LABELS = {"table": "LLM costs", "rows": "every LLM role and teacher"}

CATEGORIES = {
    FINDINGS: "1. Findings",
    "error_rate_sweep": "2. Error-rate sweep",
    "teacher_comparison": "3. Teacher comparison",
    "combinations": "4. Combinations",
    **dict.fromkeys(DATA_TABLES, "5. Data"),
    COST_TABLE: "6. Costs",
}
TABLE, FIGURE = "Table", "Figure"  # the subcategories of an experiment's results


def category(table: str) -> str:
    """The report category of ``table`` (an experiment's figure shares its table's)."""
    return CATEGORIES[table]


def subcategory(table: str, result: str) -> str | None:
    """``Table`` or ``Figure`` (``result``) for an experiment, none for the others."""
    return result if table in EXPERIMENTS else None


def benchmark_labels(config: dict) -> list[str]:
    """The benchmarks' labels (their column prefixes in the tables), in the config's order."""
    return [b["label"] for b in config["evaluation"]["benchmarks"].values()]


def settings(config: dict, table: str) -> str:
    """The settings a result table or figure compares, in words."""
    sets = config["sets"]
    if table == "error_rate_sweep":
        sweep = sets["error_rate_sweep"]
        rates = ", ".join(str(r) for r in sweep["error_rates"])
        return f"hard and subtask supervision at outcome ER {rates}% (teacher {sweep['teacher']}); stage 1 alone"
    if table == "teacher_comparison":
        comparison = sets["teacher_comparison"]
        return f"teachers {', '.join(comparison['teachers'])} at outcome ER {comparison['error_rate']}%; stage 1 alone"
    if table == "combinations":
        sweep_teacher = sets["error_rate_sweep"]["teacher"]
        parts = (
            "+".join(
                error_rate_set_name(p["kind"], p.get("teacher", sweep_teacher), p["error_rate"])
                + (" (paraphrased)" if p.get("paraphrase") else "")
                for p in combo
            )
            for combo in sets["combinations"].values()
        )
        extra = list(config.get("extra_runs", {}))
        return "; ".join([*parts, *extra, "stage 1 alone"])
    if table == FINDINGS:
        claims = claimed_comparisons(config)
        findings = dict.fromkeys(str(c["finding"]) for c in claims)
        return f"{len(claims)} comparisons of the claims {', '.join(findings)}"
    raise ValueError(f"{table!r} compares no settings (not one of {[*EXPERIMENTS, FINDINGS]})")


def labels(config: dict, table: str, result: str = TABLE) -> dict[str, str]:
    """The labels of a table or an experiment's figure (``result``) in the report: for the findings
    and the experiments the benchmarks it covers and the settings it compares (the bar charts show
    the first benchmark only), for a data table what it is and what it has a row for."""
    if table in DATA_TABLES:
        return dict(DATA_TABLES[table])
    if table == COST_TABLE:
        return dict(COST_LABELS)
    benchmarks = benchmark_labels(config)
    if result == FIGURE and table != "error_rate_sweep":
        benchmarks = benchmarks[:1]
    return {"benchmarks": ", ".join(benchmarks), "settings": settings(config, table)}
