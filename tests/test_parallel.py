"""HMARLEnvironment: the PettingZoo API, determinism, bad actions, observations, render."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from gymnasium import spaces
from pettingzoo.test import parallel_api_test

import hmarl_bench
from hmarl_bench import DigitalTwin, HMARLEnvironment, load_scenario
from hmarl_bench.agents import make_agents
from hmarl_bench.reconciliation import ROLE_TERMS

SCENARIOS = hmarl_bench.list_scenarios()


def _random_action(space: spaces.Space, rng: np.random.Generator) -> int | np.ndarray:
    if isinstance(space, spaces.MultiDiscrete):  # a warehouse of several SKUs
        return rng.integers(space.nvec)
    return int(rng.integers(space.n))


def _check_gym_mask(space: spaces.Space, mask: Any, agent: str, sample: bool = True) -> None:
    """Gymnasium's form: int8 zeros and ones, one row per sub-action of a MultiDiscrete
    space (a tuple); ordering nothing (action 0) is always allowed; sample() takes it."""
    multi = isinstance(space, spaces.MultiDiscrete)
    rows, sizes = (mask, space.nvec) if multi else ((mask,), [space.n])
    assert isinstance(rows, tuple) and len(rows) == len(sizes), agent
    for row, n in zip(rows, sizes, strict=True):
        assert row.dtype == np.int8 and row.shape == (n,), (agent, row)
        assert row[0] == 1 and set(row.tolist()) <= {0, 1}, (agent, row)
    if not sample:
        return
    action = space.sample(mask=mask)
    assert space.contains(action)
    chosen = np.atleast_1d(action)
    assert all(row[a] == 1 for row, a in zip(rows, chosen, strict=True)), (agent, mask, action)


def _random_actions(env: HMARLEnvironment, rng: np.random.Generator) -> dict[str, Any]:
    return {a: _random_action(env.action_space(a), rng) for a in env.agents}


def _run_episode(env: HMARLEnvironment, seed: int, action_seed: int) -> list[Any]:
    """Everything the env returns over one episode under seeded random actions."""
    rng = np.random.default_rng(action_seed)
    trace: list[Any] = [env.reset(seed=seed)]
    while env.agents:
        trace.append(env.step(_random_actions(env, rng)))
    return trace


@pytest.mark.parametrize("name", SCENARIOS)
def test_parallel_api(name: str) -> None:
    parallel_api_test(HMARLEnvironment(name), num_cycles=100)  # past the 90-day horizon


def test_agents_and_spaces() -> None:
    env = HMARLEnvironment("three_stores")
    assert env.possible_agents == ["store_1", "store_2", "store_3", "warehouse_1", "supplier_1"]
    assert env.agents == []
    expected = {"store_1": (7, 4), "warehouse_1": (6, 4), "supplier_1": (3, 3)}
    for agent, (obs_dim, n_actions) in expected.items():
        assert env.observation_space(agent).shape == (obs_dim,)
        assert env.observation_space(agent).dtype == np.float32
        assert env.action_space(agent).n == n_actions
    env.reset(seed=0)
    assert env.state().shape == env.state_space.shape == (3 * 7 + 6 + 3,)
    assert env.state_space.contains(env.state())


@pytest.mark.parametrize("name", ["default", "supplier_delay"])
def test_episode_runs_to_truncation(name: str) -> None:
    env = HMARLEnvironment(name)
    env.reset(seed=3)
    days = 0
    while env.agents:
        _, rewards, terms, truncs, infos = env.step(env.rule_actions())
        days += 1
        assert set(rewards) == set(terms) == set(truncs) == set(infos) == set(env.possible_agents)
        assert not any(terms.values())
        assert all(truncs.values()) == (days == env.scenario.episode_days)
        assert set(infos["store_1"]["report"]) == set(ROLE_TERMS)
        assert set(infos["warehouse_1"]["system"]) >= {"total_cost", "holding_cost"}
    assert days == env.scenario.episode_days == 90


# --------------------------------------------------------------------------- determinism


@pytest.mark.parametrize("name", ["default", "supplier_delay", "high_variability"])
def test_same_seed_same_episode(name: str) -> None:
    first = _run_episode(HMARLEnvironment(name), seed=7, action_seed=1)
    second = _run_episode(HMARLEnvironment(name), seed=7, action_seed=1)
    assert len(first) == 91
    np.testing.assert_equal(first, second)  # observations, rewards, infos with reports


def test_reset_with_the_same_seed_replays_the_episode() -> None:
    env = HMARLEnvironment("default")
    first = _run_episode(env, seed=11, action_seed=2)
    np.testing.assert_equal(_run_episode(env, seed=11, action_seed=2), first)


def test_different_seeds_differ() -> None:
    first = _run_episode(HMARLEnvironment("default"), seed=7, action_seed=1)
    other = _run_episode(HMARLEnvironment("default"), seed=8, action_seed=1)
    demand = [
        [step[4][a]["report"]["demand"] for a in ("store_1", "store_2")] for step in first[1:]
    ]
    demand_other = [
        [step[4][a]["report"]["demand"] for a in ("store_1", "store_2")] for step in other[1:]
    ]
    assert demand != demand_other
    assert [s[1] for s in first[1:]] != [s[1] for s in other[1:]]  # rewards


def test_env_seed_is_the_twin_seed() -> None:
    """reset(seed=k) faces the demand of a twin copy seeded with k (common random numbers)."""
    env = HMARLEnvironment("supplier_delay")
    env.reset(seed=12)
    twin = DigitalTwin("supplier_delay", batch_size=3)
    twin.reset([5, 12, 7])
    np.testing.assert_array_equal(env.twin_state.demand[0], twin.state.demand[1])
    np.testing.assert_array_equal(env.twin_state.supplier_late[0], twin.state.supplier_late[1])


def test_unseeded_resets_differ_but_follow_the_first_seed() -> None:
    env = HMARLEnvironment("default")
    env.reset(seed=5)
    demand_a = env.twin_state.demand.copy()
    env.reset()
    demand_b = env.twin_state.demand.copy()
    assert not np.array_equal(demand_a, demand_b)
    again = HMARLEnvironment("default")
    again.reset(seed=5)
    again.reset()
    np.testing.assert_array_equal(again.twin_state.demand, demand_b)


def test_rewards_come_from_the_reports() -> None:
    env = HMARLEnvironment("default")
    agents = make_agents(env.scenario)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    while env.agents:
        _, rewards, _, _, infos = env.step(_random_actions(env, rng))
        for agent_id, agent in agents.items():
            assert agent.receive_feedback(infos[agent_id]["report"]) == rewards[agent_id]


# --------------------------------------------------------------------------- bad actions


@pytest.fixture
def env() -> HMARLEnvironment:
    env = HMARLEnvironment("default")
    env.reset(seed=0)
    return env


@pytest.mark.parametrize(
    ("agent", "action", "words"),
    [
        ("store_1", 4, "store_1"),
        ("store_2", -1, "store_2"),
        ("supplier_1", 3, "supplier_1"),
        ("warehouse_1", 1.5, "warehouse_1.*integer"),
        ("store_1", "1", "store_1"),
        ("store_1", None, "store_1.*integer"),
    ],
)
def test_bad_action_value(env: HMARLEnvironment, agent: str, action: Any, words: str) -> None:
    actions: dict[str, Any] = env.rule_actions()
    actions[agent] = action
    with pytest.raises(ValueError, match=words):
        env.step(actions)
    assert env.day == 0  # nothing happened


def test_integral_numpy_and_float_actions_are_accepted(env: HMARLEnvironment) -> None:
    actions: dict[str, Any] = env.rule_actions()
    actions["store_1"] = np.int64(1)
    actions["warehouse_1"] = 2.0
    env.step(actions)
    assert env.last_actions["store_1"] == 1 and env.last_actions["warehouse_1"] == 2


def test_unknown_agent(env: HMARLEnvironment) -> None:
    with pytest.raises(ValueError, match="unknown agent.*store_9"):
        env.step({**env.rule_actions(), "store_9": 0})


def test_missing_agent(env: HMARLEnvironment) -> None:
    actions = env.rule_actions()
    del actions["warehouse_1"]
    with pytest.raises(ValueError, match="missing.*warehouse_1"):
        env.step(actions)


def test_actions_must_be_a_dict(env: HMARLEnvironment) -> None:
    with pytest.raises(ValueError, match="dict"):
        env.step([0, 0, 0, 0])  # type: ignore[arg-type]


def test_step_after_the_episode_ended(env: HMARLEnvironment) -> None:
    while env.agents:
        env.step(env.rule_actions())
    with pytest.raises(RuntimeError, match="reset"):
        env.step(dict.fromkeys(env.possible_agents, 0))
    env.reset(seed=1)
    env.step(env.rule_actions())  # usable again


def test_step_and_state_before_reset() -> None:
    env = HMARLEnvironment("default")
    with pytest.raises(RuntimeError, match="reset"):
        env.step(dict.fromkeys(env.possible_agents, 0))
    with pytest.raises(RuntimeError, match="reset"):
        HMARLEnvironment("default", render_mode="ansi").render()
    with pytest.raises(ValueError, match="render_mode"):
        HMARLEnvironment("default", render_mode="rgb_array_list")


# --------------------------------------------------------------------------- observations


@pytest.mark.parametrize("name", SCENARIOS)
def test_observations_stay_in_bounds_and_masks_allow_no_order(name: str) -> None:
    env = HMARLEnvironment(name)
    rng = np.random.default_rng(123)
    sampled = {*env.possible_agents[:3], "warehouse_1", "supplier_1"}  # sample() is slow
    for seed in (0, 1):
        obs, infos = env.reset(seed=seed)
        while True:
            for agent in env.possible_agents:
                o, space = obs[agent], env.observation_space(agent)
                assert o.dtype == np.float32 and o.shape == space.shape, agent
                assert np.isfinite(o).all() and (o >= 0).all() and (o <= 1).all(), (agent, o)
                assert space.contains(o)
                mask = infos[agent]["action_mask"]
                _check_gym_mask(env.action_space(agent), mask, agent, sample=agent in sampled)
            if not env.agents:
                break
            obs, _, _, _, infos = env.step(_random_actions(env, rng))


def test_masks_mark_orders_the_twin_would_cut() -> None:
    """A masked-out store action orders more than the room left; a feasible one does not."""
    env = HMARLEnvironment("default")
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    saw_infeasible = False
    while env.agents:
        masks = env.action_masks()
        actions = _random_actions(env, rng)
        actions["store_1"] = 3  # always the largest order, to fill the store up
        state = env.twin_state
        room = env.scenario.stores[0].capacity - int(state.store_position[0, 0])
        quantity = int(env.store_role.order_quantities(np.array([[3, 0]]), state)[0, 0])
        assert masks["store_1"][3] == (quantity <= room)
        saw_infeasible |= not masks["store_1"][3]
        env.step(actions)
        requested = int(env.last_report.stores.ordered[0, 0])
        assert requested == min(quantity, max(room, 0))
    assert saw_infeasible


def test_render_ansi_shows_the_day_and_every_store() -> None:
    env = HMARLEnvironment("three_stores", render_mode="ansi")
    env.reset(seed=0)
    text = env.render()
    assert isinstance(text, str)
    assert "day 0/90" in text
    for agent in ("store_1", "store_2", "store_3", "warehouse_1"):
        assert agent in text
    env.step(env.rule_actions())
    text = env.render()
    assert "day 1/90" in text and "store_3" in text and "demand" in text
    assert "flows of day 0" in text and "day 0 cost" in text  # the report is yesterday's
    assert HMARLEnvironment("default").render() is None  # no render_mode


def test_scenario_argument_forms(tmp_path) -> None:
    sc = load_scenario("three_stores")
    assert HMARLEnvironment(sc).scenario is sc
    path = tmp_path / "mine.toml"
    path.write_text(
        (hmarl_bench.config.SCENARIO_DIR / "three_stores.toml").read_text(), encoding="utf-8"
    )
    assert HMARLEnvironment(str(path)).scenario == sc
