"""A built Snakemake report as a browser shows it: Debian's headless Chromium runs the report's
JavaScript app, and tests/report_driver.js walks it as a reader would (menu, categories, result
rows, eye and info buttons) and writes what it saw into the DOM that ``--dump-dom`` returns.

The report embeds every result as a data: URI in a JSON payload (``var results = {...}``); the
page shows a result's name and labels until its buttons are clicked, so both are read: the payload
from the HTML, the rest from the DOM after the clicks.
"""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

DRIVER = Path(__file__).with_name("report_driver.js")
CHROMIUM_NAMES = ("chromium", "chromium-browser")  # Debian's package, and its name elsewhere
# A headless run that reaches nothing outside the page (the report is one self-contained file).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # as root in a container
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--allow-file-access-from-files",
    "--window-size=1280,800",  # a laptop's screen
)


def chromium() -> str | None:
    """The Chromium binary on PATH, if any."""
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


def dump_dom(page: Path, *, budget_ms: int = 120000, timeout: float = 900) -> str:
    """The DOM of ``page`` after its scripts ran (up to ``budget_ms`` of virtual time: timers
    run ahead of the clock, so the budget costs wall time only where the page computes)."""
    binary = chromium()
    if binary is None:
        raise FileNotFoundError(f"no Chromium on PATH (looked for {', '.join(CHROMIUM_NAMES)})")
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        done = subprocess.run(
            [
                binary,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--virtual-time-budget={budget_ms}",
                "--dump-dom",
                page.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    if done.returncode != 0 or "<html" not in done.stdout:
        raise RuntimeError(f"chromium failed ({done.returncode}) on {page}:\n{done.stderr[-3000:]}")
    return done.stdout


def walk(report: Path, workdir: Path) -> dict:
    """What tests/report_driver.js saw in ``report``, read from the DOM that Chromium dumps.
    The driver runs on a copy of the report in ``workdir``, appended as the last script."""
    page = workdir / "report-walked.html"
    source = report.read_text()
    closing = source.rindex("</body>")
    page.write_text(f"{source[:closing]}<script>\n{DRIVER.read_text()}\n</script>\n{source[closing:]}")
    dom = dump_dom(page)
    (workdir / "report-walked.dom.html").write_text(dom)  # to look at where a check fails
    found = re.findall(r'<pre id="report-check">([^<]*)</pre>', dom)  # the element, not the driver's text
    if not found:
        raise AssertionError(f"the driver left no result in the DOM; the DOM ends:\n{dom[-3000:]}")
    return json.loads(html.unescape(found[-1]))


def payload(report: Path, variable: str, script_id: str | None = None):
    """A JSON variable of the report's payload (``results``, ``categories``, ...), as the HTML
    holds it, in the <script> of id ``script_id`` (default: the variable's name)."""
    script_id = script_id or variable
    found = re.search(rf'<script id="{script_id}">\s*var {variable} = (.*?);\s*</script>', report.read_text(), re.S)
    if found is None:
        raise AssertionError(f"{report}: no payload <script id={script_id!r}> with var {variable}")
    return json.loads(found[1])


def decode_data_uri(uri: str) -> bytes:
    """The bytes of a base64 data: URI, as the report writes them."""
    head, _, data = uri.partition(",")
    if not head.startswith("data:") or not head.endswith(";base64"):
        raise ValueError(f"not a base64 data: URI: {uri[:80]}")
    return base64.b64decode(data)
