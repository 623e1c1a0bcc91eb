"""Lineage records: how every file under ``results/`` was made, one record per job.

``run_step`` (guiding.core.steps), the one call of every script under ``scripts/``, wraps each job in
:func:`job_record`: when the step has returned, the job's record is written beside its artifacts.

Where records live
    Under ``results/provenance/``, mirroring the artifact paths: the output
    ``results/sets/x.jsonl`` has ``results/provenance/sets/x.jsonl.json``, the model directory
    ``results/models/stage1/seed42`` has ``results/provenance/models/stage1/seed42.json``. The
    job's first declared output (its request manifest aside) holds the full record; each of its
    other outputs holds a pointer ``{"job_record": <path of the full record>}``, so that any
    file leads to its job in one step and a job's facts are written once. Records travel with
    ``results/`` (their paths are relative to the workflow's working directory, as the
    artifacts' are) and are not declared outputs: Snakemake neither plans nor checks them, so a
    finished study still has nothing to do. A job that fails writes no record.

What a record holds (``RECORD_VERSION``)
    ``job``: rule, wildcards, params (canonical, as the rule gives them), threads, resources, logs;
    ``inputs`` and ``outputs``: each path with its sha256, a directory (a model) by the sha256 of
    its manifest and the manifest itself (every file's sha256 by its relative path);
    ``code``: git commit and dirty state, the sha256 of the script and of every module of the
    ``guiding`` package the job had imported when it ended (so a dirty tree stays auditable);
    ``environment``: package versions, Python, platform, CPU model, GPU names;
    ``seeds``: every param or wildcard whose name holds "seed", by its dotted path;
    ``started_at`` and ``ended_at`` (UTC);
    ``llm`` (a job with a request manifest): the response cache's path and, per manifest key, the
    endpoint name, model id, template name and version and the sha256 of the cached reply text
    (None where the request failed);
    ``facts``: what a step adds through :func:`note` (a training job: its starting model, resume
    fingerprint, the SFTConfig fields it set and the accelerate config).

Never in a record: environment values, API keys, request headers or the prompts themselves
(params name an endpoint's ``api_key_env``, the variable's name, never its value).

Hashing: each file is read once per job (inputs and outputs are disjoint; a directory's files
are hashed for its manifest and its digest derives from the manifest).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path

from ..io import sha256_file, write_json
from ..paths import CHECKOUT
from .sidecar import code_version, package_versions

RECORD_VERSION = 1
RESULTS = "results"
RECORDS = "results/provenance"
PACKAGE = "guiding"

_facts: dict = {}


def note(name: str, value) -> None:
    """Add ``value`` (JSON data) under ``facts[name]`` of the running job's record."""
    _facts[name] = value


def record_path(artifact: str | os.PathLike) -> Path:
    """Where the record of ``artifact`` (a path under ``results/``) lives; an artifact outside
    ``results/`` gets one under ``results/provenance/_outside/``."""
    parts = Path(os.path.normpath(artifact)).parts
    if parts and parts[0] == RESULTS:
        return Path(RECORDS, *parts[1:]).with_name(parts[-1] + ".json")
    return Path(RECORDS, "_outside", *[p.strip("/") or "_" for p in parts]).with_name(parts[-1] + ".json")


