"""Export a table's lineage as a Workflow Run RO-Crate: ``guiding crate <table> -o <file>.zip``.

The crate follows the Provenance Run Crate profile (https://w3id.org/ro/wfrun/provenance/0.5),
built with the ``rocrate`` library. It holds:

- the table and the lineage record of every job it rests on (``results/provenance/...``);
- the workflow: the Snakefile (the crate's main entity, a ComputationalWorkflow), the rule files,
  the script of every rule in the lineage (each rule is a HowToStep whose tool is its script), and
  the config files of the checkout, plus ``--configfile`` if given;
- ``environment.json``: the package versions, Python, CPU and GPUs each job ran with;
- one CreateAction per job (inputs as ``object``, outputs as ``result``, start and end times),
  tied to its step by a ControlAction, all organized by Snakemake (the OrganizeAction), whose
  result is the CreateAction of the workflow run. Files the crate does not carry (intermediate
  artifacts, models) are named by local identifiers (``#results/...``) with their sha256.

The lineage is walked and checked by ``guiding.core.provenance.audit`` first: a table whose audit fails is not
exported (``--allow-code-drift`` as for the audit).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from .audit import Audit, default_checkout, relative_artifact
from .lineage import record_path

PROFILES = {
    "https://w3id.org/ro/wfrun/process/0.5": "Process Run Crate",
    "https://w3id.org/ro/wfrun/workflow/0.5": "Workflow Run Crate",
    "https://w3id.org/ro/wfrun/provenance/0.5": "Provenance Run Crate",
    "https://w3id.org/workflowhub/workflow-ro-crate/1.0": "Workflow RO-Crate",
}
# The one term the crate adds to the RO-Crate context: a file's sha256, as the lineage records give it.
EXTRA_TERMS = {"sha256": "https://w3id.org/ro/terms/workflow-run#sha256"}


def build_crate(
    table: str,
    output: str | Path,
    root: str | Path = ".",
    checkout: str | Path | None = None,
    configfile: str | Path | None = None,
    allow_code_drift: bool = False,
):
    """Write the crate of ``table`` (a path under ``root``) to the zip file ``output``; return the audit."""
    from rocrate.model.contextentity import ContextEntity
    from rocrate.rocrate import ROCrate

    root = Path(root)
    checkout = Path(checkout) if checkout else default_checkout()
    audit = Audit(root, checkout, allow_code_drift)
    home = audit.audit_file(table)
    if audit.failed():
        problems = "\n".join(p.line() for p in audit.problems)
        raise SystemExit(f"guiding crate: the audit of {table} failed, nothing exported:\n{problems}")
    jobs = {k: v for k, v in audit.jobs.items() if v is not None}
    records = {k: json.loads((root / k).read_text()) for k in jobs}

    crate = ROCrate(version="1.1")
    crate.metadata.extra_terms.update(EXTRA_TERMS)
    crate.name = f"Lineage of {table}"
    crate.description = (
        f"How {table} was made: every job of the workflow it rests on, with its inputs, outputs, code "
        "and environment (guiding audit checked each file's sha256 before export)."
    )
    crate.root_dataset["license"] = "https://spdx.org/licenses/MIT"
    for profile, name in PROFILES.items():
        entity = crate.add(ContextEntity(crate, profile, properties={"@type": "CreativeWork", "name": name}))
        crate.root_dataset.append_to("conformsTo", entity)

    workflow = crate.add_workflow(
        checkout / "Snakefile",
        "Snakefile",
        main=True,
        lang="snakemake",
        properties={
            "@type": ["File", "SoftwareSourceCode", "ComputationalWorkflow", "HowTo"],
            "name": "guiding: what makes good supervision for hard reasoning tasks",
        },
    )
    for part in sorted((checkout / "rules").glob("*.smk")):
        # Rule files are the workflow's text (root hasPart); the workflow's hasPart lists its tools.
        crate.add_file(part, f"rules/{part.name}", properties={"name": f"rule file {part.name}"})
    configs = [p for p in sorted((checkout / "config").rglob("*")) if p.is_file()]
    config_entities = [crate.add_file(p, f"config/{p.relative_to(checkout / 'config')}") for p in configs]
    run_inputs = []
    if configfile:
        run_inputs.append(
            crate.add_file(configfile, f"run-config/{Path(configfile).name}", properties={"name": "the run's config"})
        )

    snakemake_version = next(iter(records.values()))["environment"]["packages"].get("snakemake")
    engine = crate.add(
        ContextEntity(
            crate,
            "https://snakemake.github.io",
            properties={"@type": "SoftwareApplication", "name": "Snakemake", "version": snakemake_version},
        )
    )

    files: dict[str, object] = {}

    def file_entity(path: str, digest: str | None):
        """The table and records travel in the crate; other files are named, not carried."""
        if path in files:
            return files[path]
        if path == table:
            entity = crate.add_file(root / path, path, properties={"sha256": digest})
        else:
            kind = "Dataset" if (root / path).is_dir() else "File"
            entity = crate.add(
                ContextEntity(crate, f"#{path}", properties={"@type": kind, "name": path, "sha256": digest})
            )
        files[path] = entity
        return entity

    tools, steps = {}, {}
    for record in records.values():
        rule = record["job"]["rule"]
        if rule in tools:
            continue
        script = record["code"].get("script")
        if script and (checkout / script["path"]).is_file():
            tool = crate.add_file(
                checkout / script["path"],
                script["path"],
                properties={"@type": ["File", "SoftwareSourceCode"], "name": f"rule {rule}"},
            )
        else:
            tool = crate.add(ContextEntity(crate, f"#tool-{rule}", properties={"@type": "SoftwareApplication"}))
            tool["name"] = f"rule {rule}"
        tools[rule] = tool
        workflow.append_to("hasPart", tool)
    for position, rule in enumerate(sorted(tools)):
        step = crate.add(
            ContextEntity(
                crate,
                f"#step-{rule}",
                properties={"@type": "HowToStep", "name": rule, "position": str(position)},
            )
        )
        step["workExample"] = tools[rule]
        workflow.append_to("step", step)
        steps[rule] = step

    control_actions, record_entities = [], []
    for number, (home, record) in enumerate(sorted(records.items())):
        job = record["job"]
        wildcards = " ".join(f"{k}={v}" for k, v in job["wildcards"].items())
        record_entity = crate.add_file(
            root / home, home, properties={"name": f"lineage record of {job['rule']} {wildcards}".strip()}
        )
        record_entities.append(record_entity)
        for made in record["outputs"]:
            path = record_path(made["path"])
            if str(path) != home and (root / path).is_file():
                record_entities.append(crate.add_file(root / path, str(path), properties={"name": "lineage pointer"}))
        action = crate.add_action(
            tools[job["rule"]],
            identifier=f"#job-{number}",
            object=[file_entity(i["path"], i["sha256"]) for i in record["inputs"]],
            result=[file_entity(o["path"], o["sha256"]) for o in record["outputs"]],
            properties={
                "name": f"{job['rule']} {wildcards}".strip(),
                "startTime": record["started_at"],
                "endTime": record["ended_at"],
            },
        )
        action["subjectOf"] = record_entity
        control = crate.add(
            ContextEntity(crate, f"#control-{number}", properties={"@type": "ControlAction", "name": job["rule"]})
        )
        control["instrument"] = steps[job["rule"]]
        control["object"] = action
        control_actions.append(control)

    environments = {home: record["environment"] for home, record in records.items()}
    with tempfile.TemporaryDirectory() as tmp:
        env_path = Path(tmp) / "environment.json"
        env_path.write_text(json.dumps(environments, indent=2, sort_keys=True) + "\n")
        environment = crate.add_file(
            env_path,
            "environment.json",
            properties={"name": "package versions, Python, CPU and GPUs of each job, by its record"},
        )
        started = min(r["started_at"] for r in records.values())
        ended = max(r["ended_at"] for r in records.values())
        run = crate.add_action(
            workflow,
            identifier="#workflow-run",
            object=[*run_inputs, *config_entities],
            result=[file_entity(table, audit._hashes.get(root / table))],
            properties={"name": f"the workflow run that made {table}", "startTime": started, "endTime": ended},
        )
        crate.root_dataset.append_to("mentions", run)
        crate.root_dataset.append_to("hasPart", environment)
        crate.add(
            ContextEntity(
                crate,
                "#snakemake-run",
                properties={"@type": "OrganizeAction", "name": "Snakemake ran the jobs", "startTime": started},
            )
        )["instrument"] = engine
        organize = crate.get("#snakemake-run")
        organize["object"] = control_actions
        organize["result"] = run
        organize["endTime"] = ended
        crate.write_zip(str(output))
    return audit


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("table", help="a file under results/ (such as results/tables/findings.csv)")
    parser.add_argument("-o", "--output", required=True, help="the crate to write (.zip)")
    parser.add_argument("--directory", "-d", default=".", help="the workflow's working directory (holds results/)")
    parser.add_argument("--checkout", default=None, help="the workflow checkout (default: this one)")
    parser.add_argument("--configfile", default=None, help="the config file the run was made with, to include")
    parser.add_argument("--allow-code-drift", action="store_true", help="export although the code has changed")


def run(args: argparse.Namespace) -> int:
    root = Path(args.directory)
    table = relative_artifact(args.table, root)
    audit = build_crate(table, args.output, root, args.checkout, args.configfile, args.allow_code_drift)
    for p in audit.problems:
        print(p.line(), file=sys.stderr)
    jobs = sum(1 for j in audit.jobs.values() if j)
    print(f"wrote {args.output}: {table}, {jobs} jobs")
    return 0
