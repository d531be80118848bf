"""The CLI ``python -m hmarl_bench.run``: outputs of a tiny run, re-evaluation, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import run_fails
from stable_baselines3 import PPO

from hmarl_bench import SingleAgentWrapper, list_scenarios
from hmarl_bench.run import main
from hmarl_bench.run.report import RUN_BASELINES, TABLE_COLUMNS

ALGO_NAMES = ["ppo", "maskable_ppo"]
TINY = [
    "--timesteps", "512", "--n-envs", "2", "--eval-episodes", "2",
    "--hp", "n_steps=32", "--hp", "batch_size=64", "--eval-freq", "256", "--no-progress",
]  # fmt: skip
OUTPUTS = [
    "model.zip",
    "results.csv",
    "results.md",
    "episodes.csv",
    "config.json",
    "learning_curve.csv",
    "learning_curve.png",
]


@pytest.fixture(scope="module", params=ALGO_NAMES)
def run(request, tmp_path_factory) -> tuple[str, Path]:
    """A tiny training run of the CLI (in-process) per algo: (algo, its output folder)."""
    algo = request.param
    out = tmp_path_factory.mktemp(algo) / "run"
    assert main(["--algo", algo, *TINY, "--out", str(out)]) == 0
    return algo, out


@pytest.fixture(scope="module")
def warehouse_model(tmp_path_factory) -> Path:
    """A PPO model saved for the warehouse's observations (6), not the store's (7)."""
    path = tmp_path_factory.mktemp("warehouse") / "warehouse.zip"
    PPO("MlpPolicy", SingleAgentWrapper("default", agent="warehouse_1"), device="cpu").save(path)
    return path


def test_help_lists_the_algos() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hmarl_bench.run", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "--algo" in done.stdout
    assert "{ppo,maskable_ppo,recurrent_ppo,a2c,trpo,dqn,qrdqn,sac,td3,tqc,ddpg}" in done.stdout
    for option in ("--scenario", "--timesteps", "--load", "--eval-only", "--hp"):
        assert option in done.stdout


def test_run_writes_every_output(run) -> None:
    algo, out = run
    for name in OUTPUTS:
        assert (out / name).is_file(), name
        assert (out / name).stat().st_size > 0, name
    assert (out / "learning_curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    events = list((out / "tb").rglob("events.out.tfevents.*"))
    assert events and all(e.stat().st_size > 0 for e in events)
    assert list((out / "checkpoints").glob(f"{algo}_*_steps.zip"))
    with zipfile.ZipFile(out / "model.zip") as archive:
        assert {"data", "policy.pth"} <= set(archive.namelist())
    curve = pd.read_csv(out / "learning_curve.csv")
    assert {"timesteps", "mean_total_cost"} <= set(curve.columns)
    assert len(curve) >= 2
    assert curve["timesteps"].iloc[0] == 0 and curve["timesteps"].iloc[-1] >= 512
    assert np.all(np.isfinite(curve["mean_total_cost"]))


def test_results_table(run) -> None:
    algo, out = run
    table = pd.read_csv(out / "results.csv")
    assert list(table["policy"]) == [algo, *RUN_BASELINES]
    assert (table["episodes"] == 2).all()
    for col in ["total_cost", "fill_rate", "lost_sales", "mean_store_inventory", "store_reward"]:
        assert col in TABLE_COLUMNS
        low, high = table[f"{col}_ci_low"], table[f"{col}_ci_high"]
        assert table[col].notna().all()
        assert (low <= table[col] + 1e-9).all() and (table[col] <= high + 1e-9).all(), col
    assert ((table["fill_rate"] >= 0) & (table["fill_rate"] <= 1)).all()
    assert (table["total_cost"] > 0).all()
    markdown = (out / "results.md").read_text()
    for policy in table["policy"]:
        assert f"| {policy} |" in markdown
    # Per-episode rows: every policy on the same held-out seeds (common random numbers).
    config = json.loads((out / "config.json").read_text())
    episodes = pd.read_csv(out / "episodes.csv")
    for policy, frame in episodes.groupby("policy"):
        assert list(frame["seed"]) == config["eval_seeds"], policy
        row = table.set_index("policy").loc[policy]
        assert frame["total_cost"].mean() == pytest.approx(row["total_cost"])
    assert set(episodes["policy"]) == set(table["policy"])


def test_config_records_hyperparams_scenario_and_disjoint_seeds(run) -> None:
    algo, out = run
    config = json.loads((out / "config.json").read_text())
    hp = config["hyperparams"]
    assert (hp["n_steps"], hp["batch_size"], hp["n_envs"], hp["timesteps"]) == (32, 64, 2, 512)
    assert hp["learning_rate"] == 3e-4 and hp["gamma"] == 0.99
    assert config["scenario"]["name"] == "default"
    assert config["args"]["algo"] == algo and config["args"]["seed"] == 0
    eval_seeds, validation = set(config["eval_seeds"]), set(config["validation_seeds"])
    assert len(eval_seeds) == 2 and len(validation) >= 1
    assert not eval_seeds & validation
    assert config["args"]["seed"] not in eval_seeds | validation
    assert "stable_baselines3" in config["versions"]


def test_eval_only_reproduces_the_table(run, tmp_path) -> None:
    algo, out = run
    again = tmp_path / "again"
    argv = ["--algo", algo, "--load", str(out / "model.zip"), "--eval-only"]
    assert main([*argv, "--eval-episodes", "2", "--no-progress", "--out", str(again)]) == 0
    first, second = pd.read_csv(out / "results.csv"), pd.read_csv(again / "results.csv")
    pd.testing.assert_frame_equal(first, second)
    assert not (again / "model.zip").exists()  # nothing was trained
    assert not (again / "learning_curve.csv").exists()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["--algo", "dqn"],
            ["dqn learns one agent", "not the stores' shared policy", "ppo", "recurrent_ppo"],
        ),
        (["--algo", "sac", "--hp", "interface=seed"], ["sac", "seed track", "'planner'"]),
        (["--algo", "td3", "--learners", "supplier"], ["supplier's actions", "'ppo'"]),
        (["--algo", "xyz"], ["unknown algo 'xyz'", "maskable_ppo"]),
        (["--scenario", "atlantis"], ["atlantis", *list_scenarios()]),
        (["--timesteps", "0"], ["--timesteps", "> 0"]),
        (["--timesteps", "-512"], ["--timesteps", "> 0"]),
        (["--timesteps", "many"], ["--timesteps", "invalid int"]),
        (["--n-envs", "0"], ["--n-envs"]),
        (["--eval-episodes", "0"], ["--eval-episodes"]),
        (["--eval-only"], ["--eval-only", "--load"]),
        (["--hp", "n_steps"], ["--hp", "key=value", "n_steps"]),
        (["--hp", "=32"], ["--hp", "key=value"]),
        (["--hp", "n_steps=abc"], ["n_steps", "abc"]),
        (["--hp", "learning_rat=1e-3"], ["unknown hyperparameter", "learning_rat"]),
    ],
)
def test_bad_arguments(argv: list[str], expected: list[str], capsys, tmp_path) -> None:
    out = tmp_path / "out"
    err = run_fails([*argv, "--out", str(out), "--no-progress"], capsys)
    for text in expected:
        assert text in err
    assert not (out / "results.csv").exists()


def _bad_model(kind: str, directory: Path, warehouse_model: Path) -> Path:
    if kind == "missing":
        return directory / "no_such_model.zip"
    if kind == "mismatched_spaces":
        return warehouse_model
    path = directory / f"{kind}.zip"
    if kind == "random_bytes":
        path.write_bytes(np.random.default_rng(0).bytes(2048))
    else:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("readme.txt", "not an SB3 model")
    return path


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("missing", "not found"),
        ("random_bytes", "not an SB3 model file"),
        ("zip_without_model", "could not load"),
        ("mismatched_spaces", "observations (6,)"),
    ],
)
@pytest.mark.parametrize("eval_only", [True, False])
def test_bad_model_file(kind, expected, eval_only, capsys, tmp_path, warehouse_model) -> None:
    path = _bad_model(kind, tmp_path, warehouse_model)
    argv = ["--load", str(path), "--eval-episodes", "2", "--out", str(tmp_path / "out"), *TINY]
    err = run_fails([*argv, "--eval-only"] if eval_only else argv, capsys)
    assert str(path.name) in err
    assert expected in err
    assert not (tmp_path / "out" / "results.csv").exists()


def test_the_run_is_evaluated_with_the_horizon_rule_it_trained_with(tmp_path, monkeypatch):
    import hmarl_bench.agents.continuous as continuous

    made = []
    original = continuous.model_controller

    def recording(*args, **kwargs):
        made.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(continuous, "model_controller", recording)
    out = tmp_path / "run"
    hp = ["--hp", "interface=planner", "--hp", "horizon_mask=false"]
    assert main(["--algo", "ppo", *TINY, *hp, "--out", str(out)]) == 0
    assert made and made[-1]["interface"] == "planner"
    assert made[-1]["horizon_mask"] is False
