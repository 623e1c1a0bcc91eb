"""The ``guiding`` command: ``guiding serve`` (guiding.llm.serve), ``guiding estimate``
(guiding.estimate: what the LLM calls will cost) and ``guiding gpu-budget``
(guiding.report.gpu_budget: what training and evaluation will take), ``guiding plan-seeds``
(guiding.report.plan_seeds: the seeds an inconclusive comparison needs), ``guiding audit``
(guiding.core.provenance.audit: a table's lineage, re-hashed and checked), ``guiding crate``
(guiding.core.provenance.crate: the lineage as a Workflow Run RO-Crate) and
``guiding verdict-stability`` (guiding.report.stability: two runs' findings compared verdict by
verdict). ``docs/cli.md`` is generated from this parser (``python -m guiding.cli_docs``)."""

from __future__ import annotations

import argparse
import sys


def build_parser() -> tuple[argparse.ArgumentParser, dict]:
    """The command's parser and its subcommands' modules (each has ``add_arguments`` and ``run``)."""
    parser = argparse.ArgumentParser(prog="guiding")
    commands = parser.add_subparsers(dest="command", required=True)
    from . import estimate
    from .core.provenance import audit, crate
    from .llm import serve
    from .report import gpu_budget, plan_seeds, stability
    from .tasks import math_release

    modules = {
        "serve": serve,
        "estimate": estimate,
        "gpu-budget": gpu_budget,
        "plan-seeds": plan_seeds,
        "audit": audit,
        "crate": crate,
        "verdict-stability": stability,
        "prepare-math-train": math_release,
    }
    for name, module in modules.items():
        module.add_arguments(commands.add_parser(name, help=module.__doc__.split("\n\n")[0]))
    return parser, modules


def main(argv: list[str] | None = None) -> None:
    parser, modules = build_parser()
    args = parser.parse_args(argv)
    sys.exit(modules[args.command].run(args) or 0)


if __name__ == "__main__":
    main()
