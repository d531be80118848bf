"""Learners of every role: parsing, training with the others fixed, decentralized execution."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from hmarl_bench import HMARLEnvironment, load_scenario
from hmarl_bench.agents.policy import PolicyAgent
from hmarl_bench.envs.upper_vec import WarehouseVecEnv
from hmarl_bench.evaluation import RoleController, evaluate
from hmarl_bench.learn.hierarchy import (
    LEARNERS,
    Policies,
    StoresLearner,
    SupplierLearner,
    WarehouseLearner,
    evaluate_policies,
    parse_learners,
    system_reward,
    train_learner,
)
from hmarl_bench.learn.train import load_hyperparams, train_store_policy

ALGO_NAMES = ["ppo", "maskable_ppo"]
TINY = {"n_steps": 32, "batch_size": 64, "n_epochs": 2}


def _params(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.policy.state_dict().items()}


def _same(a, b) -> bool:
    return all(torch.equal(a[k], b[k]) for k in a)


def _tiny(learner, algo: str = "ppo", **kwargs):
    kwargs.setdefault("timesteps", 128)
    kwargs.setdefault("n_envs", 2)
    kwargs.setdefault("hyperparams", TINY)
    return train_learner(learner, "default", algo, seed=0, **kwargs)


@pytest.fixture(scope="module")
def upper_models(tmp_path_factory) -> dict[str, tuple[object, Path]]:
    """A tiny trained warehouse and supplier model and where each was saved."""
    out = {}
    for learner in (WarehouseLearner(), SupplierLearner()):
        model = _tiny(learner).model
        path = tmp_path_factory.mktemp(learner.name) / f"{learner.name}.zip"
        model.save(path)
        out[learner.name] = (model, path)
    return out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("stores", ["stores"]),
        ("warehouse,stores", ["stores", "warehouse"]),
        ("stores+warehouse", ["stores", "warehouse"]),
        (" supplier , warehouse ", ["warehouse", "supplier"]),
        (["supplier", "stores", "warehouse"], ["stores", "warehouse", "supplier"]),
    ],
)
def test_parse_learners_in_chain_order(text, expected) -> None:
    assert [learner.name for learner in parse_learners(text)] == expected


@pytest.mark.parametrize(
    ("text", "match"),
    [("", "non-empty"), ("stores,", "non-empty"), ("retailer", "unknown learner"),
     ("stores,stores", "repeat")],
)  # fmt: skip
def test_parse_learners_rejects_bad_input(text: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        parse_learners(text)


@pytest.mark.parametrize("algo", ALGO_NAMES)
def test_stores_learner_with_rules_elsewhere_is_the_store_trainer(algo: str) -> None:
    """The same seed gives the same model as train_store_policy (today's path)."""
    ours = _tiny(StoresLearner(), algo, eval_seeds=[7, 8], eval_freq=64)
    theirs = train_store_policy("default", algo, 128, 0, 2, TINY, eval_seeds=[7, 8], eval_freq=64)
    assert _same(_params(ours.model), _params(theirs.model))
    assert ours.learning_curve.equals(theirs.learning_curve)


@pytest.mark.parametrize("algo", ALGO_NAMES)
@pytest.mark.parametrize("learner", [WarehouseLearner(), SupplierLearner()], ids=repr)
def test_upper_learner_trains_its_role(learner, algo: str) -> None:
    result = _tiny(learner, algo, eval_seeds=[7, 8], eval_freq=64)
    role = learner.make_role(load_scenario("default"))
    assert result.model.observation_space.shape == (role.obs_dim,)
    assert result.model.action_space.n == role.n_actions
    assert isinstance(result.final_model.get_env().unwrapped, learner.env_class)
    assert not _same(_params(result.final_model), _params(_tiny(learner, algo, timesteps=1).model))
    curve = result.learning_curve
    assert list(curve["timesteps"])[0] == 0 and len(curve) >= 3
    assert np.isfinite(curve["mean_total_cost"]).all()


def test_hyperparams_files_of_the_upper_roles() -> None:
    for algo in ALGO_NAMES:
        for name in ("warehouse", "supplier"):
            params = load_hyperparams(algo, None, LEARNERS[name].hyperparams_path(algo))
            assert params["gamma"] == 0.99 and params["timesteps"] > 0
    warehouse = load_hyperparams("ppo", None, WarehouseLearner().hyperparams_path("ppo"))
    assert warehouse["reward"] == {"ordering_cost": 0.1}


def test_training_env_has_the_other_roles_on_their_policies(upper_models) -> None:
    sc = load_scenario("default")
    warehouse_model = upper_models["warehouse"][0]
    venv = StoresLearner().make_env(sc, 2, 0, Policies(warehouse=warehouse_model), sc.store_reward)
    assert isinstance(venv.warehouse, PolicyAgent) and venv.warehouse.model is warehouse_model
    supplier_env = SupplierLearner().make_env(
        sc, 2, 0, Policies(warehouse=warehouse_model), sc.supplier_reward
    )
    assert isinstance(supplier_env, learner_env := LEARNERS["supplier"].env_class)
    assert learner_env is not WarehouseVecEnv


@pytest.mark.parametrize("name", ["default", "three_stores"])
def test_learned_warehouse_runs_inside_hmarl_environment(upper_models, name: str) -> None:
    """Decentralized execution: PolicyAgent.from_file acts as warehouse_1 on its own
    observation, and the episode costs what the batched evaluation of that policy says."""
    model, path = upper_models["warehouse"]
    agent = PolicyAgent.from_file(path, name, "warehouse_1")
    env = HMARLEnvironment(name)
    obs, infos = env.reset(seed=123)
    total, seen = 0.0, []
    while env.agents:
        actions = env.rule_actions()
        mask = infos["warehouse_1"]["action_mask"]
        actions["warehouse_1"] = agent.act(obs["warehouse_1"], mask, env.twin_state)
        expected, _ = model.predict(obs["warehouse_1"], deterministic=True)
        assert actions["warehouse_1"] == int(expected)
        seen.append(actions["warehouse_1"])
        day = env.day
        obs, rewards, _, _, infos = env.step(actions)
        assert rewards["warehouse_1"] == agent.receive_feedback(infos["warehouse_1"]["report"])
        if day >= env.scenario.warmup_days:
            total += infos["warehouse_1"]["system"]["total_cost"]
    batched = evaluate_policies(name, Policies(warehouse=model), [123])
    assert total == pytest.approx(batched["total_cost"].iloc[0])
    assert len(seen) == env.scenario.episode_days


def test_learned_supplier_runs_inside_hmarl_environment(upper_models) -> None:
    model, path = upper_models["supplier"]
    agent = PolicyAgent.from_file(path, "supplier_delay", "supplier_1")
    env = HMARLEnvironment("supplier_delay")
    obs, infos = env.reset(seed=5)
    total = 0.0
    while env.agents:
        actions = env.rule_actions()
        actions["supplier_1"] = agent.act(obs["supplier_1"], infos["supplier_1"]["action_mask"])
        day = env.day
        obs, _, _, _, infos = env.step(actions)
        if day >= env.scenario.warmup_days:
            total += infos["supplier_1"]["system"]["total_cost"]
    batched = evaluate_policies("supplier_delay", Policies(supplier=model), [5])
    assert total == pytest.approx(batched["total_cost"].iloc[0])


def test_system_reward_sums_every_agents_reward_after_warmup() -> None:
    env = HMARLEnvironment("default")
    env.reset(seed=9)
    expected = 0.0
    while env.agents:
        day = env.day
        _, rewards, _, _, _ = env.step(env.rule_actions())
        if day >= env.scenario.warmup_days:
            expected += sum(rewards.values())
    frame = evaluate("default", RoleController(), [9], keep_reports=True)
    assert system_reward(frame.attrs["reports"], env.scenario)[0] == pytest.approx(expected)
    rules = evaluate_policies("default", Policies(), [9])
    assert rules["system_reward"].iloc[0] == pytest.approx(expected)
    assert rules["total_cost"].iloc[0] == pytest.approx(frame["total_cost"].iloc[0])
