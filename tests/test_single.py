"""SingleAgentWrapper and the registered Gymnasium ids: env checkers, masks, equivalence."""

from __future__ import annotations

import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gymnasium_check_env
from sb3_contrib.common.maskable.utils import get_action_masks, is_masking_supported
from stable_baselines3.common.env_checker import check_env as sb3_check_env
from stable_baselines3.common.vec_env import DummyVecEnv

from hmarl_bench import HMARLEnvironment, SingleAgentWrapper
from hmarl_bench.agents import BaseAgent, make_agents
from hmarl_bench.reconciliation import reward

ROLE_AGENTS = ["store_1", "warehouse_1", "supplier_1"]
ENV_IDS = {
    "hmarl_bench/Store-v0": "store_1",
    "hmarl_bench/Warehouse-v0": "warehouse_1",
    "hmarl_bench/Supplier-v0": "supplier_1",
}


@pytest.mark.parametrize("agent", ROLE_AGENTS)
def test_sb3_check_env(agent: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # advisory only (e.g. non-symmetric Box)
        sb3_check_env(SingleAgentWrapper("default", agent=agent), warn=True)


@pytest.mark.parametrize("agent", ROLE_AGENTS)
def test_gymnasium_check_env(agent: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "no spec": built without make()
        gymnasium_check_env(SingleAgentWrapper("default", agent=agent))


@pytest.mark.parametrize("env_id", list(ENV_IDS))
@pytest.mark.parametrize("kwargs", [{}, {"scenario": "three_stores"}])
def test_gymnasium_make(env_id: str, kwargs: dict) -> None:
    env = gymnasium.make(env_id, **kwargs)
    wrapper = env.unwrapped
    assert isinstance(wrapper, SingleAgentWrapper)
    assert wrapper.agent == ENV_IDS[env_id]
    assert wrapper.env.scenario.name == kwargs.get("scenario", "default")
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    steps, truncated = 0, False
    while not truncated:
        # Gymnasium 1.x wrappers forward no attributes: reach the method through the stack
        mask = env.get_wrapper_attr("action_masks")()
        np.testing.assert_array_equal(mask, wrapper.action_masks())
        np.testing.assert_array_equal(mask, info["action_mask"])
        assert mask.dtype == bool and mask.shape == (env.action_space.n,) and mask[0]
        action = int(np.flatnonzero(mask)[-1])  # the largest feasible action
        obs, reward, terminated, truncated, info = env.step(action)
        assert env.observation_space.contains(obs)
        assert isinstance(reward, float) and not terminated
        steps += 1
    assert steps == 90
    env.close()


@pytest.mark.parametrize("env_id", list(ENV_IDS))
def test_maskable_ppo_sees_the_masks(env_id: str) -> None:
    vec = DummyVecEnv([lambda: gymnasium.make(env_id, scenario="three_stores")])
    assert is_masking_supported(vec)
    vec.seed(0)
    vec.reset()
    masks = get_action_masks(vec)
    assert masks.shape == (1, vec.action_space.n) and masks[0, 0]


def test_render_ansi_through_make() -> None:
    env = gymnasium.make("hmarl_bench/Store-v0", render_mode="ansi")
    env.reset(seed=0)
    text = env.render()
    assert "day 0/90" in text and "store_1" in text and "store_2" in text


def test_unknown_agent_and_bad_others() -> None:
    with pytest.raises(ValueError, match="store_7"):
        SingleAgentWrapper("default", agent="store_7")
    others = make_agents(HMARLEnvironment("default").scenario)
    with pytest.raises(ValueError, match="store_1"):
        SingleAgentWrapper("default", agent="store_1", others={"store_1": others["store_1"]})


@pytest.mark.parametrize("agent", ROLE_AGENTS)
def test_wrapper_is_the_env_with_rule_policies_for_the_others(agent: str) -> None:
    """The wrapped agent's trajectory equals the multi-agent env where the others follow
    their rules; the reward is that agent's reward."""
    wrapper = SingleAgentWrapper("default", agent=agent)
    env = HMARLEnvironment("default")
    rng = np.random.default_rng(4)
    obs, info = wrapper.reset(seed=21)
    multi_obs, multi_infos = env.reset(seed=21)
    np.testing.assert_array_equal(obs, multi_obs[agent])
    while env.agents:
        action = int(rng.integers(wrapper.action_space.n))
        actions = {**env.rule_actions(), agent: action}
        obs, reward, terminated, truncated, info = wrapper.step(np.array(action))
        multi_obs, rewards, terms, truncs, multi_infos = env.step(actions)
        np.testing.assert_array_equal(obs, multi_obs[agent])
        assert reward == rewards[agent]
        assert (terminated, truncated) == (terms[agent], truncs[agent])
        np.testing.assert_equal(info, multi_infos[agent])
    assert truncated


class _AlwaysMedium(BaseAgent):
    def act(self, observation, action_mask=None, state=None) -> int:
        return 2


def test_others_replace_the_rules_and_get_feedback() -> None:
    env = HMARLEnvironment("default")
    rule = make_agents(env.scenario)["warehouse_1"]
    medium = _AlwaysMedium("warehouse_1", rule.role, rule.weights, rule.index)
    wrapper = SingleAgentWrapper(env, agent="store_1", others={"warehouse_1": medium})
    wrapper.reset(seed=0)
    total = 0.0
    for _ in range(10):
        _, _, _, _, _ = wrapper.step(0)
        assert env.rule_actions()["warehouse_1"] == 0  # the rule would not order
        assert env.last_actions["warehouse_1"] == 2
        total += float(reward(env.last_report.warehouse, medium.weights)[0])
    assert medium.episode_return == pytest.approx(total)


def test_unseeded_reset_is_reproducible_from_the_first_seed() -> None:
    first, second = SingleAgentWrapper("default"), SingleAgentWrapper("default")
    first.reset(seed=3)
    second.reset(seed=3)
    np.testing.assert_array_equal(first.reset()[0], second.reset()[0])
    np.testing.assert_array_equal(first.env.twin_state.demand, second.env.twin_state.demand)


@pytest.mark.parametrize(
    ("name", "first"), [("default", "store_1"), ("multi_sku", "store_1_sku_1")]
)
def test_default_agent_exists_in_every_scenario(name: str, first: str) -> None:
    wrapper = SingleAgentWrapper(HMARLEnvironment(name))
    assert wrapper.agent == first
    with pytest.raises(RuntimeError, match="call reset"):
        wrapper.action_masks()
    wrapper.reset(seed=0)
    assert wrapper.action_masks().dtype == bool
    with pytest.raises(ValueError, match="choose one of store_1_sku_1, .*warehouse_1"):
        SingleAgentWrapper(HMARLEnvironment("multi_sku"), agent="store_1")
    with pytest.raises(ValueError, match=r"\.\.\., store_100, warehouse_1, supplier_1 \(102"):
        SingleAgentWrapper(HMARLEnvironment("stores_100"), agent="store_101")
