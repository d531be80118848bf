"""Figures are byte-identical across fresh processes and fresh font caches.

A fresh install builds a new font cache; which copy of a font it lists first (matplotlib's
bundled DejaVu Sans or a system one of the same name) used to decide the font embedded in
every PDF. Here ``--only-tables`` remakes the smoke benchmark's report from its committed
cells twice, each in a new process with its own empty ``MPLCONFIGDIR``, and every figure
must come out byte for byte the same, in matplotlib's bundled font.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "results" / "smoke"


def _remake(tmp: Path, name: str) -> tuple[subprocess.Popen, Path]:
    out = tmp / name
    target = out / "smoke"
    shutil.copytree(SMOKE / "cells", target / "cells")
    for extra in ("tuning",):
        if (SMOKE / extra).is_dir():
            shutil.copytree(SMOKE / extra, target / extra)
    shutil.copy(SMOKE / "manifest.json", target / "manifest.json")
    env = {**os.environ, "MPLCONFIGDIR": str(tmp / f"mplconfig_{name}"), "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "hmarl_bench.benchmark", "smoke", "--only-tables",
               "--out", str(out)]  # fmt: skip
    proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)  # fmt: skip
    return proc, target


@pytest.mark.slow
def test_remade_figures_are_byte_identical_in_fresh_processes(tmp_path):
    runs = [_remake(tmp_path, name) for name in ("a", "b")]
    for proc, _ in runs:
        output, _ = proc.communicate(timeout=900)
        assert proc.returncode == 0, output
    (_, first), (_, second) = runs
    names = sorted(p.name for p in (first / "figures").iterdir())
    assert names == sorted(p.name for p in (second / "figures").iterdir())
    assert {"total_cost.pdf", "total_cost_1col.png", "paired_difference_zoom.pdf"} <= set(names)
    for name in names:
        a, b = (first / "figures" / name).read_bytes(), (second / "figures" / name).read_bytes()
        assert a == b, f"{name} differs between two fresh builds"
    pdf = (first / "figures" / "total_cost.pdf").read_bytes()
    assert b"DejaVuSans" in pdf and b"CreationDate" not in pdf and b"Matplotlib" not in pdf
    plotting = json.loads((first / "manifest.json").read_text())["plotting"]
    assert {"matplotlib", "fonttools", "seaborn", "font"} <= set(plotting)
    assert (first / "manifest.json").read_bytes() == (second / "manifest.json").read_bytes()
