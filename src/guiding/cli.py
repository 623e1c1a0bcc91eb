"""The ``guiding`` command: ``guiding serve`` (see guiding.llm.serve) and ``guiding estimate``
(see guiding.estimate)."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="guiding")
    commands = parser.add_subparsers(dest="command", required=True)
    from . import estimate
    from .llm import serve

    serve.add_arguments(commands.add_parser("serve", help=serve.__doc__.split("\n\n")[0]))
    estimate.add_arguments(commands.add_parser("estimate", help=estimate.__doc__.split("\n\n")[0]))
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve.run(args)
    elif args.command == "estimate":
        sys.exit(estimate.run(args))


if __name__ == "__main__":
    main()
