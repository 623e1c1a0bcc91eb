"""Step functions of rules/report.smk (the tables are built in the modules named for them).

Every table rule runs ``scripts/report_table.py``, which calls the step named like the rule
(``table_step``): one of these, or, for a table added since, ``<table>_table`` in the module
``guiding.report.<table>``, so that adding a table needs no new script.
"""

import importlib

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


def table_step(rule: str):
    """The step function of the table rule ``rule``."""
    if rule in __all__:
        return globals()[rule]
    table = rule.removesuffix("_table")
    return getattr(importlib.import_module(f"{__package__}.{table}"), rule)
