"""Tiny-budget runs of every new training path: planner track, centralized critic, team
reward, joint training (directly and as a round schedule) and the hyperparameter search."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hmarl_bench import load_scenario
from hmarl_bench.learn.hierarchy import (
    StoresLearner,
    WarehouseLearner,
    evaluate_policies,
    parse_learners,
    train_learner,
)
from hmarl_bench.learn.joint import train_joint
from hmarl_bench.learn.rounds import train_rounds
from hmarl_bench.learn.train import load_hyperparams, train_store_policy

TINY = {"n_steps": 16, "batch_size": 32, "n_epochs": 1}
SEEDS = [100, 101]


@pytest.mark.parametrize("algo", ["ppo", "maskable_ppo"])
@pytest.mark.parametrize(
    "options",
    [
        {"interface": "planner"},
        {"interface": "planner", "central_critic": True, "team_weight": 0.5},
        {"interface": "seed", "central_critic": True, "team_weight": 1.0},
    ],
)
def test_joint_training_runs_and_updates_every_learner(algo, options):
    learners = parse_learners("stores+warehouse")
    result = train_joint(
        "default", learners, algo, timesteps=96, n_envs=2, hyperparams={**TINY, **options},
        validation_seeds=SEEDS, eval_freq=48,
    )  # fmt: skip
    for name in ("stores", "warehouse"):
        model = getattr(result.final_policies, name)
        assert model.num_timesteps > 0
        assert model._n_updates > 0  # its buffer filled and PPO updated it
        assert getattr(result.policies, name) is not None
    assert list(result.learning_curve["timesteps"]) == [0, 48, 96]
    frame = evaluate_policies("default", result.policies, [7])
    assert np.isfinite(frame["total_cost"]).all()


def test_joint_training_stops_when_asked():
    calls = []

    def on_eval(step: int, cost: float) -> bool:
        calls.append(step)
        return len(calls) < 2

    result = train_joint(
        "default", (WarehouseLearner(),), "ppo", timesteps=200, n_envs=2, hyperparams=TINY,
        validation_seeds=SEEDS, eval_freq=20, on_eval=on_eval,
    )  # fmt: skip
    assert result.timesteps == 20 and calls == [0, 20]


@pytest.mark.parametrize("algo", ["ppo", "maskable_ppo"])
def test_single_learners_on_the_planner_track(algo):
    options = {**TINY, "interface": "planner", "central_critic": True, "team_weight": 0.5}
    stores = train_store_policy(
        "default", algo, timesteps=64, n_envs=2, hyperparams=options, eval_seeds=SEEDS
    )
    planner_store = StoresLearner().make_role(load_scenario("default"), "planner")
    assert stores.model.policy.local_dim == planner_store.obs_dim
    warehouse = train_learner(
        WarehouseLearner(), "default", algo, timesteps=64, n_envs=2, hyperparams=options,
        eval_seeds=SEEDS,
    )  # fmt: skip
    assert len(warehouse.learning_curve) >= 2


def test_joint_schedule_in_rounds(tmp_path):
    results = train_rounds(
        "default", parse_learners("stores+warehouse"), rounds=2, algo="maskable_ppo",
        timesteps=48, n_envs=2,
        hyperparams={**TINY, "interface": "planner", "schedule": "joint", "team_weight": 1.0},
        validation_seeds=SEEDS, eval_seeds=[7, 8], out=tmp_path,
    )  # fmt: skip
    assert [r.round for r in results] == [1, 2]
    assert set(results[-1].curves) == {"joint"}
    assert (tmp_path / "round_2" / "warehouse.zip").is_file()
    assert len(pd.read_csv(tmp_path / "rounds.csv")) == 2


@pytest.mark.parametrize(
    ("override", "message"),
    [({"interface": "planer"}, "interface"), ({"schedule": "both"}, "schedule"),
     ({"team_weight": 2.0}, "team_weight"), ({"central_critic": 1}, "central_critic")],
)  # fmt: skip
def test_bad_learner_options_are_refused(override, message):
    with pytest.raises(ValueError, match=message):
        load_hyperparams("ppo", override)


def test_search_cli_writes_trials_and_best(tmp_path, capsys):
    pytest.importorskip("optuna")
    from hmarl_bench.learn.search import main

    out = tmp_path / "search"
    code = main(
        ["--learners", "warehouse", "--trials", "2", "--timesteps", "64",
         "--validation-seeds", "100,101", "--out", str(out), "--hp", "team_weight=1.0"]
    )  # fmt: skip
    assert code == 0
    trials = pd.read_csv(out / "trials.csv")
    assert len(trials) == 2 and "params_learning_rate" in trials
    assert "params_team_weight" not in trials  # fixed, not searched
    best = (out / "best.toml").read_text()
    assert "[warehouse]" in best and "team_weight = 1.0" in best
    assert main(["--validation-seeds", "10000-10001", "--out", str(out)]) == 2
    assert "evaluation seeds" in capsys.readouterr().err
