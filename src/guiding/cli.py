"""The ``guiding`` command: ``guiding serve`` (guiding.llm.serve) and ``guiding gpu-budget``
(guiding.report.gpu_budget)."""

from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="guiding")
    commands = parser.add_subparsers(dest="command", required=True)
    from .llm import serve
    from .report import gpu_budget

    modules = {"serve": serve, "gpu-budget": gpu_budget}
    for name, module in modules.items():
        module.add_arguments(commands.add_parser(name, help=module.__doc__.split("\n\n")[0]))
    args = parser.parse_args(argv)
    modules[args.command].run(args)


if __name__ == "__main__":
    main()
