"""Ctrl-C during training (a real SIGINT to a real process) and --resume to the full budget."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from hmarl_bench.run import main

ROOT = Path(__file__).resolve().parents[1]
TINY = [
    "--n-envs", "2", "--eval-episodes", "2", "--no-progress",
    "--hp", "n_steps=64", "--hp", "batch_size=128", "--hp", "n_epochs=1",
]  # fmt: skip


def _interrupt_when(argv: list[str], ready: Path) -> subprocess.CompletedProcess:
    """Start ``python -m hmarl_bench.run argv``, send SIGINT once ``ready`` exists."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "hmarl_bench.run", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 300  # a guard against a hang, not a timing assertion
    while not ready.exists():
        assert process.poll() is None, f"ended before {ready} appeared: {process.communicate()}"
        assert time.monotonic() < deadline, f"{ready} never appeared"
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=300)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def _one_clean_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err and len(lines) == 1, err
    return lines[0]


@pytest.mark.slow
def test_sigint_saves_the_run_and_resume_reaches_the_full_budget(tmp_path):
    out = tmp_path / "run"
    argv = [*TINY, "--timesteps", "8192", "--eval-freq", "2048", "--out", str(out)]
    stopped = _interrupt_when(argv, out / "checkpoints")
    assert stopped.returncode == 130
    line = _one_clean_line(stopped.stderr)
    assert line.startswith("interrupted at") and f"--resume {out}" in line
    config = json.loads((out / "config.json").read_text())
    done = config["timesteps_trained"]
    assert config["status"] == "interrupted" and 0 < done < 8192 and done % 256 == 0
    assert (out / "model.zip").is_file() and (out / f"checkpoints/ppo_{done}_steps.zip").is_file()
    assert pd.read_csv(out / "learning_curve.csv")["timesteps"].max() <= done

    assert main(["--resume", str(out), "--no-progress"]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["status"] == "complete" and config["timesteps_trained"] == 8192
    curve = pd.read_csv(out / "learning_curve.csv")
    assert curve["timesteps"].is_monotonic_increasing and curve["timesteps"].iloc[-1] == 8192
    assert (out / "results.csv").is_file()


@pytest.mark.slow
def test_sigint_in_rounds_resumes_at_the_right_round_and_learner(tmp_path):
    out = tmp_path / "rounds"
    argv = [*TINY, "--timesteps", "2048", "--eval-freq", "1024", "--out", str(out)]
    argv += ["--learners", "stores,warehouse", "--rounds", "2"]
    stopped = _interrupt_when(argv, out / "round_1" / "stores.zip")
    assert stopped.returncode == 130
    assert "python -m hmarl_bench.run --resume" in _one_clean_line(stopped.stderr)
    config = json.loads((out / "config.json").read_text())
    assert config["status"] == "interrupted" and 1 <= len(config["done"]) < 4

    assert main(["--resume", str(out), "--no-progress"]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["status"] == "complete"
    assert [(d["round"], d["learner"]) for d in config["done"]] == [
        (1, "stores"), (1, "warehouse"), (2, "stores"), (2, "warehouse"),
    ]  # fmt: skip
    assert all(d["timesteps"] == 2048 for d in config["done"])
    assert len(pd.read_csv(out / "rounds.csv")) == 2
