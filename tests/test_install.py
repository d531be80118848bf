"""A non-editable install (``pip install .``) carries the scenarios, hyperparameters and
benchmark configs: without them ``list_scenarios()`` is empty and every run refuses its
scenario. The package is built from a copy of the project's files into a bare target folder
and imported from there alone, away from the checkout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import json, hmarl_bench
from hmarl_bench.config import list_scenarios, load_scenario
from hmarl_bench.harness.manifest import config_label
from hmarl_bench.harness.spec import load_benchmark
from hmarl_bench.learn.hyperparam_keys import load_hyperparams
from hmarl_bench.locations import experiments_dir
from hmarl_bench.learn.hdpo import load_hdpo_hyperparams
smoke = load_benchmark("smoke")
print(json.dumps({
    "file": hmarl_bench.__file__,
    "scenarios": list_scenarios(),
    "three_stores": load_scenario("three_stores").n_stores,
    "n_steps": load_hyperparams("ppo")["n_steps"],
    "smoke": smoke.name,
    "label": config_label(smoke.source),
    "rl_zoo3": experiments_dir("rl_zoo3", "ppo.yml").is_file(),
    "hdpo_steps": load_hdpo_hyperparams()["steps"],
}))
"""


def test_non_editable_install_ships_the_experiment_files(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md"):
        shutil.copy(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "_experiments")
    for name in ("hmarl_bench", "experiments"):
        shutil.copytree(ROOT / name, source / name, ignore=ignore)
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(target), str(source)],
        check=True, capture_output=True, cwd=tmp_path,
    )  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert Path(found["file"]).is_relative_to(target)
    shipped = sorted(p.stem for p in (ROOT / "experiments" / "scenarios").glob("*.toml"))
    assert found["scenarios"] == shipped
    assert found["three_stores"] == 3 and found["n_steps"] > 0 and found["smoke"] == "smoke"
    assert found["label"] == "experiments/benchmarks/smoke.toml" and found["rl_zoo3"]
    assert found["hdpo_steps"] > 0  # HDPO's file too, not the checkout's path
    run = subprocess.run(
        [sys.executable, "-m", "hmarl_bench.run", "--scenario", "nope"],
        env=env, cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 2 and "choose one of ['default'" in run.stderr
