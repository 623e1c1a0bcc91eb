"""``docs/cli.md``, written from the ``guiding`` command's own parser: ``python -m guiding.cli_docs``
prints the page (``--write`` writes it), and ``tests/test_docs.py`` checks the page against it, so
the reference cannot drift from the options the command takes."""

from __future__ import annotations

import argparse
import sys

from .cli import build_parser
from .core.paths import CHECKOUT

PAGE = CHECKOUT / "docs" / "cli.md"
HEADER = """# The `guiding` command

Every subcommand of `guiding` (installed with the package: `pip install -e .` or `make install`),
with its arguments. This page is generated from the command's own parser:
`python -m guiding.cli_docs --write` rewrites it, and `tests/test_docs.py` fails when it is stale.
`guiding <command> --help` prints the same options in the terminal.
"""


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _cell(text: str) -> str:
    """Text for a Markdown table cell: one line, pipes escaped, the checkout's path shown relative."""
    text = " ".join(str(text).split()).replace("|", "\\|").replace("``", "`")
    return text.replace(f"{CHECKOUT}/", "")


def _argument(action: argparse.Action) -> str:
    if not action.option_strings:
        name = action.metavar or action.dest
        return f"`{name}{' ...' if action.nargs in ('+', '*') else ''}`"
    takes = action.nargs != 0
    metavar = action.metavar or action.dest.upper()
    return ", ".join(f"`{option}{f' {metavar}' if takes else ''}`" for option in action.option_strings)


def _default(action: argparse.Action) -> str:
    if action.nargs == 0 or action.default in (None, argparse.SUPPRESS, [], "") or not action.option_strings:
        return ""
    default = " ".join(map(str, action.default)) if isinstance(action.default, list) else action.default
    return f"`{_cell(default)}`"


def render(parser: argparse.ArgumentParser | None = None) -> str:
    """The page: a table of the subcommands, then each one's arguments."""
    parser = parser or build_parser()[0]
    commands = _subcommands(parser)
    choices = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))._choices_actions
    helps = {a.dest: a.help for a in choices}
    lines = [HEADER, "| command | what it does |", "|---|---|"]
    lines += [f"| [`guiding {name}`](#guiding-{name}) | {_cell(helps.get(name) or '')} |" for name in commands]
    for name, sub in commands.items():
        lines += ["", f"## guiding {name}", "", _cell(helps.get(name) or ""), ""]
        lines += ["| argument | default | meaning |", "|---|---|---|"]
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            lines.append(f"| {_argument(action)} | {_default(action)} | {_cell(action.help or '')} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m guiding.cli_docs", description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help=f"write the page to {PAGE.relative_to(CHECKOUT)}")
    args = parser.parse_args(argv)
    page = render()
    if args.write:
        PAGE.write_text(page, encoding="utf-8")
        print(f"wrote {PAGE.relative_to(CHECKOUT)}")
    else:
        sys.stdout.write(page)


if __name__ == "__main__":
    main()
