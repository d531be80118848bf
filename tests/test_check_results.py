""".ci/check_results: CI fails while a benchmark's committed cells are not current, unless
results/PENDING_RERUN lists it with a reason (then it prints the count and the reason)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / ".ci" / "check_results"

CONFIG = """
name = "{name}"
scenarios = ["default"]
baselines = ["seed_ss_actions", "random"]
tuning_seeds = [100]
evaluation_seeds = [10000, 10001]
[clairvoyant]
enabled = false
[statistics]
n_resamples = 100
"""


def _check(results: Path, configs: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PYTHON": sys.executable,
        "CONFIGS": str(configs),
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.run(
        ["bash", str(SCRIPT), str(results)], capture_output=True, text=True, env=env, timeout=300
    )


@pytest.fixture
def folders(tmp_path) -> tuple[Path, Path]:
    """A results folder with a current benchmark ('done'), one with no cells ('todo') and
    one without a config ('other', ignored)."""
    from hmarl_bench import benchmark

    results, configs = tmp_path / "results", tmp_path / "configs"
    configs.mkdir()
    for name in ("done", "todo"):
        (configs / f"{name}.toml").write_text(CONFIG.format(name=name), encoding="utf-8")
    args = [str(configs / "done.toml"), "--out", str(results), "--no-figures", "--no-progress"]
    assert benchmark.main(args) == 0
    (results / "todo").mkdir()
    (results / "other").mkdir()
    return results, configs


def test_fails_on_cells_not_current_unless_pending(folders):
    results, configs = folders
    done = _check(results, configs)
    assert done.returncode == 1
    assert "ok       done: 2 cells" in done.stdout and "2 current" in done.stdout
    assert "FAILED   todo" in done.stderr and "other" not in done.stdout + done.stderr

    (results / "PENDING_RERUN").write_text(
        "# name  reason\ntodo   the dynamics changed; rerun scheduled\n", encoding="utf-8"
    )
    done = _check(results, configs)
    assert done.returncode == 0, done.stderr
    assert "pending  todo: 2 of 2 cells not current" in done.stdout
    assert "the dynamics changed; rerun scheduled" in done.stdout
    assert "CPU-hours" not in done.stdout  # no stored time to go by

    # a stale cell stored for other seeds: an estimate, said to be partly rough
    stored = json.loads((results / "done" / "cells" / "default__random.json").read_text("utf-8"))
    other = {**stored["cell"], "evaluation_seeds": [10000]}
    (results / "todo" / "cells").mkdir()
    (results / "todo" / "cells" / "default__random.json").write_text(
        json.dumps({**stored, "fingerprint": "old", "seconds": 36000.0, "cell": other}), "utf-8"
    )
    done = _check(results, configs)
    assert done.returncode == 0, done.stderr
    assert "about 10.0 CPU-hours one cell per core, partly from cells stored for other" in (
        done.stdout
    )
    # the other cell has no stored time: the estimate says it leaves it out
    assert "not counting 1 with no stored time to go by" in done.stdout

    (results / "done" / "cells" / "default__random.json").unlink()  # not listed: fails
    done = _check(results, configs)
    assert done.returncode == 1 and "FAILED   done" in done.stderr
