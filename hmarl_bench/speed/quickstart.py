"""Time the README's quick-start command, so the README's quick-start figures are measured.

``python -m hmarl_bench.speed --quickstart [--readme README.md]`` runs the quick start's
training command (``python -m hmarl_bench.run --algo ppo``, into a temporary folder) as a
fresh process and writes ``quickstart.txt`` to ``--out``: the exact command timed, its
wall time (Python start, imports, training, evaluation, baselines, files), the training
time the run itself reports, and the held-out total costs it printed, with the machine's
facts. ``--readme`` copies the file into the README between ``<!-- speed:quickstart -->``
and ``<!-- /speed:quickstart -->``; a test checks the two agree, as for the speed table.
The install step of the quick start is not timed (it depends on the network and caches).
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hmarl_bench._atomic import write_atomic
from hmarl_bench.speed.measure import load_average

__all__ = ["QUICKSTART_ARGS", "README_KEY", "Quickstart", "readme_block", "time_quickstart"]

#: The quick start's training command, after ``python -m hmarl_bench.run``.
QUICKSTART_ARGS = ("--algo", "ppo")
README_KEY = "speed:quickstart"
FILE = "quickstart.txt"


@dataclass(frozen=True)
class Quickstart:
    """One timed quick-start run."""

    command: str
    wall_seconds: float
    train_seconds: float
    timesteps: int
    scenario: str
    episodes: int
    results: pd.DataFrame  # policy, total_cost, total_cost_ci_low, total_cost_ci_high
    load_start: float
    load_end: float

    def text(self) -> str:
        """The lines of ``quickstart.txt``."""
        width = max(len(str(p)) for p in self.results["policy"])
        costs = [
            f"  {r.policy:<{width}}  {r.total_cost:>9,.0f} [{r.total_cost_ci_low:,.0f}, "
            f"{r.total_cost_ci_high:,.0f}]"
            for r in self.results.itertuples(index=False)
        ]
        return "\n".join(
            [
                f"$ {self.command}",
                f"whole command: {self.wall_seconds:.0f} s wall; training: "
                f"{self.train_seconds:.0f} s for {self.timesteps:,} agent-steps "
                f"({self.timesteps / max(self.train_seconds, 1e-9):,.0f} agent-steps/s)",
                f"held-out total cost on '{self.scenario}', mean [95% CI] over "
                f"{self.episodes} episodes:",
                *costs,
                f"{platform.python_implementation()} {platform.python_version()}, "
                f"{os.cpu_count()} CPUs, load average {self.load_start:.2f} at the start and "
                f"{self.load_end:.2f} at the end",
            ]
        )


def time_quickstart(run_args: Sequence[str] = ()) -> Quickstart:
    """Run ``python -m hmarl_bench.run --algo ppo [run_args]`` in a fresh process, timed.

    Raises ``RuntimeError`` with the run's last output lines when it fails.
    """
    args = [*QUICKSTART_ARGS, *run_args]
    with tempfile.TemporaryDirectory(prefix="hmarl_quickstart_") as folder:
        argv = [sys.executable, "-m", "hmarl_bench.run", *args, "--out", folder, "--no-progress"]
        load_start = load_average()
        start = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-5:])
            raise RuntimeError(f"the quick-start run failed ({done.returncode}):\n{tail}")
        config = json.loads((Path(folder) / "config.json").read_text("utf-8"))
        results = pd.read_csv(Path(folder) / "results.csv")
    timesteps = config.get("timesteps_trained") or (  # the steps trained, whole rollouts
        config["args"]["timesteps"] or config["hyperparams"]["timesteps"]
    )
    return Quickstart(
        command=shlex.join(["python", "-m", "hmarl_bench.run", *args]),
        wall_seconds=wall,
        train_seconds=float(config["train_seconds"]),
        timesteps=int(timesteps),
        scenario=str(config["scenario"]["name"]),
        episodes=len(config["eval_seeds"]),
        results=results[["policy", "total_cost", "total_cost_ci_low", "total_cost_ci_high"]],
        load_start=load_start,
        load_end=load_average(),
    )


def write(result: Quickstart, out: Path) -> Path:
    """``quickstart.txt`` in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / FILE
    write_atomic(path, result.text() + "\n")
    return path


def readme_block(out: Path) -> str:
    """The README's copy of ``quickstart.txt`` in ``out``, verbatim, as a text block."""
    return "```text\n" + (Path(out) / FILE).read_text("utf-8") + "```\n"
