"""``python -m hmarl_bench.run``: more bad input, and continuing a model on other slots."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import run_fails

from hmarl_bench.learn.train import load_hyperparams
from hmarl_bench.run import main

TINY = [
    "--timesteps", "256", "--n-envs", "2", "--eval-episodes", "2",
    "--hp", "n_steps=32", "--hp", "batch_size=64", "--eval-freq", "256", "--no-progress",
]  # fmt: skip


@pytest.fixture(scope="module")
def maskable_model(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("maskable") / "run"
    assert main(["--algo", "maskable_ppo", *TINY, "--out", str(out)]) == 0
    return out / "model.zip"


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("batch_size=0", "'batch_size' must be >= 2"),
        ("batch_size=1", "'batch_size' must be >= 2"),
        ("n_steps=0", "'n_steps' must be >= 1"),
        ("learning_rate=0.0", "'learning_rate' must be > 0"),
        ("gamma=1.5", "'gamma' must be >= 0.0 and <= 1.0"),
        ("n_epochs=0", "'n_epochs' must be >= 1"),
        ("net_arch=[]", "net_arch"),
        ("net_arch=[64, -1]", "net_arch"),
        ("reward={foo=1.0}", "unknown reward weight 'foo'"),
        ("reward={ordering_cost='x'}", "reward weight 'ordering_cost' must be a number"),
    ],
)
def test_bad_hyperparameter_values(override, expected, capsys, tmp_path):
    out = tmp_path / "out"
    err = run_fails(["--hp", override, "--out", str(out), "--no-progress"], capsys)
    assert expected in err
    assert not out.exists()


def test_hyperparams_files_pass_their_own_checks():
    for algo in ("ppo", "maskable_ppo"):
        assert load_hyperparams(algo)["gamma"] == 0.99


def test_out_that_is_a_file_is_a_clear_error(capsys, tmp_path):
    out = tmp_path / "taken"
    out.write_text("a file")
    err = run_fails(["--out", str(out), *TINY], capsys)
    assert "cannot use" in err and str(out) in err


def test_model_of_the_other_algo_names_the_right_flag(maskable_model, capsys, tmp_path):
    out = tmp_path / "out"
    err = run_fails(["--algo", "ppo", "--load", str(maskable_model), "--eval-only"], capsys)
    assert "MaskablePPO model, not PPO" in err and "--algo maskable_ppo" in err
    assert not out.exists()


def test_bad_load_writes_no_run_folder(capsys, tmp_path):
    out = tmp_path / "out"
    run_fails(["--load", str(tmp_path / "missing.zip"), "--eval-only", "--out", str(out)], capsys)
    assert not out.exists()


@pytest.mark.parametrize("change", [["--n-envs", "3"], ["--scenario", "three_stores"]])
def test_continue_training_on_another_number_of_slots(maskable_model, change, tmp_path):
    out = tmp_path / "continued"
    argv = ["--algo", "maskable_ppo", "--load", str(maskable_model), *TINY, *change]
    assert main([*argv, "--out", str(out)]) == 0
    assert (out / "model.zip").is_file() and (out / "results.csv").is_file()


def test_eval_only_lists_only_what_it_wrote(maskable_model, capsys, tmp_path):
    out = tmp_path / "eval"
    argv = ["--algo", "maskable_ppo", "--load", str(maskable_model), "--eval-only"]
    assert main([*argv, "--eval-episodes", "2", "--out", str(out)]) == 0
    line = [x for x in capsys.readouterr().out.splitlines() if x.startswith("wrote in")][0]
    assert "results.csv" in line and "model.zip" not in line
