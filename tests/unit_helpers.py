"""Helpers of the unit tests: a benchmark of rule cells on a short scenario."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from hmarl_bench.harness.spec import BenchmarkSpec, load_benchmark

SCENARIO_DIR = Path(__file__).resolve().parents[1] / "experiments" / "scenarios"

BENCH = """
name = "{name}"
scenarios = ["{scenario}"]
baselines = {baselines}
tuning_seeds = [100, 101]
evaluation_seeds = [10000, 10001, 10002]
[clairvoyant]
enabled = false
[statistics]
n_resamples = 200
"""


def short_scenario(tmp_path: Path, days: int = 16) -> str:
    """The default scenario cut to ``days`` days (a MILP episode of a few seconds)."""
    text = (SCENARIO_DIR / "default.toml").read_text("utf-8")
    lines = [
        f"episode_days = {days}" if line.startswith("episode_days") else line
        for line in text.splitlines()
    ]
    path = tmp_path / "short.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def spec_of(tmp_path: Path, baselines: list[str], name: str = "units") -> BenchmarkSpec:
    text = BENCH.format(
        name=name, scenario=short_scenario(tmp_path), baselines=json.dumps(baselines)
    )
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return load_benchmark(path)


def stored(root: Path, name: str) -> dict:
    cells = root / name / "cells"
    return {
        p.stem: json.loads(p.read_text("utf-8"))
        for p in cells.glob("*.json")
        if not p.name.endswith(".error.json")
    }


def table_without_clock(path: Path) -> str:
    """A CSV table without its wall-clock columns (the decision time, measured where each
    cell ran): what two runs of the same cells on other workers must agree on exactly."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    return frame.drop(columns=[c for c in frame.columns if "decide_ms" in c]).to_csv(index=False)
