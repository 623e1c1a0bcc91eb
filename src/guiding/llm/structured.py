"""Reading a structured reply (one asked for with a JSON schema, see ``guiding.llm.schemas``).

The whole reply must be one JSON value that validates against its template's schema; it is then
read by the template's own parser (``guiding.llm.parsers.PARSERS``), which reads that shape, so a
stage cannot tell which way an answer came and both ways make the same checks. Nothing is repaired
or guessed: an endpoint that promised the shape and did not keep it gets ``invalid_json`` or
``schema_mismatch``.
"""

from __future__ import annotations

import json

from jsonschema import Draft202012Validator

from .parsers import PARSERS, Parsed, failed
from .schemas import schema_label, schema_of


def parse_structured(template: str, text: str, *args) -> Parsed:
    """The ``Parsed`` value of a structured reply to ``template`` ("judge_final/v1" or "judge_final.v1")."""
    schema = schema_of(template)
    if schema is None:
        raise ValueError(f"template {template!r} has no JSON schema (guiding.llm.schemas)")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return failed("invalid_json")
    if not Draft202012Validator(schema).is_valid(data):
        return failed("schema_mismatch")
    return PARSERS[schema_label(template).split(".")[0]](text, *args)
