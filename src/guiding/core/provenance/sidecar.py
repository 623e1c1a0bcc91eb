"""Provenance sidecars: what a result table was made from, by which code, with which packages."""

from __future__ import annotations

import datetime as _dt
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from ..io import sha256_file, write_json

PACKAGES = (
    "snakemake",
    "torch",
    "transformers",
    "trl",
    "accelerate",
    "datasets",
    "tokenizers",
    "math-verify",
    "sympy",
    "pandas",
    "numpy",
    "matplotlib",
)


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=Path(__file__).resolve().parent, capture_output=True, text=True, timeout=20, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def code_version() -> dict:
    """The checkout's commit and whether its tracked files differ from it (None, None outside a
    git checkout or before its first commit); one git call, as every job's record asks for it."""
    status = _git("status", "--porcelain=v2", "--branch", "--no-ahead-behind", "--untracked-files=no")
    if status is None:
        return {"commit": None, "dirty": None}
    lines = status.splitlines()
    commit = next((line.split()[2] for line in lines if line.startswith("# branch.oid ")), "(initial)")
    if commit == "(initial)":
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": any(not line.startswith("#") for line in lines)}


def _version(name: str) -> str | None:
    """``importlib.metadata.version(name)``, read from the metadata's header alone: the version is
    one of its first lines, and parsing the whole file (a long README for some packages) is most of
    what the standard call costs at the end of every job."""
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return None
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or dist.read_text("") or ""
    for line in text.splitlines():
        if not line.strip():  # the header ends at the first empty line
            break
        key, _, value = line.partition(":")
        if key.strip().lower() == "version":
            return value.strip()
    return dist.version


def package_versions() -> dict:
    return {"python": platform.python_version(), **{name: _version(name) for name in PACKAGES}}


def write_provenance(path: str | Path, inputs: list[str], config: dict, outputs: list[str] = ()) -> dict:
    record = {
        "inputs": [{"path": str(p), "sha256": sha256_file(p)} for p in sorted(map(str, inputs))],
        "outputs": [{"path": str(p), "sha256": sha256_file(p)} for p in outputs],
        "config": config,
        "code": code_version(),
        "packages": package_versions(),
        "created_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    write_json(path, record)
    return record
