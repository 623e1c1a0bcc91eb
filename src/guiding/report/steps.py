"""Step functions of rules/report.smk (the tables are built in the modules named for them)."""

from .costs import costs_table
from .data_tables import data_sets_table, judge_agreement_table, teachers_table
from .findings import findings_table
from .result_tables import result_tables

__all__ = [
    "costs_table",
    "data_sets_table",
    "judge_agreement_table",
    "teachers_table",
    "result_tables",
    "findings_table",
]
