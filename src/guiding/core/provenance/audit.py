"""Audit a result table's lineage: ``guiding audit results/tables/<table>.csv`` (or ``--all``).

The audit starts at a table's lineage record (guiding.core.provenance.lineage) and walks every input back to
the job that produced it, until it reaches jobs that read nothing of ``results/`` (the world
generator and its seed and config, embedded; the source datasets, paper mode) and the cached
replies of every teacher and judge. On the way it re-hashes every file, each once (memoized by
path, so ``--all`` costs one pass over the files the tables rest on; no size-and-mtime shortcut),
and fails, naming the file and the record, when:

- a file has changed since its job produced it, or since a job read it;
- a record or a file is missing;
- an input's recorded hash differs from its producer's recorded output hash;
- a cached reply that a job used has changed or is gone (the response cache is opened read-only);
- the code that made a file (its script, a module of the ``guiding`` package it imported) differs
  from the checkout's: a warning with ``allow_code_drift``.

Snakemake's own metadata (``.snakemake/metadata``) is cross-checked where it is present (which rule
made a file, from which inputs); a disagreement is a warning. The audit never depends on it:
``results/`` may have been copied elsewhere.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from base64 import urlsafe_b64encode
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..io import sha256_file
from ..paths import CHECKOUT
from .lineage import (
    RECORDS,
    RESULTS,
    cached_replies,
    directory_digest,
    directory_files,
    record_path,
    reply_sha256,
)

SHORT = 12


@dataclass
class Problem:
    """Something the audit found: ``file`` and ``record`` name where, ``cause`` what."""

    cause: str
    file: str
    record: str | None
    detail: str = ""
    warning: bool = False

    def line(self) -> str:
        where = f"{self.file}" + (f" (record {self.record})" if self.record else "")
        return f"{'WARNING' if self.warning else 'FAIL'} {self.cause}: {where}" + (
            f": {self.detail}" if self.detail else ""
        )


@dataclass
class Job:
    """One job of the lineage, as the audit found it."""

    record: str
    rule: str
    wildcards: dict
    params: dict
    seeds: dict
    code: dict
    started_at: str | None
    ended_at: str | None
    outputs: list[dict] = field(default_factory=list)
    inputs: list[dict] = field(default_factory=list)
    """Each ``{path, sha256, producer}``; ``producer`` is the record of the job that made it (None: a source)."""
    llm: dict | None = None
    training: dict | None = None


def default_checkout() -> Path:
    """The workflow checkout of the running package (``src/guiding`` -> the checkout)."""
    return CHECKOUT


class Audit:
    """The lineage of files under ``root`` (the workflow's working directory), checked against the
    code in ``checkout``."""

    def __init__(self, root: str | Path = ".", checkout: str | Path | None = None, allow_code_drift: bool = False):
        self.root = Path(root)
        self.checkout = Path(checkout) if checkout else default_checkout()
        self.allow_code_drift = allow_code_drift
        self.problems: list[Problem] = []
        self.jobs: dict[str, Job | None] = {}
        self._hashes: dict[Path, str | None] = {}
        self._records: dict[str, dict | None] = {}
        self._code: dict[str, str | None] = {}
        self._caches: dict[str | None, dict] = {}
        self.files_hashed = 0

    # ------------------------------------------------------------ hashing, each file once

    def hash_file(self, path: Path) -> str | None:
        if path not in self._hashes:
            self._hashes[path] = sha256_file(path) if path.is_file() else None
            self.files_hashed += path.is_file()
        return self._hashes[path]

    def current(self, rel: str, recorded: dict) -> tuple[str | None, list[str]]:
        """The path's digest now (None: missing) and, for a directory, the files that differ from
        its recorded manifest."""
        path = self.root / rel
        if path.is_dir():
            files = {str(f.relative_to(path)): self.hash_file(f) for f in directory_files(path)}
            was = recorded.get("files") or {}
            differ = sorted(f"{rel}/{name}" for name in set(files) | set(was) if files.get(name) != was.get(name))
            return directory_digest(files), differ
        return self.hash_file(path), []

    # ------------------------------------------------------------ records

    def problem(self, cause: str, file: str, record: str | None, detail: str = "", warning: bool = False) -> None:
        found = Problem(cause, file, record, detail, warning)
        if found not in self.problems:  # a job's outputs share its inputs: say each thing once
            self.problems.append(found)

    def _load(self, rel: str) -> dict | None:
        if rel not in self._records:
            try:
                self._records[rel] = json.loads((self.root / rel).read_text())
            except (OSError, ValueError):
                self._records[rel] = None
        return self._records[rel]

    def job_record_of(self, artifact: str) -> tuple[str | None, dict | None]:
        """The path and content of the full record of the job that produced ``artifact``."""
        rel = str(record_path(artifact))
        record = self._load(rel)
        if record is None:
            return rel, None
        if "job_record" in record:
            home = record["job_record"]
            return home, self._load(home)
        return rel, record

    # ------------------------------------------------------------ the walk

    def audit_file(self, artifact: str) -> str | None:
        """Audit ``artifact`` and its lineage; the record of the job that made it (None: no record)."""
        home, record = self.job_record_of(artifact)
        if record is None:
            self.problem("record missing", artifact, home, "no lineage record of the job that produced this file")
            return None
        if not any(o["path"] == artifact for o in record["outputs"]):
            self.problem("record does not list the file", artifact, home)
        self.audit_job(home, record)
        return home

    def audit_job(self, home: str, record: dict) -> None:
        if home in self.jobs:
            return
        self.jobs[home] = None  # a cycle would end here
        job = record["job"]
        node = Job(
            record=home,
            rule=job["rule"],
            wildcards=job.get("wildcards", {}),
            params=job.get("params", {}),
            seeds=record.get("seeds", {}),
            code={k: record["code"].get(k) for k in ("commit", "dirty", "script")}
            | {"modules": len(record["code"].get("modules", {}))},
            started_at=record.get("started_at"),
            ended_at=record.get("ended_at"),
            training=(record.get("facts") or {}).get("training"),
        )
        for output in record["outputs"]:
            now, differ = self.current(output["path"], output)
            node.outputs.append({"path": output["path"], "sha256": now})
            if now is None:
                self.problem("file missing", output["path"], home, f"produced by {job['rule']}")
            elif now != output["sha256"]:
                changed = f"; changed: {', '.join(differ)}" if differ else ""
                self.problem("file changed since produced", output["path"], home, f"by {job['rule']}{changed}")
            self.cross_check_snakemake(output["path"], record, home)
        for entry in record["inputs"]:
            node.inputs.append(self.audit_input(entry, home, job["rule"]))
        self.audit_code(record["code"], home)
        if record.get("llm"):
            node.llm = self.audit_replies(record["llm"], home)
        self.jobs[home] = node

    def audit_input(self, entry: dict, home: str, rule: str) -> dict:
        path = entry["path"]
        now, differ = self.current(path, entry)
        if now is None:
            self.problem("file missing", path, home, f"an input of {rule}")
        elif now != entry["sha256"]:
            changed = f"; changed: {', '.join(differ)}" if differ else ""
            self.problem("file changed since used", path, home, f"an input of {rule}{changed}")
        producer = None
        if Path(path).parts[:1] == (RESULTS,) and Path(path).parts[:2] != tuple(Path(RECORDS).parts):
            producer, record = self.job_record_of(path)
            if record is None:
                self.problem(
                    "record missing", path, producer, f"no lineage record of the job that made this input of {rule}"
                )
            else:
                made = next((o for o in record["outputs"] if o["path"] == path), None)
                if made is None:
                    self.problem("record does not list the file", path, producer)
                elif made["sha256"] != entry["sha256"]:
                    self.problem(
                        "input differs from its producer's output",
                        path,
                        home,
                        f"{rule} read {_short(entry['sha256'])}, {record['job']['rule']} "
                        f"(record {producer}) wrote {_short(made['sha256'])}",
                    )
                self.audit_job(producer, record)
        return {"name": entry.get("name"), "path": path, "sha256": now, "producer": producer}

    def audit_code(self, code: dict, home: str) -> None:
        files = dict(code.get("modules") or {})
        if code.get("script"):
            files[code["script"]["path"]] = code["script"]["sha256"]
        for rel, recorded in files.items():
            if rel not in self._code:
                where = self.checkout / ("src" if rel.startswith("guiding/") else "") / rel
                self._code[rel] = sha256_file(where) if where.is_file() else None
            now = self._code[rel]
            if now != recorded:
                state = "is not in the checkout" if now is None else "differs from the checkout's"
                self.problem(
                    "code drift",
                    rel,
                    home,
                    f"the code that made this record {state} ({self.checkout})",
                    warning=self.allow_code_drift,
                )

    def _cache(self, path: str | None, keys: list[str]) -> dict | None:
        """``{key: (request, text)}`` of ``keys`` in the response cache at ``path`` (opened read-only,
        each row read once per audit), or None if there is no cache there."""
        where = self.root / path if path else None
        if where is None or not where.is_file():
            return None
        rows = self._caches.setdefault(path, {})
        wanted = [k for k in dict.fromkeys(keys) if k not in rows]
        if wanted:
            rows.update({k: (r, t) for k, (r, t, _) in cached_replies(where, wanted).items()})
        return rows

    def audit_replies(self, llm: dict, home: str) -> dict:
        """Every reply the job used, against the cache as it is now; a summary for the tree."""
        requests = llm.get("requests", [])
        cache = self._cache(llm.get("cache"), [r["key"] for r in requests]) if requests else {}
        if cache is None:
            self.problem(
                "response cache not found",
                str(llm.get("cache")),
                home,
                f"{len(requests)} cached replies not checked",
                warning=True,
            )
        for r in requests if cache is not None else []:
            if r["reply_sha256"] is None:
                continue  # the request failed: no reply was used
            row = cache.get(r["key"])
            if row is None:
                self.problem("cached reply missing", str(llm.get("cache")), home, f"key {r['key']}")
            elif reply_sha256(row[1]) != r["reply_sha256"]:
                self.problem(
                    "cached reply changed",
                    str(llm.get("cache")),
                    home,
                    f"key {r['key']} ({r['template']}/v{r['template_version']}, model {r['model']!r})",
                )
            elif row[0] is not None and reply_sha256(row[0]) != r["key"]:  # a key is its request's sha256
                self.problem("cached request changed", str(llm.get("cache")), home, f"key {r['key']}")
        teachers: dict[str, int] = {}
        for r in requests:
            name = f"{r['model']} at {r['endpoint']} ({r['template']}/v{r['template_version']})"
            teachers[name] = teachers.get(name, 0) + 1
        return {"cache": llm.get("cache"), "requests": len(requests), "by_model": teachers}

    def cross_check_snakemake(self, artifact: str, record: dict, home: str) -> None:
        """Where Snakemake's metadata of ``artifact`` exists, it must name the same rule and inputs."""
        meta_dir = self.root / ".snakemake" / "metadata"
        if not meta_dir.is_dir():
            return
        b64 = urlsafe_b64encode(artifact.encode()).decode()
        path = meta_dir / b64
        if len(b64) >= 255 or not path.is_file():
            return
        try:
            meta = json.loads(path.read_text())
        except (OSError, ValueError):
            return
        if meta.get("rule") and meta["rule"] != record["job"]["rule"]:
            self.problem(
                "Snakemake metadata disagrees",
                artifact,
                home,
                f"Snakemake says rule {meta['rule']}, the record {record['job']['rule']}",
                warning=True,
            )
        recorded = {i["path"]: i["sha256"] for i in record["inputs"]}
        checksums = meta.get("input_checksums") or {}  # Snakemake keeps the sha256 of small inputs
        if isinstance(checksums, str):
            try:
                checksums = ast.literal_eval(checksums)
            except (ValueError, SyntaxError):
                checksums = {}
        for path, checksum in checksums.items():
            algorithm, _, digest = str(checksum).partition(":")
            if algorithm == "sha256" and path in recorded and digest != recorded[path]:
                self.problem(
                    "Snakemake metadata disagrees",
                    path,
                    home,
                    f"Snakemake saw {_short(digest)} as an input of {artifact}, the record {_short(recorded[path])}",
                    warning=True,
                )
        recorded_inputs = set(recorded)
        if meta.get("input") is not None and set(meta["input"]) != recorded_inputs:
            self.problem(
                "Snakemake metadata disagrees",
                artifact,
                home,
                f"inputs differ: {sorted(set(meta['input']) ^ recorded_inputs)}",
                warning=True,
            )

    # ------------------------------------------------------------ results

    def failed(self) -> bool:
        return any(not p.warning for p in self.problems)

    def as_data(self, tables: dict[str, str | None]) -> dict:
        return {
            "ok": not self.failed(),
            "tables": [{"path": t, "sha256": self._hashes.get(self.root / t), "job": j} for t, j in tables.items()],
            "jobs": {k: asdict(v) for k, v in self.jobs.items() if v is not None},
            "roots": sorted(k for k, v in self.jobs.items() if v and not any(i["producer"] for i in v.inputs)),
            "sources": sorted({i["path"] for v in self.jobs.values() if v for i in v.inputs if i["producer"] is None}),
            "problems": [asdict(p) for p in self.problems],
            "files_hashed": self.files_hashed,
        }


def _short(digest: str | None) -> str:
    return digest[:SHORT] if digest else "missing"


def _compact(value, limit: int = 140) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_tree(audit: Audit, tables: dict[str, str | None]) -> str:
    """The lineage of each table as a tree; a job shown before is named, not repeated."""
    lines: list[str] = []
    shown: set[str] = set()

    def job_lines(home: str, prefix: str) -> None:
        job = audit.jobs.get(home)
        if job is None:
            lines.append(f"{prefix}└─ (no record: {home})")
            return
        wildcards = " ".join(f"{k}={v}" for k, v in job.wildcards.items())
        if home in shown:
            lines.append(f"{prefix}└─ {job.rule} {wildcards} (shown above)")
            return
        shown.add(home)
        lines.append(f"{prefix}└─ {job.rule} {wildcards}  [{home}]")
        pad = prefix + "   "
        code = job.code
        script = code["script"]["path"] if code.get("script") else "no script"
        lines.append(
            f"{pad}code: {(code.get('commit') or 'no git')[:SHORT]}{' (dirty)' if code.get('dirty') else ''}, "
            f"{script}, {code['modules']} package modules"
        )
        if job.seeds:
            lines.append(f"{pad}seeds: " + ", ".join(f"{k}={v}" for k, v in sorted(job.seeds.items())))
        if job.params:
            lines.append(f"{pad}params: {_compact(job.params)}")
        if job.training:
            t = job.training
            accelerate = t["accelerate"]["path"] if t.get("accelerate") else "none (in process)"
            lines.append(
                f"{pad}training: from {t['starting_model']} (fingerprint {_short(t['resume_fingerprint'])}), "
                f"accelerate {accelerate}, SFTConfig {_compact(t['sft_config'], 100)}"
            )
        if job.llm and job.llm["requests"]:
            for name, count in sorted(job.llm["by_model"].items()):
                lines.append(f"{pad}replies: {count} from {name}")
        for output in job.outputs:
            lines.append(f"{pad}wrote {output['path']}  {_short(output['sha256'])}")
        for i, entry in enumerate(job.inputs):
            last = i == len(job.inputs) - 1
            lines.append(f"{pad}{'└' if last else '├'}─ read {entry['path']}  {_short(entry['sha256'])}")
            if entry["producer"]:
                job_lines(entry["producer"], pad + ("   " if last else "│  "))

    for table, home in tables.items():
        lines.append(f"{table}  {_short(audit._hashes.get(audit.root / table))}")
        if home:
            job_lines(home, "")
    return "\n".join(lines)


def tables_under(root: Path) -> list[str]:
    folder = root / RESULTS / "tables"
    return sorted(str(p.relative_to(root)) for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []


def run_audit(
    paths: list[str], root: str | Path = ".", checkout=None, allow_code_drift: bool = False
) -> tuple[Audit, dict]:
    audit = Audit(root, checkout, allow_code_drift)
    tables = {}
    for path in paths:
        tables[path] = audit.audit_file(path)
    return audit, tables


def relative_artifact(path: str, root: Path) -> str:
    """``path`` as the records name it: relative to the workflow's working directory."""
    p = Path(path)
    if p.is_absolute():
        return str(p.resolve().relative_to(root.resolve()))
    return str(Path(*p.parts))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("tables", nargs="*", help="files under results/ (such as results/tables/findings.csv)")
    parser.add_argument("--all", action="store_true", help="every file under results/tables/")
    parser.add_argument("--json", action="store_true", help="print the lineage and the problems as JSON")
    parser.add_argument(
        "--allow-code-drift",
        action="store_true",
        help="code that differs from the checkout's is a warning, not a failure",
    )
    parser.add_argument("--directory", "-d", default=".", help="the workflow's working directory (holds results/)")
    parser.add_argument(
        "--checkout", default=None, help="the workflow checkout to compare code with (default: this one)"
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="print only the problems")


def run(args: argparse.Namespace) -> int:
    root = Path(args.directory)
    paths = [relative_artifact(p, root) for p in args.tables]
    if args.all:
        paths += [t for t in tables_under(root) if t not in paths]
    if not paths:
        print("guiding audit: name a table or give --all (no table found under results/tables/)", file=sys.stderr)
        return 2
    audit, tables = run_audit(paths, root, args.checkout, args.allow_code_drift)
    if args.json:
        print(json.dumps(audit.as_data(tables), indent=2, sort_keys=True, default=str))
    else:
        if not args.quiet:
            print(render_tree(audit, tables))
        for p in audit.problems:
            print(p.line())
        jobs = sum(1 for j in audit.jobs.values() if j)
        verdict = "FAILED" if audit.failed() else "ok"
        print(f"audit {verdict}: {len(tables)} file(s), {jobs} jobs, {audit.files_hashed} files re-hashed")
    return 1 if audit.failed() else 0
