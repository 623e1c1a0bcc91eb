"""Running a step function from a Snakemake ``script:``, so that every script is one call.

A step function takes keyword-only arguments named exactly like its rule's named inputs,
outputs, params and wildcards (plus ``threads`` and resources such as ``gpu`` if it asks for
them). Matching by name, not by
position, means reordering a rule's outputs can never write one artifact into another's file,
and a rule and its step function that drift apart fail loudly, naming the argument.
"""

from __future__ import annotations

import gc
import inspect
import sys
from collections.abc import Callable
from pathlib import Path

from ..artifacts import REQUESTS_OUTPUT
from .logs import log_to_file
from .provenance.lineage import job_record


def _named(namedlist) -> dict:
    values = {}
    for name, value in namedlist.items():
        # An input or output given as a list (expand) arrives as a Namedlist: pass plain strings.
        values[name] = [str(v) for v in value] if isinstance(value, list) else value
    return values


def step_arguments(step: Callable, *, input, output, params, wildcards, threads, resources=None) -> dict:
    """The keyword arguments of ``step`` taken from a job's named input, output, params, wildcards,
    threads and resources."""
    sources = {
        "input": _named(input),
        "output": _named(output),
        "params": _named(params),
        "wildcards": _named(wildcards),
        "threads": {"threads": threads},
        "resources": {k: v for k, v in _named(resources or {}).items() if not k.startswith("_")},
    }
    available: dict[str, object] = {}
    for source, values in sources.items():
        for name, value in values.items():
            if name in available and source in ("wildcards", "resources"):
                continue  # a wildcard is in the paths already; a file of the same name wins
            if name in available:
                raise TypeError(f"{step.__name__}: {name!r} is given twice (again by {source})")
            available[name] = value
    parameters = inspect.signature(step).parameters
    named = {p for p, spec in parameters.items() if spec.kind is inspect.Parameter.KEYWORD_ONLY}
    takes_rest = any(spec.kind is inspect.Parameter.VAR_KEYWORD for spec in parameters.values())
    missing = [p for p in named if p not in available and parameters[p].default is inspect.Parameter.empty]
    if missing:
        raise TypeError(f"{step.__name__}: the rule gives no {missing} (it gives {sorted(available)})")
    # Wildcards, threads and resources are there for every job; a step takes them only when it needs them.
    optional = set(sources["wildcards"]) | {"threads"} | set(sources["resources"])
    unused = sorted(set(available) - named - optional)
    if unused and not takes_rest:
        raise TypeError(f"{step.__name__}: the rule gives {unused}, which the step does not take")
    return {name: value for name, value in available.items() if name in named or (takes_rest and name not in optional)}


def run_step(snakemake, step: Callable) -> None:
    """Log to the rule's log file, then call ``step`` with the job's named files and settings; once
    it has returned, write the job's lineage record (guiding.core.provenance.lineage)."""
    log_to_file(snakemake.log[0])
    output = dict(_named(snakemake.output))
    manifest = output.pop(REQUESTS_OUTPUT, None)
    if manifest:  # a job that may ask a model: its manifest exists, empty when it asked nothing
        Path(manifest).parent.mkdir(parents=True, exist_ok=True)
        Path(manifest).write_text("")
    cache = None
    # How this job sends LLM requests: not a param, it changes no answer. Only a job with a
    # manifest asks a model, so only it imports the generation interface (a start-up cost).
    if manifest and "llm" in snakemake.config:
        from dataclasses import replace

        from ..llm.roles import Runtime, set_runtime

        runtime = Runtime.from_config(snakemake.config["llm"], snakemake.config.get("cost"))
        cache = runtime.cache
        set_runtime(replace(runtime, manifest=manifest, teacher=_named(snakemake.wildcards).get("teacher", "")))
    caller = sys._getframe(1).f_globals
    caller_file = caller.get("__file__")  # the script Snakemake runs
    with job_record(snakemake, manifest=manifest, cache=cache, caller_file=caller_file):
        step(
            **step_arguments(
                step,
                input=snakemake.input,
                output=output,
                params=snakemake.params,
                wildcards=snakemake.wildcards,
                threads=snakemake.threads,
                resources=snakemake.resources,
            )
        )
    if caller.get("__name__") == "__main__":
        # The script's one call has written everything and its process ends next. The interpreter's
        # last garbage collections would walk every object the job made and imported (torch, a
        # model) only to free memory that goes back with the process: frozen objects are skipped.
        gc.freeze()