def directory_digest(files: dict[str, str]) -> str:
    """The digest of a directory: the sha256 of its manifest ({relative path: sha256}) as sorted JSON."""
    return hashlib.sha256(json.dumps(files, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


# Snakemake's marker in a directory() output, written after the job: not the job's.
SNAKEMAKE_MARKERS = frozenset({".snakemake_timestamp"})


def directory_files(path: Path) -> list[Path]:
    """The files of a directory artifact, in order, without Snakemake's markers."""
    return [f for f in sorted(path.rglob("*")) if f.is_file() and f.name not in SNAKEMAKE_MARKERS]


def describe_path(path: str | os.PathLike, hash_file=sha256_file) -> dict:
    """``{"path", "sha256"}`` of a file, plus ``"files"`` (its manifest) for a directory; a path
    that does not exist has ``"sha256": None``."""
    p = Path(path)
    entry: dict = {"path": str(path)}
    if p.is_dir():
        files = {str(f.relative_to(p)): hash_file(f) for f in directory_files(p)}
        entry.update(sha256=directory_digest(files), files=files)
    elif p.exists():
        entry["sha256"] = hash_file(p)
    else:
        entry["sha256"] = None
    return entry


def find_seeds(values: dict, prefix: str = "") -> dict:
    """Every value whose key holds "seed", by its dotted path."""
    seeds = {}
    for key, value in values.items():
        path = f"{prefix}{key}"
        if "seed" in str(key).lower() and not isinstance(value, dict):
            seeds[path] = value
        if isinstance(value, dict):
            seeds.update(find_seeds(value, f"{path}."))
    return seeds


def package_modules(modules=None) -> dict[str, str]:
    """The sha256 of every imported module of the ``guiding`` package, by its path relative to the
    package's parent (``guiding/core/steps.py``)."""
    modules = sys.modules if modules is None else modules
    root = Path(sys.modules[PACKAGE].__file__).resolve().parent.parent
    hashes = {}
    for name, module in list(modules.items()):
        if name != PACKAGE and not name.startswith(PACKAGE + "."):
            continue
        file = getattr(module, "__file__", None)
        if not file:
            continue
        path = Path(file).resolve()
        try:
            hashes[str(path.relative_to(root))] = sha256_file(path)
        except (ValueError, OSError):
            hashes[str(path)] = sha256_file(path) if path.exists() else None
    return dict(sorted(hashes.items()))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu_names() -> list[str]:
    """The GPUs this job saw: through torch where the job imported it, else nvidia-smi, else none."""
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            if torch.cuda.is_available():
                return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
            return []
        except Exception:  # a broken CUDA setup must not fail a finished job
            return []
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(
                ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=20,
                check=True,
            )
            return [line.strip() for line in out.stdout.splitlines() if line.strip()]
        except (OSError, subprocess.SubprocessError):
            return []
    return []


def environment() -> dict:
    return {
        "packages": package_versions(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "gpus": gpu_names(),
    }


def reply_sha256(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest()


def cached_replies(cache: str | os.PathLike | None, keys: Iterable[str]) -> dict[str, tuple[str | None, str, str]]:
    """``{key: (request JSON, text, finish_reason)}`` of the keys the cache holds.

    Only the columns that every schema of the cache has are read (``key``, ``request``, ``text``,
    ``finish_reason``)."""
    keys = list(dict.fromkeys(keys))
    if not keys or not cache or not Path(cache).exists():
        return {}
    from ...llm.cache import stored_replies  # here: only a job that asked a model reads the cache

    return stored_replies(cache, keys)


def manifest_keys(manifest: str | os.PathLike) -> list[str]:
    """The request keys a job listed in its manifest (``{"key", "teacher"}`` rows), in order, once each."""
    keys = []
    with open(manifest, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                keys.append(json.loads(line)["key"])
    return list(dict.fromkeys(keys))


def split_template(label: str) -> tuple[str, int | None]:
    """``"solve/v1"`` or ``"solve.v1"`` -> ``("solve", 1)``."""
    for sep in ("/v", ".v"):
        name, found, version = label.rpartition(sep)
        if found and version.isdigit():
            return name, int(version)
    return label, None


def llm_requests(manifest: str, cache: str | None) -> dict:
    """Per key of the job's request manifest: endpoint, model, template and the cached reply's hash."""
    keys = manifest_keys(manifest)
    rows = cached_replies(cache, keys)
    requests = []
    for key in keys:
        request, text, finish_reason = rows.get(key, (None, None, None))
        fields = json.loads(request) if request else {}
        template, version = split_template(fields.get("template", ""))
        requests.append(
            {
                "key": key,
                "endpoint": fields.get("endpoint"),
                "model": fields.get("model"),
                "template": template or None,
                "template_version": version,
                "reply_sha256": reply_sha256(text),
                "finish_reason": finish_reason,
            }
        )
    return {"cache": cache and str(cache), "manifest": str(manifest), "requests": requests}


def _named_paths(files) -> list[tuple[str | None, str]]:
    """(name or None, path) of every path of a Snakemake Namedlist, in order."""
    names = {}
    for name, value in files.items():
        for path in value if isinstance(value, list) else [value]:
            names.setdefault(str(path), name)
    return [(names.get(str(p)), str(p)) for p in files]


def script_entry(snakemake, caller_file: str | None) -> dict | None:
    """The rule's script, as in the workflow (Snakemake runs a copy under .snakemake/scripts/ named
    ``tmp<random>.<script name>``)."""
    scriptdir = getattr(snakemake, "scriptdir", None)
    if not caller_file or not scriptdir:
        return None
    name = Path(caller_file).name
    if name.startswith("tmp") and "." in name:
        name = name.split(".", 1)[1]
    script = Path(scriptdir) / name
    if not script.is_file():
        return None
    try:
        shown = os.path.relpath(script, CHECKOUT)
    except ValueError:
        shown = str(script)
    return {"path": shown, "sha256": sha256_file(script)}


def _plain(values) -> dict:
    out = {}
    for name, value in values.items():
        out[name] = [v for v in value] if isinstance(value, list) else value
    return out


def build_record(snakemake, *, started_at: str, caller_file: str | None, llm: dict | None) -> dict:
    inputs = [{"name": name, **describe_path(path)} for name, path in _named_paths(snakemake.input)]
    outputs = [{"name": name, **describe_path(path)} for name, path in _named_paths(snakemake.output)]
    params = json.loads(json.dumps(_plain(snakemake.params), default=str))
    wildcards = {k: str(v) for k, v in snakemake.wildcards.items()}
    resources = {k: v for k, v in snakemake.resources.items() if not k.startswith("_")}
    return {
        "record_version": RECORD_VERSION,
        "job": {
            "rule": snakemake.rule,
            "wildcards": wildcards,
            "params": params,
            "threads": snakemake.threads,
            "resources": json.loads(json.dumps(resources, default=str)),
            "log": [str(p) for p in snakemake.log],
        },
        "inputs": inputs,
        "outputs": outputs,
        "code": {**code_version(), "script": script_entry(snakemake, caller_file), "modules": package_modules()},
        "environment": environment(),
        "seeds": {**find_seeds(params, "params."), **find_seeds(wildcards, "wildcards.")},
        "started_at": started_at,
        "ended_at": now(),
        "llm": llm,
        "facts": dict(_facts),
    }


def now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds")


def write_record(record: dict, manifest: str | None = None) -> Path:
    """The full record at its first output's path (the request manifest aside), a pointer to it at
    every other output's."""
    outputs = [o["path"] for o in record["outputs"]]
    outputs.sort(key=lambda path: path == manifest)  # stable: the declared order otherwise
    home = record_path(outputs[0])
    write_json(home, record)
    for path in outputs[1:]:
        write_json(record_path(path), {"record_version": RECORD_VERSION, "output": path, "job_record": str(home)})
    return home


@contextmanager
def job_record(snakemake, *, manifest: str | None = None, cache: str | None = None, caller_file: str | None = None):
    """Write the lineage record of the job ``snakemake`` describes once the body has succeeded.

    ``manifest`` and ``cache``: the job's request manifest and the response cache, for a job that
    may ask a model; ``caller_file``: the file of the running script (to find the rule's script).
    """
    _facts.clear()
    started_at = now()
    yield
    if not list(snakemake.output):
        return
    llm = llm_requests(manifest, cache) if manifest else None
    write_record(build_record(snakemake, started_at=started_at, caller_file=caller_file, llm=llm), manifest)
