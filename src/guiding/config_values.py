"""Config checks of keys and values that belong to a library or a backend, not to the schema:
SFTConfig recipe fields and their value kinds, LlamaConfig parameters of the tiny student, each
endpoint's backend settings, and the API keys of the endpoints a run will ask.

Each runs before any job (``guiding.config.check_config``; the keys at the run's start) and
raises ``ConfigError`` naming the key. The libraries' own lists are read from files kept beside
the code (importing trl or transformers takes seconds, too slow for every dry run); tests check
the files against the installed libraries. Backend settings are read from the backend class's
constructor in its source (parsed, not imported: a backend may import a model library).
"""

from __future__ import annotations

import ast
import difflib
import os
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).parent
VALUE_KINDS = ("boolean", "integer", "number", "string", "array", "object", "null")


class ConfigError(ValueError):
    """A config that names something that does not exist or cannot be built."""


def _hint(name: str, known) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _kind_of(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    return "object" if isinstance(value, dict) else "any"


def check_value(key: str, value, spec: str, owner: str) -> None:
    """``value`` against ``spec`` (kinds joined by ``|``; ``{a,b}`` an enum of strings; ``any``)."""
    kinds = spec.split("|")
    if "any" in kinds:
        return
    kind = _kind_of(value)
    if kind in kinds or (kind == "integer" and "number" in kinds):
        return
    enums = [k[1:-1].split(",") for k in kinds if k.startswith("{")]
    allowed = [v for values in enums for v in values]
    if kind == "string" and value in allowed:
        return
    if kind == "string" and allowed:
        raise ConfigError(f"{key}: {value!r} is not one of {allowed} ({owner}){_hint(value, allowed)}")
    wanted = [k for k in kinds if not k.startswith("{")] + ([f"one of {allowed}"] if allowed else [])
    raise ConfigError(f"{key}: {value!r} is a {kind}, but {owner} takes {' or '.join(wanted)}")


def _list_file(name: str) -> list[str]:
    text = (PACKAGE / "student" / name).read_text()
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@cache
def sft_config_specs() -> dict[str, str]:
    """SFTConfig field -> the kinds of value it takes (student/sft_config_fields.txt)."""
    return dict(line.split(None, 1) for line in _list_file("sft_config_fields.txt"))


@cache
def llama_config_fields() -> frozenset[str]:
    """Parameters of transformers' LlamaConfig (student/llama_config_fields.txt)."""
    return frozenset(_list_file("llama_config_fields.txt"))


def check_recipe(key: str, recipe: dict) -> None:
    """Every field of a recipe is an SFTConfig field, with a value of the kind the field takes."""
    specs = sft_config_specs()
    for field, value in recipe.items():
        if field not in specs:
            raise ConfigError(f"{key}.{field}: not a field of TRL's SFTConfig{_hint(field, specs)}")
        check_value(f"{key}.{field}", value, specs[field], f"SFTConfig.{field}")


def check_architecture(architecture: dict) -> None:
    """The tiny student's architecture names LlamaConfig parameters only (an unknown one would be
    ignored by LlamaConfig, which would train at its own default)."""
    fields = llama_config_fields()
    for name in architecture:
        if name not in fields:
            raise ConfigError(f"student.architecture.{name}: not a parameter of LlamaConfig{_hint(name, fields)}")


# Endpoint settings the workflow fills in itself, from the endpoint's own keys or its name.
SET_BY_WORKFLOW = ("endpoint", "base_url", "api_key_env")
_ANNOTATION_KINDS = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "None": "null"}


@cache
def backend_parameters(target: str) -> dict[str, tuple[str, bool]]:
    """Constructor parameter -> (kinds of value, required) of a backend class ``"module:Class"``
    of this package, read from its source."""
    module, cls = target.split(":")
    path = PACKAGE.joinpath(*module.split(".")[1:]).with_suffix(".py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    node = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls)
    init = next(n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__")
    args = init.args.args[1:]
    required = len(args) - len(init.args.defaults)
    out = {}
    for i, arg in enumerate(args):
        kinds = []
        for part in ast.unparse(arg.annotation).split("|") if arg.annotation else ["any"]:
            part = part.strip()
            base = part.split("[")[0]
            kinds.append(_ANNOTATION_KINDS.get(base) or {"dict": "object", "list": "array"}.get(base, "any"))
        out[arg.arg] = ("|".join(kinds), i < required)
    return out


def check_endpoint_settings(endpoints: dict, backends: dict[str, str]) -> None:
    """Each endpoint's ``settings`` against its backend's constructor: known names, values of the
    annotated kinds, the required ones given (``backends``: name -> "module:Class")."""
    for name, endpoint in endpoints.items():
        target = backends.get(endpoint["backend"], "")
        if ":" not in target:
            continue
        params = backend_parameters(target)
        settings = endpoint.get("settings") or {}
        allowed = [p for p in params if p not in SET_BY_WORKFLOW]
        for key, value in settings.items():
            where = f"llm.endpoints.{name}.settings.{key}"
            if key in SET_BY_WORKFLOW:
                raise ConfigError(
                    f"{where}: set by the workflow (base_url and api_key_env are the endpoint's own keys)"
                )
            if key not in params:
                raise ConfigError(
                    f"{where}: not a setting of the {endpoint['backend']} backend (it takes {sorted(allowed)})"
                    f"{_hint(key, allowed)}"
                )
            check_value(where, value, params[key][0], f"the {endpoint['backend']} backend's {key}")
        given = {*settings, *(k for k in SET_BY_WORKFLOW if k in endpoint or k == "endpoint")}
        for key, (_, required) in params.items():
            if required and key not in given:
                raise ConfigError(f"llm.endpoints.{name}.settings.{key}: needed by the {endpoint['backend']} backend")


def check_api_keys(config: dict, used_endpoints: dict[str, str], environ=os.environ) -> None:
    """Every key variable of an endpoint that a role of this run asks (``used_endpoints``: endpoint
    -> a role that uses it) is set, unless the run replays the cache (which reads no key)."""
    llm = config["llm"]
    if llm.get("replay"):
        return
    for name, role in sorted(used_endpoints.items()):
        endpoint = llm["endpoints"][name]
        if endpoint["backend"] != "openai":
            continue
        variable = endpoint.get("api_key_env", "OPENAI_API_KEY")
        if variable and not environ.get(variable):
            raise ConfigError(
                f"llm.endpoints.{name}.api_key_env: the environment variable {variable} is not set "
                f"({role} asks this endpoint); set it, or replay the cache with llm.replay: true"
            )
