"""Conda env files: each parses, every rule names one (and a log), and pins agree with pyproject."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ENVS = sorted((ROOT / "envs").glob("*.yaml"))
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)$")


def pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        specs += extra
    pins = {}
    for spec in specs:
        m = PIN.match(spec)
        assert m, f"pyproject.toml: {spec!r} is not pinned with =="
        pins[m[1].lower()] = m[2]
    return pins


def env_pins(path: Path) -> dict[str, str]:
    env = yaml.safe_load(path.read_text())
    pins = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for spec in dep["pip"]:
                if spec.startswith("--"):
                    continue
                m = PIN.match(spec)
                assert m, f"{path.name}: pip requirement {spec!r} is not pinned with =="
                pins[m[1].lower()] = m[2]
    return pins


def test_there_is_one_env_per_group_of_rules():
    assert {p.stem for p in ENVS} == {"data", "training", "evaluation", "report"}


@pytest.mark.parametrize("path", ENVS, ids=lambda p: p.name)
def test_env_files_parse_and_agree_with_pyproject(path):
    env = yaml.safe_load(path.read_text())
    assert env["channels"] and any(str(d).startswith("python=") for d in env["dependencies"])
    pins, project = env_pins(path), pyproject_pins()
    assert pins, f"{path.name} pins nothing"
    for name, version in pins.items():
        assert name in project, f"{path.name}: {name} is not a dependency in pyproject.toml"
        assert project[name] == version, f"{path.name}: {name}=={version} but pyproject.toml pins {project[name]}"


def test_every_rule_has_a_conda_env_and_a_log():
    # The rules Snakemake itself parses must be exactly the rules found in rules/, each with env and log.
    listing = subprocess.run(
        [sys.executable, "-m", "snakemake", "--list-rules", "--directory", str(ROOT)],
        capture_output=True, text=True, cwd=ROOT, check=True,
    ).stdout.split()
    text = "\n".join(p.read_text() for p in (ROOT / "rules").glob("*.smk"))
    blocks = re.split(r"^rule ", text, flags=re.M)[1:]
    by_name = {b.split(":", 1)[0]: b for b in blocks}
    assert set(by_name) == set(listing) - {"all"}, "rules parsed by Snakemake differ from rules in rules/"
    for name, block in by_name.items():
        conda = re.search(r"conda:\s*\n\s*\"\.\./envs/(\w+)\.yaml\"", block)
        assert conda, f"rule {name} names no conda env"
        assert (ROOT / "envs" / f"{conda[1]}.yaml").exists(), f"rule {name}: envs/{conda[1]}.yaml is missing"
        assert re.search(r"^\s+log:", block, flags=re.M), f"rule {name} has no log"
