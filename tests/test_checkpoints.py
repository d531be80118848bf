"""Honest budgets: whole rollouts announced, recorded and trained; minibatch <= rollout."""

from __future__ import annotations

import json

import pytest

from hmarl_bench.learn.checkpoints import Budget, check_batch_size, latest_checkpoint
from hmarl_bench.learn.train import train_store_policy
from hmarl_bench.run import main

TINY = {"n_steps": 32, "batch_size": 64, "n_epochs": 1}


@pytest.mark.parametrize(
    ("requested", "n_steps", "slots", "trained"),
    [(1024, 128, 32, 4096), (4096, 128, 32, 4096), (4097, 128, 32, 8192), (1, 32, 4, 128)],
)
def test_budget_rounds_up_to_whole_rollouts(requested, n_steps, slots, trained):
    budget = Budget(requested, n_steps, slots)
    assert budget.trained == trained and budget.trained % budget.rollout == 0
    text = budget.describe()
    assert f"{trained:,} agent-steps" in text
    assert (f"{requested:,} asked" in text) is (requested != trained)


@pytest.mark.parametrize("algo", ["ppo", "maskable_ppo"])
def test_training_takes_exactly_the_announced_budget(algo):
    result = train_store_policy("default", algo, 1000, n_envs=2, hyperparams=TINY)
    assert result.budget.requested == 1000 and result.budget.trained == 1024
    assert result.timesteps == result.final_model.num_timesteps == result.budget.trained


def test_a_minibatch_larger_than_the_rollout_is_refused():
    check_batch_size({"n_steps": 32, "batch_size": 128}, 4)
    with pytest.raises(ValueError, match=r"'batch_size' 129 is larger than the rollout.*128"):
        check_batch_size({"n_steps": 32, "batch_size": 129}, 4)


def _fake_checkpoint(path) -> None:
    """A zip with what SB3 saves (its ``data`` and ``policy.pth``), for the readability check."""
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data", "{}")
        archive.writestr("policy.pth", b"weights")


def test_latest_checkpoint_rounds_a_mid_rollout_checkpoint_down(tmp_path):
    import pickle

    for steps in (128, 300):
        _fake_checkpoint(tmp_path / f"ppo_{steps}_steps.zip")
    (tmp_path / "ppo_vecnormalize_300_steps.pkl").write_bytes(pickle.dumps({"obs_rms": None}))
    found = latest_checkpoint(tmp_path, "ppo", 128)
    assert found.steps == 256 and found.model.name == "ppo_300_steps.zip"
    assert found.vecnormalize is not None
    assert latest_checkpoint(tmp_path / "none", "ppo", 128) is None


def test_the_cli_announces_records_and_trains_the_rounded_budget(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["--timesteps", "1000", "--n-envs", "2", "--eval-episodes", "2", "--no-progress"]
    argv += ["--hp", "n_steps=32", "--hp", "batch_size=64", "--hp", "n_epochs=1"]
    assert main([*argv, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "for 1,024 agent-steps (1,000 asked, rounded up to whole rollouts" in printed
    config = json.loads((out / "config.json").read_text())
    assert config["budget"] == {"timesteps_requested": 1000, "timesteps": 1024, "rollout": 128}
    assert config["timesteps_trained"] == 1024 and config["status"] == "complete"
    from hmarl_bench.agents.policy import load_model

    assert load_model(out / "checkpoints" / "ppo_1024_steps.zip").num_timesteps == 1024
