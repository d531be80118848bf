"""--resume after a kill: the curve written so far survives, a truncated checkpoint is named
and passed over, no checkpoint left is a one-line refusal, --restart starts over."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from hmarl_bench.learn import checkpoints
from hmarl_bench.run import main

TINY = [
    "--n-envs", "2", "--eval-episodes", "2", "--no-progress", "--timesteps", "2048",
    "--eval-freq", "256", "--hp", "n_steps=64", "--hp", "batch_size=128", "--hp", "n_epochs=1",
]  # fmt: skip


class Killed(BaseException):
    """Stands for SIGKILL: nothing of the run's own error handling runs."""


@pytest.fixture(scope="module")
def killed_run(tmp_path_factory) -> Path:
    """A run killed right after its checkpoint at 1,536 agent-steps (checkpoints every 512,
    curve points every 256: the last point it made, at 1,536, is in the curve)."""
    out = tmp_path_factory.mktemp("resume") / "run"
    real = checkpoints.RolloutCheckpoints.save
    monkeypatch = pytest.MonkeyPatch()

    def save(self):
        saved = real(self)
        if self.steps_done >= 1536:
            raise Killed
        return saved

    monkeypatch.setattr(checkpoints.RolloutCheckpoints, "save", save)
    try:
        with pytest.raises(Killed):
            main([*TINY, "--out", str(out)])
    finally:
        monkeypatch.undo()
    return out


def _copy(run: Path, tmp_path: Path) -> Path:
    shutil.copytree(run, tmp_path / "run")
    return tmp_path / "run"


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_the_curve_survives_a_kill_and_resuming_never_repeats_a_point(killed_run, tmp_path):
    out = _copy(killed_run, tmp_path)
    assert json.loads((out / "config.json").read_text())["status"] == "training"
    before = pd.read_csv(out / "learning_curve.csv")  # written point by point, atomically
    assert list(before["timesteps"]) == [0, 256, 512, 768, 1024, 1280, 1536]
    assert main(["--resume", str(out), "--no-progress"]) == 0
    after = pd.read_csv(out / "learning_curve.csv")
    assert after["timesteps"].is_unique and after["timesteps"].is_monotonic_increasing
    assert list(after["timesteps"]) == [*before["timesteps"], 1792, 2048]
    pd.testing.assert_frame_equal(after.iloc[: len(before)], before)  # kept, not recomputed


def test_a_truncated_checkpoint_is_named_and_the_one_before_it_used(killed_run, tmp_path, capsys):
    out = _copy(killed_run, tmp_path)
    latest = out / "checkpoints" / "ppo_1536_steps.zip"
    latest.write_bytes(latest.read_bytes()[:1000])  # killed while writing it
    assert main(["--resume", str(out), "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert f"warning: checkpoint {latest}: ppo_1536_steps.zip is not a readable zip" in (
        captured.err
    )
    assert "resuming" in captured.out and "at 1,024 of 2,048 agent-steps" in captured.out
    curve = pd.read_csv(out / "learning_curve.csv")
    assert curve["timesteps"].is_unique and curve["timesteps"].iloc[-1] == 2048
    config = json.loads((out / "config.json").read_text())
    assert config["status"] == "complete" and config["timesteps_trained"] == 2048


def test_no_readable_checkpoint_refuses_then_restart_trains_anew(killed_run, tmp_path, capsys):
    out = _copy(killed_run, tmp_path)
    for path in (out / "checkpoints").glob("*.zip"):
        path.write_bytes(b"")
    config_before = (out / "config.json").read_bytes()
    capsys.readouterr()
    assert main(["--resume", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    warnings = [ln for ln in err.splitlines() if ln.startswith("warning: checkpoint ")]
    assert len(warnings) == 3  # each unreadable checkpoint named once
    line = _one_error_line("\n".join(ln for ln in err.splitlines() if ln not in warnings))
    assert line.startswith(f"error: no readable checkpoint in {out / 'checkpoints'} (3 unreadable)")
    assert line.endswith(f"python -m hmarl_bench.run --resume {out} --restart")
    assert (out / "config.json").read_bytes() == config_before  # nothing trained or written

    assert main(["--resume", str(out), "--restart", "--no-progress"]) == 0
    curve = pd.read_csv(out / "learning_curve.csv")
    assert curve["timesteps"].iloc[0] == 0 and curve["timesteps"].iloc[-1] == 2048
    assert curve["timesteps"].is_unique
    assert json.loads((out / "config.json").read_text())["timesteps_trained"] == 2048


def test_restart_needs_resume(capsys):
    with pytest.raises(SystemExit):
        main(["--restart"])
    assert "--restart goes with --resume RUN_DIR" in capsys.readouterr().err
