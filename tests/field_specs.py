"""Type specs of SFTConfig fields and the LlamaConfig parameters, as the checked-in lists state them."""

import dataclasses
import enum
import inspect
import types
import typing

SCALARS = {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null"}


def kinds(hint) -> list[str]:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        out = []
        for arg in typing.get_args(hint):
            out += kinds(arg)
        enums = [k for k in out if k.startswith("{")]
        if enums:
            out = [k for k in out if k != "string"]  # a string is accepted only as one of the values
        return list(dict.fromkeys(out))
    if origin is typing.Literal:
        values = typing.get_args(hint)
        strs = [v for v in values if isinstance(v, str)]
        rest = [SCALARS[type(v)] for v in values if not isinstance(v, str)]
        return ([("{" + ",".join(strs) + "}")] if strs else []) + rest
    if hint in SCALARS:
        return [SCALARS[hint]]
    if origin in (list, tuple) or hint in (list, tuple):
        return ["array"]
    if origin is dict or hint is dict:
        return ["object"]
    if inspect.isclass(hint) and issubclass(hint, enum.Enum):
        return ["{" + ",".join(str(m.value) for m in hint) + "}"]
    return ["any"]


def sft_specs() -> dict[str, str]:
    import trl

    hints = typing.get_type_hints(trl.SFTConfig)
    out = {}
    for f in dataclasses.fields(trl.SFTConfig):
        k = kinds(hints[f.name])
        out[f.name] = "any" if "any" in k else "|".join(k)
    return out


def llama_parameters() -> set[str]:
    from transformers import LlamaConfig

    params = {
        name
        for name, p in inspect.signature(LlamaConfig.__init__).parameters.items()
        if name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    }
    return params | set(LlamaConfig().to_dict())
