"""Reading a study's config files as the workflow does: layered on the embedded default unless one
names its ``mode``, recipes given as files read in, the schema's defaults filled."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from ..config_values import ConfigError
from ..design import RECIPE_STAGES
from .checks import check_config


def load_recipes(config: dict, root: str | os.PathLike) -> dict:
    """Replace each recipe given as a file path (one YAML per stage) by the file's fields.

    A relative path is looked up in the working directory, then under ``root`` (the workflow's
    directory), so the shipped recipes work from any ``--directory``. Runs before the schema
    check, which then sees the fields themselves.
    """
    training = config.get("training", {})
    for stage in RECIPE_STAGES:
        recipe = training.get(stage)
        if not isinstance(recipe, str):
            continue
        candidates = [Path(recipe)] if Path(recipe).is_absolute() else [Path(recipe), Path(root) / recipe]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise ConfigError(f"training.{stage}: no recipe file {recipe!r} (looked in {[str(c) for c in candidates]})")
        fields = yaml.safe_load(found.read_text())
        if not isinstance(fields, dict):
            raise ConfigError(f"training.{stage}: {recipe} holds no mapping of SFTConfig fields")
        training[stage] = fields
    launcher = training.get("launcher")
    if isinstance(launcher, str) and not Path(launcher).is_absolute() and not Path(launcher).is_file():
        if (Path(root) / launcher).is_file():
            training["launcher"] = str(Path(root) / launcher)
    return config


def layered_config_files(paths, root: str | os.PathLike) -> list:
    """The config files in the order Snakemake reads them from this workflow: ``paths`` alone when
    one names its ``mode`` (a whole study), else the embedded default with ``paths`` layered on it."""
    paths = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    return paths if names_whole_study(paths) else [Path(root) / "config" / "config.yaml", *paths]


def names_whole_study(paths) -> bool:
    """Whether one of the config files at ``paths`` names its ``mode``: a whole study, which replaces
    the embedded default (the others are overlays on it)."""
    return any("mode" in (yaml.safe_load(Path(path).read_text()) or {}) for path in paths)


def load_config(paths, root: str | os.PathLike, check: bool = True) -> dict:
    """The config file(s) at ``paths`` (one path or several, merged key by key in order, as Snakemake
    merges --configfile; layered on the embedded default where none names its mode) as the workflow
    sees them: recipes read, schema defaults filled and, with ``check``, the cross-field checks
    passed (for tools that run outside Snakemake)."""
    from snakemake.utils import update_config, validate

    config: dict = {}
    for path in layered_config_files(paths, root):
        update_config(config, yaml.safe_load(Path(path).read_text()) or {})
    load_recipes(config, root)
    validate(config, str(Path(root) / "config" / "schema.yaml"), set_default=True)
    if check:
        check_config(config)
    return config
