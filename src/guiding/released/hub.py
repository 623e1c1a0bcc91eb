"""The released dataset from the Hugging Face hub (rule import_released without a local copy)."""

from __future__ import annotations

from pathlib import Path


def download(dataset: str, revision: str, folders: list[str]) -> tuple[Path, str]:
    """A local snapshot of the released dataset's ``folders`` from the hub, and the commit it is at.

    Needs network access to huggingface.co; the files are cached by huggingface_hub.
    """
    from huggingface_hub import HfApi, snapshot_download

    commit = HfApi().dataset_info(dataset, revision=revision).sha
    path = snapshot_download(
        dataset, repo_type="dataset", revision=commit, allow_patterns=[f"{folder}/**" for folder in folders]
    )
    return Path(path), commit
