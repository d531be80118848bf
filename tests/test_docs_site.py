"""The documentation site builds with ``mkdocs build --strict``: every page in the nav,
every link and anchor resolves, every API reference renders from its docstring."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MISSING = [m for m in ("mkdocs", "material", "mkdocstrings_handlers.python") if not find_spec(m)]


@pytest.mark.skipif(
    bool(MISSING),
    reason=f"needs the docs extra (pip install -e '.[docs]'): {MISSING} not installed",
)
def test_mkdocs_build_strict(tmp_path):
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "NO_MKDOCS_2_WARNING": "1",
    }
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    site = tmp_path / "site"
    # the API reference rendered the environments' docstrings
    assert "HMARLEnvironment" in (site / "environments" / "index.html").read_text("utf-8")
    # the results pages' links to the committed tables and figures are published with them
    assert (site / "results" / "frontier" / "tables" / "headline" / "index.html").is_file()
    assert (site / "results" / "frontier" / "figures" / "paired_difference.png").is_file()
    # a list right after a paragraph line (as GitHub reads it) is a list on the site too
    assert "<li>seed track:" in (site / "results" / "frontier" / "index.html").read_text("utf-8")
    # the quick start includes the committed timing verbatim
    quickstart = (ROOT / "results" / "speed" / "quickstart.txt").read_text("utf-8")
    first = quickstart.splitlines()[1]
    assert first.split(";")[0] in (site / "quickstart" / "index.html").read_text("utf-8")
