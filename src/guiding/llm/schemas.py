"""The JSON shapes of the answers that have one, by prompt template: what a role asks for where its
endpoint offers structured outputs (``llm.endpoints.<name>.structured_outputs: json_schema``).

Each schema follows the rules of OpenAI's strict mode (every property required, no other
properties, ``null`` through ``anyOf``), which vLLM's guided decoding reads as well. The schema sent
is part of the request's key, so editing one here means new keys, never a stale answer to another
shape: change a template's schema only together with a new template version.

Free-text templates (solve, rewrite, paraphrase, translate) have no schema and never ask for one.
"""

from __future__ import annotations

_BINARY = {"type": "integer", "enum": [0, 1]}


def _object(**properties) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


_NULLABLE_STRING = {"anyOf": [{"type": "string"}, {"type": "null"}]}

# Template label ("decompose.v1") -> JSON schema of its answer.
SCHEMAS: dict[str, dict] = {
    "decompose.v1": _object(
        subtasks={"type": "array", "items": _object(problem={"type": "string"}, solution={"type": "string"})}
    ),
    "filter_ill_defined.v1": _object(answer=_BINARY),
    "filter_near_duplicate.v1": _object(answer=_BINARY),
    "filter_too_few_steps.v1": _object(steps={"type": "integer"}),
    "judge_final.v1": _object(verdict={"type": "string", "enum": ["1", "0", "N/A"]}),
    "judge_steps.v1": _object(steps={"type": "array", "items": _BINARY}),
    "convert_open.v1": _object(
        drop={"anyOf": [{"type": "null"}, {"type": "string", "enum": ["statements", "needs options"]}]},
        question=_NULLABLE_STRING,
        answer=_NULLABLE_STRING,
    ),
}


def schema_label(template: str) -> str:
    """``"decompose/v1"`` (a request's template label) or ``"decompose.v1"`` -> ``"decompose.v1"``."""
    return template.replace("/", ".")


def schema_of(template: str) -> dict | None:
    """The JSON schema of ``template``'s answer, or None for a free-text template."""
    return SCHEMAS.get(schema_label(template))


def response_format(template: str) -> dict | None:
    """OpenAI's ``response_format`` asking for ``template``'s shape (strict), or None for free text."""
    schema = schema_of(template)
    if schema is None:
        return None
    name = schema_label(template).replace(".", "_")  # OpenAI: letters, digits, _ and - only
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}


def schema_in(response_format: dict | None) -> dict | None:
    """The JSON schema that a ``response_format`` field asks for, or None (none, or not json_schema)."""
    if not isinstance(response_format, dict) or response_format.get("type") != "json_schema":
        return None
    spec = response_format.get("json_schema")
    return spec.get("schema") if isinstance(spec, dict) else None
