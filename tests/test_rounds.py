"""Alternating training: the loop, per-round models and logs, the CLI's --learners/--rounds."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import torch

from hmarl_bench.agents.policy import PolicyAgent, load_model
from hmarl_bench.learn.hierarchy import Policies, evaluate_policies, parse_learners
from hmarl_bench.learn.rounds import ROUND_COLUMNS, train_rounds
from hmarl_bench.run import main, parse_args

TINY_HP = {"n_steps": 32, "batch_size": 64, "n_epochs": 2}
TINY_CLI = [
    "--timesteps", "128", "--n-envs", "2", "--eval-episodes", "2", "--eval-freq", "64",
    "--hp", "n_steps=32", "--hp", "batch_size=64", "--hp", "n_epochs=2", "--no-progress",
]  # fmt: skip
AGENT_IDS = {"stores": "store_1", "warehouse": "warehouse_1", "supplier": "supplier_1"}


def _params(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.policy.state_dict().items()}


@pytest.fixture(scope="module")
def alternated(tmp_path_factory) -> tuple[list, Path]:
    """Two rounds of stores -> warehouse -> supplier with tiny budgets."""
    out = tmp_path_factory.mktemp("rounds")
    results = train_rounds(
        "default",
        parse_learners("stores,warehouse,supplier"),
        rounds=2,
        timesteps=128,
        n_envs=2,
        hyperparams=TINY_HP,
        validation_seeds=[7, 8],
        eval_seeds=[20, 21, 22],
        eval_freq=64,
        out=out,
    )
    return results, out


def test_every_round_trains_every_learner_and_is_logged(alternated) -> None:
    results, out = alternated
    assert [r.round for r in results] == [1, 2]
    for result in results:
        assert set(result.curves) == {"stores", "warehouse", "supplier"}
        assert all(t >= 128 for t in result.timesteps.values())
        assert len(result.episodes) == 3
        assert set(ROUND_COLUMNS) <= set(result.episodes.columns)
    table = pd.read_csv(out / "rounds.csv")
    assert table["round"].tolist() == [1, 2]
    for column in ROUND_COLUMNS:
        assert table[column].notna().all()
        assert (table[f"{column}_ci_low"] <= table[column] + 1e-9).all()
    for column in ("stores_train_seconds", "warehouse_train_seconds", "supplier_train_seconds"):
        assert (table[column] > 0).all()


def test_each_rounds_models_reload_and_reproduce_the_round(alternated) -> None:
    results, out = alternated
    for result in results:
        folder = out / f"round_{result.round}"
        models = {name: load_model(folder / f"{name}.zip") for name in AGENT_IDS}
        for name, agent_id in AGENT_IDS.items():
            agent = PolicyAgent.from_file(folder / f"{name}.zip", "default", agent_id)
            assert agent.observation_space == models[name].observation_space
            assert (folder / f"{name}_learning_curve.csv").is_file()
        again = evaluate_policies("default", Policies(**models), [20, 21, 22])
        logged = pd.read_csv(folder / "episodes.csv")
        pd.testing.assert_series_equal(again["total_cost"], logged["total_cost"])
        pd.testing.assert_series_equal(again["system_reward"], logged["system_reward"])


def test_later_rounds_continue_from_the_previous_models(alternated) -> None:
    results, _ = alternated
    first, second = results[0].policies, results[1].policies
    for name in AGENT_IDS:
        a, b = _params(getattr(first, name)), _params(getattr(second, name))
        assert any(not torch.equal(a[k], b[k]) for k in a), name


def test_bad_rounds_and_learners_raise() -> None:
    with pytest.raises(ValueError, match="rounds"):
        train_rounds("default", parse_learners("warehouse"), rounds=0, eval_seeds=[1])
    with pytest.raises(ValueError, match="learner"):
        train_rounds("default", (), rounds=1, eval_seeds=[1])


def test_cli_alternates_and_prints_every_round(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    argv = ["--learners", "stores,warehouse", "--rounds", "2", *TINY_CLI, "--out", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "round 1" in printed and "round 2" in printed and "system reward" in printed
    for name in ("rounds.csv", "rounds.md", "results.csv", "results.md", "config.json"):
        assert (out / name).is_file(), name
    for k in (1, 2):
        assert {p.name for p in (out / f"round_{k}").glob("*.zip")} == {
            "stores.zip",
            "warehouse.zip",
        }
    results = pd.read_csv(out / "results.csv")
    assert results["policy"].iloc[0] == "ppo:stores+warehouse"


def test_cli_store_only_run_is_todays_path(tmp_path, monkeypatch) -> None:
    """``--learners stores --rounds 1`` never enters the rounds code."""
    import hmarl_bench.run.rounds as rounds_cli

    def refuse(*args, **kwargs):
        raise AssertionError("the store-only run must keep its own path")

    monkeypatch.setattr(rounds_cli, "run_rounds", refuse)
    out = tmp_path / "run"
    assert main(["--learners", "stores", "--rounds", "1", *TINY_CLI, "--out", str(out)]) == 0
    assert (out / "model.zip").is_file() and not (out / "rounds.csv").exists()
    assert parse_args([]).learners == "stores" and parse_args([]).rounds == 1


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--learners", "retailer"], "unknown learner"),
        (["--learners", ""], "non-empty"),
        (["--learners", "stores,,warehouse"], "non-empty"),
        (["--learners", "warehouse,warehouse"], "repeat"),
        (["--rounds", "0"], "--rounds must be > 0"),
        (["--rounds", "-2"], "--rounds must be > 0"),
        (["--learners", "warehouse", "--load", "m.zip"], "store-only run"),
    ],
)
def test_cli_bad_learners_and_rounds(argv, expected: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert expected in capsys.readouterr().err
