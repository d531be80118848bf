"""What keeps the residual learner near its rule: the loss's anchor on factor 1.0
(learn/anchored_ppo.py), the reward's move penalty (envs/residual_vec.py), the factor grid."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from hmarl_bench.config import load_scenario
from hmarl_bench.envs.residual_vec import FACTORS, ResidualVecEnv, factor_distance
from hmarl_bench.evaluation import evaluate
from hmarl_bench.learn.anchored_ppo import (
    AnchoredPPO,
    init_factor_one,
    make_residual_model,
    off_rule_mass,
)
from hmarl_bench.learn.residual import (
    ResidualController,
    load_residual_hyperparams,
    train_residual,
)
from hmarl_bench.learn.train import prepare_model

ROOT = Path(__file__).resolve().parents[1]
ONE = FACTORS.index(1.0)


def stored_params(scenario: str) -> dict:
    path = ROOT / "results" / "frontier" / "cells" / f"{scenario}__tuned_echelon_free.json"
    return json.loads(path.read_text(encoding="utf-8"))["info"]["tuned_params"]


def _obs(n: int = 300) -> torch.Tensor:
    return torch.as_tensor(np.random.default_rng(0).uniform(0, 1, (n, 20)), dtype=torch.float32)


def _p_one(model) -> list[float]:
    with torch.no_grad():
        heads = model.policy.get_distribution(_obs()).distribution
        return [float(head.probs[:, ONE].min()) for head in heads]


# --------------------------------------------------------------------------- the reward's charge


def test_factor_distance_is_zero_at_the_rule_and_grows_off_it() -> None:
    factors = np.array(FACTORS)
    one = FACTORS.index(1.0)
    actions = np.array([[one, one], [one + 1, one], [one, one - 1], [0, len(FACTORS) - 1]])
    np.testing.assert_allclose(factor_distance(factors, actions), [0.0, 0.05, 0.05, 0.4 + 0.5])


def test_move_penalty_charges_the_reward_and_leaves_the_cost() -> None:
    sc = load_scenario("default")
    seeds = [5, 6, 7]
    plain = ResidualVecEnv(sc, {}, cost_scale=400.0, fixed_seeds=seeds)
    charged = ResidualVecEnv(sc, {}, cost_scale=400.0, fixed_seeds=seeds, move_penalty=0.2)
    plain.reset(), charged.reset()
    actions = np.random.default_rng(3).integers(len(FACTORS), size=(sc.episode_days, 3, 2))
    actions[:, 0] = ONE  # copy 0 keeps the rule: never charged
    for day in range(sc.episode_days):
        _, want, _, infos = plain.step(actions[day])
        _, got, _, charged_infos = charged.step(actions[day])
        charge = 0.2 * factor_distance(np.array(FACTORS), actions[day])
        np.testing.assert_allclose(got, want - charge, rtol=1e-6, atol=1e-6)
        assert got[0] == want[0]
    assert [i["episode_total_cost"] for i in infos] == [
        i["episode_total_cost"] for i in charged_infos
    ]
    with pytest.raises(ValueError, match="move_penalty"):
        ResidualVecEnv(sc, {}, cost_scale=1.0, move_penalty=-0.1)


# --------------------------------------------------------------------------- the loss's anchor


def test_off_rule_mass_is_zero_at_the_rule_and_positive_off_it() -> None:
    hp = load_residual_hyperparams("ppo", {"batch_size": 60}, "default", timesteps=180, n_envs=2)
    model = make_residual_model(ResidualVecEnv("default", {}, cost_scale=1.0, n_envs=2), 0, hp)
    init_factor_one(model, FACTORS, 60.0)  # all the mass on factor 1.0
    with torch.no_grad():
        at_rule = off_rule_mass(model.policy.get_distribution(_obs()), ONE)
        assert at_rule.shape == (300,) and float(at_rule.max()) < 1e-12
        init_factor_one(model, FACTORS, 0.0)  # uniform up to the output weights' small gain
        uniform = off_rule_mass(model.policy.get_distribution(_obs()), ONE)
    np.testing.assert_allclose(uniform.numpy(), 1 - 1 / len(FACTORS), atol=0.02)


def test_anchor_zero_trains_exactly_as_sb3_ppo() -> None:
    hp = load_residual_hyperparams(
        "ppo",
        {"batch_size": 90, "n_epochs": 2, "learning_rate": 1e-2},
        "default",
        timesteps=360,
        n_envs=2,
    )

    def env():
        return ResidualVecEnv("default", {}, cost_scale=500.0, n_envs=2, seed=0)

    anchored = make_residual_model(env(), 0, hp)
    assert isinstance(anchored, AnchoredPPO) and anchored.anchor == 0.0
    anchored.learn(360)
    plain, _ = prepare_model("ppo", env(), 0, hp, None)
    init_factor_one(plain, hp["factors"], hp["logit_bias"])
    plain.learn(360)
    ours, theirs = anchored.policy.state_dict(), plain.policy.state_dict()
    assert all(torch.equal(ours[k], theirs[k]) for k in theirs)
    pulled = make_residual_model(env(), 0, {**hp, "anchor": 1.0})
    pulled.learn(360)
    assert not all(torch.equal(pulled.policy.state_dict()[k], theirs[k]) for k in theirs)


def _train(**hyper):
    return train_residual(
        "default",
        tuning_seeds=[100, 101],
        validation_seeds=[102, 103],
        base_params=stored_params("default"),
        timesteps=720,
        n_envs=2,
        eval_freq=360,
        hyperparams={"batch_size": 90, "n_epochs": 4, "learning_rate": 1e-2, **hyper},
    )


def test_a_huge_anchor_keeps_the_trained_policy_at_the_rule() -> None:
    free = _train()
    assert max(_p_one(free.final_model)) < 0.95  # without the anchor it still explores
    held = _train(anchor=100.0)
    assert held.hyperparams["anchor"] == 100.0
    assert min(_p_one(held.final_model)) > 0.999  # all but certain to keep factor 1.0
    final = ResidualController(held.final_model, held.base_params, held.hyperparams["factors"])
    evaluate("default", final, [102, 103])
    assert final.factor_shares() == {"stores": 0.0, "warehouse": 0.0, "either": 0.0}
    assert held.learning_curve["mean_total_cost"].tolist() == [held.rule_validation_cost] * 3


# --------------------------------------------------------------------------- the keys


def test_the_file_holds_the_rule_and_the_new_keys_are_checked() -> None:
    params = load_residual_hyperparams("ppo", None, "default")
    assert 1.0 in params["factors"]  # the grid holds the rule itself
    assert params["anchor"] >= 0 and params["move_penalty"] >= 0
    narrow = load_residual_hyperparams("ppo", {"factors": [0.95, 1.0, 1.05]}, "default")
    assert narrow["factors"] == (0.95, 1.0, 1.05)
    for key in ("anchor", "move_penalty"):
        for bad in (-1.0, "x", True, float("nan")):
            with pytest.raises(ValueError, match=key):
                load_residual_hyperparams("ppo", {key: bad}, "default")
