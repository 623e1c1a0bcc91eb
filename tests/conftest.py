import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
SMALL = ROOT / "tests" / "config" / "small.yaml"


def small_study_command(workdir: Path, *args: str, configfile: Path = SMALL) -> list[str]:
    """Snakemake on this workflow in ``workdir`` with ``configfile`` alone (the small study)."""
    return [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(ROOT / "Snakefile"),
        "--directory",
        str(workdir),
        "--replace-workflow-config",
        "--configfile",
        str(configfile),
        *args,
    ]
