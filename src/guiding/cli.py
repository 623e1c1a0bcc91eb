"""The ``guiding`` command. Its one subcommand so far: ``guiding serve`` (see guiding.llm.serve)."""

from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="guiding")
    commands = parser.add_subparsers(dest="command", required=True)
    from .llm import serve

    serve.add_arguments(commands.add_parser("serve", help=serve.__doc__.split("\n\n")[0]))
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve.run(args)


if __name__ == "__main__":
    main()
