"""Bad input to every command: one line on stderr, a non-zero exit, nothing half-written."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import pytest

import hmarl_bench
from hmarl_bench import benchmark, run
from hmarl_bench.speed import __main__ as speed

COMMANDS = {"benchmark": benchmark.main, "run": run.main, "speed": speed.main}


def _fails(command: str, argv: list[str], capsys) -> str:
    try:
        code = COMMANDS[command](argv)
    except SystemExit as exit_:
        code = exit_.code
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code not in (0, None), err
    assert "Traceback" not in err and len(lines) == 1, err
    return lines[0]


OUT = ["--out", "{tmp}/out"]
BIG_BATCH = ["--hp", "batch_size=8192", *OUT]
BAD_INPUTS = [
    ("benchmark", ["smoke", "--out", "/proc/x"], "cannot write results under /proc/x"),
    ("benchmark", ["smoke", "--readme", "{tmp}/missing.md", *OUT], "missing.md"),
    ("benchmark", ["smoke", "--readme", "{tmp}/plain.md", *OUT], "benchmark:smoke:headline"),
    ("speed", ["--quick", "--scenario", "nope", *OUT], "unknown scenario 'nope'"),
    ("speed", ["--quick", "--sku-scenario", "nope", *OUT], "--sku-scenario"),
    ("speed", ["--quick", "--out", "/proc/x"], "--out: cannot write to /proc/x"),
    ("speed", ["--seconds", "-1", *OUT], "--seconds must be a positive"),
    ("speed", ["--quick", "--copies", "0", *OUT], "--copies must be"),
    ("run", ["--seed", "-1", *OUT], "--seed must be a whole number >= 0, got -1"),
    ("run", ["--eval-freq", "-1", *OUT], "--eval-freq must be >= 0"),
    ("run", BIG_BATCH, "'batch_size' 8192 is larger than the rollout"),
    ("run", ["--learners", "stores,warehouse", *BIG_BATCH], "larger than the rollout"),
    ("run", ["--timesteps", "x", *OUT], "invalid int value"),
]


@pytest.mark.parametrize(("command", "argv", "expected"), BAD_INPUTS)
def test_bad_input_is_one_clear_line(command, argv, expected, capsys, tmp_path):
    (tmp_path / "plain.md").write_text("no markers\n")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    line = _fails(command, argv, capsys)
    assert expected in line
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.json"))


def test_the_readme_is_checked_before_any_cell_runs(monkeypatch, capsys, tmp_path):
    from hmarl_bench.harness import runners

    def refuse(cell):
        raise AssertionError("a cell ran before --readme was checked")

    monkeypatch.setattr(runners, "run_cell", refuse)
    _fails("benchmark", ["smoke", "--readme", str(tmp_path / "no.md")], capsys)


def _envs():
    from hmarl_bench.envs.upper_vec import SupplierVecEnv, WarehouseVecEnv
    from hmarl_bench.envs.vec import SharedPolicyVecEnv
    from hmarl_bench.evaluation import RoleController, evaluate

    def vec_seed(cls):
        venv = cls("default", n_envs=2, seed=0)
        venv.seed(-1)
        venv.reset()

    return {
        "HMARLEnvironment": lambda: hmarl_bench.HMARLEnvironment("default").reset(seed=-1),
        "SingleAgentWrapper": lambda: hmarl_bench.SingleAgentWrapper(
            hmarl_bench.HMARLEnvironment("default")
        ).reset(seed=-1),
        "gym.make": lambda: gym.make("hmarl_bench/Store-v0").reset(seed=-1),
        "DigitalTwin": lambda: hmarl_bench.DigitalTwin("default", 2).reset([3, -1]),
        "SharedPolicyVecEnv": lambda: SharedPolicyVecEnv("default", n_envs=2, seed=-1),
        "SharedPolicyVecEnv.seed": lambda: vec_seed(SharedPolicyVecEnv),
        "WarehouseVecEnv": lambda: WarehouseVecEnv("default", n_envs=2, seed=-1),
        "SupplierVecEnv.seed": lambda: vec_seed(SupplierVecEnv),
        "evaluate": lambda: evaluate("default", RoleController(), [-1]),
    }


@pytest.mark.parametrize("name", list(_envs()))
def test_a_negative_seed_is_named_by_every_env(name):
    with pytest.raises(ValueError, match=r"seed must be a whole number >= 0, got -1"):
        _envs()[name]()


def test_run_seed_checked_before_a_folder_is_made(capsys, tmp_path):
    _fails("run", ["--seed", "-3", "--out", str(tmp_path / "r")], capsys)
    assert not Path(tmp_path / "r").exists()


def test_a_benchmark_minibatch_larger_than_a_rollout_is_refused_before_any_cell(capsys, tmp_path):
    config = tmp_path / "big.toml"
    config.write_text(
        'name = "big"\nscenarios = ["default"]\nbaselines = ["random"]\ntraining_seeds = [0]\n'
        "tuning_seeds = [100]\nvalidation_seeds = [200]\nevaluation_seeds = [1000]\n"
        '[[algos]]\nname = "ppo"\ntimesteps = 256\nn_envs = 2\n'
        "hyperparams = { n_steps = 32, batch_size = 4096 }\n"
        "[clairvoyant]\nenabled = false\n"
    )
    line = _fails("benchmark", [str(config), "--out", str(tmp_path / "out")], capsys)
    assert "algos[0].hyperparams" in line and "larger than the rollout" in line
    assert not (tmp_path / "out" / "big" / "cells").exists()
