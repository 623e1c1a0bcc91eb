"""Provenance sidecars: what a result table was made from, by which code, with which packages."""

from __future__ import annotations

import datetime as _dt
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from .io import sha256_file, write_json

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
    commit = _git("rev-parse", "HEAD")
    dirty = None if commit is None else bool(_git("status", "--porcelain", "--untracked-files=no"))
    return {"commit": commit, "dirty": dirty}


def package_versions() -> dict:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


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
