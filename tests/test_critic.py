"""The centralized critic: the actor reads the local observation only, the critic all of it."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from hmarl_bench import SharedPolicyVecEnv, SingleAgentWrapper, load_scenario
from hmarl_bench.agents.actor import actor_observation
from hmarl_bench.agents.interfaces import ChainState, make_roles
from hmarl_bench.agents.policy import PolicyAgent
from hmarl_bench.envs.upper_vec import WarehouseVecEnv
from hmarl_bench.evaluation import ModelStores, RoleController, evaluate
from hmarl_bench.learn.train import ALGOS, load_hyperparams, make_model

ALGO_NAMES = ["ppo", "maskable_ppo"]


def _model(algo: str, venv, local_dim: int):
    params = load_hyperparams(algo, {"central_critic": True})
    return make_model(algo, venv, 0, params, local_dim=local_dim)


def _logits(model, obs: np.ndarray) -> torch.Tensor:
    tensor = torch.as_tensor(obs)
    with torch.no_grad():
        return model.policy.get_distribution(tensor).distribution.logits


@pytest.mark.parametrize("algo", ALGO_NAMES)
@pytest.mark.parametrize("interface", ["seed", "planner"])
def test_actor_does_not_depend_on_the_global_input(algo, interface):
    sc = load_scenario("default")
    venv = SharedPolicyVecEnv(sc, n_envs=3, seed=0, interface=interface, central_critic=True)
    local = make_roles(sc, interface)[0].observation_space.shape[0]
    assert venv.observation_space.shape == (local + ChainState(sc).dim,)
    model = _model(algo, venv, local)
    obs = venv.reset()
    rng = np.random.default_rng(0)
    other = obs.copy()
    other[:, local:] = rng.random(other[:, local:].shape, dtype=np.float32)
    torch.testing.assert_close(_logits(model, obs), _logits(model, other), rtol=0, atol=0)
    with torch.no_grad():
        values = model.policy.predict_values(torch.as_tensor(obs))
        other_values = model.policy.predict_values(torch.as_tensor(other))
    assert not torch.equal(values, other_values)  # the critic reads the global state
    changed_local = obs.copy()
    changed_local[:, :local] = rng.random(changed_local[:, :local].shape, dtype=np.float32)
    assert not torch.equal(_logits(model, obs), _logits(model, changed_local))


@pytest.mark.parametrize("algo", ALGO_NAMES)
def test_decentralized_execution_on_local_observations(algo, tmp_path):
    sc = load_scenario("default")
    venv = WarehouseVecEnv(sc, n_envs=2, seed=0, interface="planner", central_critic=True)
    local = make_roles(sc, "planner")[1].observation_space.shape[0]
    model = _model(algo, venv, local)
    model.learn(64)
    model.save(tmp_path / "m.zip")
    loaded = ALGOS[algo].load(tmp_path / "m.zip", device="cpu")
    assert loaded.policy.local_dim == local
    agent = PolicyAgent(loaded, sc, "warehouse_1", interface="planner")
    full = venv.reset()
    local_obs = full[:, :local]
    padded = actor_observation(loaded, local_obs)
    np.testing.assert_array_equal(padded[:, local:], 0.0)
    masks = venv.action_masks()
    kwargs = {"action_masks": masks} if algo == "maskable_ppo" else {}
    expected, _ = loaded.predict(full, deterministic=True, **kwargs)
    actions = agent.act_batch(local_obs, masks, venv.twin.state)
    np.testing.assert_array_equal(actions, expected)


def test_central_critic_store_models_run_in_the_chain_and_the_single_agent_env():
    sc = load_scenario("default")
    venv = SharedPolicyVecEnv(sc, n_envs=2, seed=0, central_critic=True)
    model = _model("ppo", venv, 7)
    buffer = io.BytesIO()
    model.save(buffer)
    frame = evaluate(sc, RoleController(stores=ModelStores(model)), [1, 2])
    assert np.isfinite(frame["total_cost"]).all()
    single = SingleAgentWrapper("default", agent="store_1", central_critic=True)
    obs, _ = single.reset(seed=0)
    assert obs.shape == venv.observation_space.shape
    assert single.observation_space.contains(obs)
