"""The documentation stays honest: every command it shows parses, every file it names exists.

Each command of a fenced block in README.md and docs/*.md whose first word is `snakemake`,
`make`, `guiding` or `python` is checked as far as it can be without running the study:
`snakemake` plans it (`-n`) in a scratch directory, `make` dry-runs the target, `guiding` goes
through the command's own parser, `python` finds the script or module and asks it for `--help`.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, workflow_command

from guiding.cli import build_parser

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^[ \t]*```(\w*)\n(.*?)^[ \t]*```", re.MULTILINE | re.DOTALL)  # in lists too
SHELL = ("", "bash", "sh", "shell", "console")  # fences whose lines are commands
CHECKED = ("snakemake", "make", "guiding", "python")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
CONFIG_PATH = re.compile(r"(?<![\w/.-])((?:config|tests/config|profiles)/[\w./-]+\.ya?ml)")
DOC_PATH = re.compile(r"(?<![\w/.-])(docs/[\w-]+\.md)")


def commands() -> list[tuple[str, list[str]]]:
    """(page, argv) for every checked command line of every fenced block, once each."""
    found: dict[tuple[str, ...], str] = {}
    for page in PAGES:
        for language, block in FENCE.findall(page.read_text()):
            if language not in SHELL:
                continue
            for line in block.splitlines():
                line = line.strip()
                if not line or Path(line.split()[0]).name not in CHECKED:
                    continue
                argv = shlex.split(line, comments=True)
                if argv:
                    found.setdefault((Path(argv[0]).name, *argv[1:]), page.name)
    return [(page, list(argv)) for argv, page in found.items()]


COMMANDS = commands()


def test_the_docs_show_commands_of_every_kind():
    kinds = {argv[0] for _, argv in COMMANDS}
    assert kinds == set(CHECKED), kinds


def config_files(argv: list[str]) -> list[str]:
    """The values of every --configfile (which takes several) in ``argv``."""
    files, taking = [], False
    for arg in argv:
        if arg.startswith("-"):
            taking = arg == "--configfile"
        elif taking:
            files.append(arg)
    return files


def local_data_files(config: Path) -> list[str]:
    """Local files a whole-study config reads (a user downloads them; planning needs them there)."""
    data = yaml.safe_load(config.read_text())
    sources = [
        *data.get("hub_tasks", {}).get("sources", []),
        *data.get("training", {}).get("stage1_data", {}).get("sources", []),
        *data.get("evaluation", {}).get("benchmarks", {}).values(),
    ]
    return sorted({s["source"] for s in sources if Path(s["source"]).suffix in (".jsonl", ".json", ".parquet")})


@pytest.mark.parametrize(("page", "argv"), COMMANDS, ids=[" ".join(a) for _, a in COMMANDS])
def test_every_command_in_the_docs_parses(page, argv, tmp_path):
    for config in config_files(argv):
        assert (ROOT / config).is_file(), f"{page}: {config} does not exist"
    program, args = argv[0], argv[1:]
    if program == "guiding":
        parser, _ = build_parser()
        parser.parse_args(args)  # exits (SystemExit) on an unknown subcommand or option
        return
    if program == "make":
        run = subprocess.run(["make", "-n", *args], cwd=ROOT, capture_output=True, text=True)
        assert run.returncode == 0, f"{page}: make -n {' '.join(args)}\n{run.stderr}"
        return
    if program == "python":
        target = args[1] if args[0] == "-m" else args[0]
        if args[0] == "-m":
            command = [sys.executable, "-c", f"import importlib.util as u; assert u.find_spec({target!r})"]
        else:
            assert (ROOT / target).is_file(), f"{page}: {target} does not exist"
            command = [sys.executable, str(ROOT / target), "--help"]
        run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        assert run.returncode == 0, f"{page}: {' '.join(argv)}\n{run.stderr[-2000:]}"
        return
    # snakemake: plan it in a scratch directory, with the files of the repository it names.
    absolute = [str(ROOT / a) if (ROOT / a).exists() and not a.startswith("-") else a for a in args]
    for config in config_files(argv):
        for path in local_data_files(ROOT / config):
            (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / path).touch()
    if "--use-conda" in absolute:  # conda is not installed here: plan without it
        absolute.remove("--use-conda")
    if "-n" not in absolute:
        absolute.append("-n")
    command = workflow_command(tmp_path, *absolute)
    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, f"{page}: {' '.join(argv)}\n{run.stdout[-2000:]}\n{run.stderr[-3000:]}"


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_relative_link_resolves(page):
    for target in LINK.findall(page.read_text()):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        path = (page.parent / target.split("#")[0]).resolve()
        assert path.exists(), f"{page.name}: the link {target} leads nowhere"


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_config_file_and_page_named_exists(page):
    text = page.read_text()
    for name in {*CONFIG_PATH.findall(text), *DOC_PATH.findall(text)}:
        assert (ROOT / name).exists(), f"{page.name} names {name}, which does not exist"


def test_the_readme_is_a_map():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 200


def test_the_cli_reference_is_generated_from_the_command_s_own_parser():
    from guiding.cli_docs import PAGE, render

    assert PAGE.read_text() == render(), "docs/cli.md is stale: run `python -m guiding.cli_docs --write`"
    _, modules = build_parser()
    assert [f"## guiding {name}" for name in modules] == re.findall(r"^## guiding [\w-]+$", PAGE.read_text(), re.M)


GUIDE = ROOT / "docs" / "extending.md"
# A path of the checkout in backquotes; placeholders such as <table> are not paths.
GUIDE_PATH = re.compile(r"`((?:src|tests|rules|config|scripts|report|docs|envs|profiles)/[^`<>\s]*)`")


def test_every_file_and_test_the_extending_guide_names_exists():
    text = GUIDE.read_text()
    paths = sorted(set(GUIDE_PATH.findall(text)))
    assert len(paths) > 20, paths  # the guide names its files
    assert [p for p in paths if not (ROOT / p).exists()] == []
    tests = "".join(p.read_text() for p in (ROOT / "tests").glob("test_*.py"))
    named = set(re.findall(r"`(test_\w+[a-z])`", text))  # whole names; `test_x_...` abbreviates one
    assert named and [t for t in named if f"def {t}(" not in tests] == []


def test_the_guides_stay_short():
    for page in (GUIDE, ROOT / "docs" / "cli.md"):
        assert len(page.read_text().splitlines()) <= 250, page.name


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_page_is_reference_sized(page):
    """A page says how things work now; history goes to docs/log/, long tables beside their bench."""
    lines = len(page.read_text().splitlines())
    assert lines <= MAX_PAGE_LINES, f"{page.name} has {lines} lines (at most {MAX_PAGE_LINES})"


# A commit hash: 7-40 hex digits with at least one letter and one digit, standing alone.
COMMIT = re.compile(r"(?<![\w/.#-])(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{7,40}(?![\w-])")
MEASURED = re.compile(r"^\W*measured\b|\bmeasured at\b", re.IGNORECASE)
MAX_PAGE_LINES = 250


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_commit_hashes_only_where_a_figure_was_measured(page):
    """A commit named in a page dates a measurement: it stands on a "Measured at ..." line.
    History (which commit changed what) belongs in docs/log/ or CHANGELOG.md, which this skips."""
    for number, line in enumerate(page.read_text().splitlines(), start=1):
        if COMMIT.search(line):
            assert MEASURED.search(line), f"{page.name}:{number}: a commit outside a 'Measured at' line: {line}"


def test_the_rules_catch_what_they_are_for():
    assert COMMIT.search("the run of ea50178, on machine C") and not COMMIT.search("a sha256 of deadbeef")
    assert MEASURED.search("Measured at ea50178 on machine C") and MEASURED.search("run 1 was measured at 4fffdba")
    assert not MEASURED.search("fixed in ea50178")
