"""SharedPolicyVecEnv: the SB3 VecEnv contract, auto-reset, masks, seeding, equivalence."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from sb3_contrib.common.maskable.utils import get_action_masks, is_masking_supported
from stable_baselines3.common.vec_env import VecEnv, VecMonitor

from hmarl_bench import HMARLEnvironment, load_scenario
from hmarl_bench.agents.policy import PolicyAgent
from hmarl_bench.agents.roles import StoreRole
from hmarl_bench.config import RewardWeights, Scenario
from hmarl_bench.envs.vec import SharedPolicyVecEnv
from hmarl_bench.evaluation import RoleController, evaluate


def tight_scenario() -> Scenario:
    """The default chain with store capacity just above the initial stock: masks bite."""
    sc = load_scenario("default")
    stores = tuple(
        dataclasses.replace(
            s,
            capacity=s.initial_inventory + 40,
            order_up_to=min(s.order_up_to, s.initial_inventory + 40),
        )
        for s in sc.stores
    )
    return dataclasses.replace(sc, name="tight", stores=stores)


def _scenario(name: str) -> Scenario:
    return tight_scenario() if name == "tight" else load_scenario(name)


def _actions(rng: np.random.Generator, venv: VecEnv) -> np.ndarray:
    return rng.integers(venv.action_space.n, size=venv.num_envs)


def _trajectory(venv: VecEnv, n_steps: int, action_seed: int = 0) -> tuple[np.ndarray, ...]:
    """Observations and rewards of ``n_steps`` seeded random steps after a reset."""
    rng = np.random.default_rng(action_seed)
    observations, rewards = [venv.reset()], []
    for _ in range(n_steps):
        obs, reward, _, _ = venv.step(_actions(rng, venv))
        observations.append(obs)
        rewards.append(reward)
    return np.array(observations), np.array(rewards)


class ConstantModel:
    """A bare predictor (no spaces) that always picks ``action``; records what it was given."""

    def __init__(self, action: int) -> None:
        self.action = action
        self.observation_shapes: list[tuple[int, ...]] = []

    def predict(self, obs, state=None, episode_start=None, deterministic=True):
        obs = np.asarray(obs)
        self.observation_shapes.append(obs.shape)
        return np.full(len(obs), self.action), None


@pytest.mark.parametrize(("name", "n_envs"), [("default", 1), ("default", 3), ("three_stores", 2)])
def test_vecenv_contract_over_an_episode(name: str, n_envs: int) -> None:
    sc = load_scenario(name)
    venv = SharedPolicyVecEnv(name, n_envs=n_envs, seed=0)
    assert isinstance(venv, VecEnv)
    assert venv.num_envs == n_envs * sc.n_stores
    assert venv.observation_space.shape == (7,)
    assert venv.action_space.n == 4
    obs = venv.reset()
    assert obs.shape == (venv.num_envs, 7)
    assert obs.dtype == np.float32
    rng = np.random.default_rng(1)
    for day in range(sc.episode_days):
        obs, rewards, dones, infos = venv.step(_actions(rng, venv))
        assert obs.shape == (venv.num_envs, 7)
        assert obs.dtype == np.float32
        assert np.all((obs >= 0.0) & (obs <= 1.0))
        assert venv.observation_space.contains(obs[0])
        assert rewards.shape == (venv.num_envs,)
        assert rewards.dtype == np.float32
        assert np.all(np.isfinite(rewards))
        assert dones.shape == (venv.num_envs,)
        assert dones.dtype == bool
        assert len(infos) == venv.num_envs
        last = day == sc.episode_days - 1
        assert np.all(dones) if last else not np.any(dones)
    for info in infos:
        terminal = info["terminal_observation"]
        assert terminal.shape == (7,)
        assert terminal.dtype == np.float32
        assert info["TimeLimit.truncated"] is True


@pytest.mark.parametrize("name", ["default", "three_stores"])
def test_horizon_auto_resets_to_the_next_episode(name: str) -> None:
    sc = load_scenario(name)
    seeds = [5, 6]
    venv = SharedPolicyVecEnv(name, fixed_seeds=seeds)
    first = venv.reset()
    for _ in range(sc.episode_days):
        obs, _, dones, infos = venv.step(np.full(venv.num_envs, 2))
    assert np.all(dones)
    # The returned observations start the next episode: day 0, the same as after reset().
    assert venv.twin.state.day == 0
    np.testing.assert_array_equal(obs, first)
    terminal = np.stack([info["terminal_observation"] for info in infos])
    assert not np.array_equal(terminal, obs)
    # The terminal observation is the one a single env shows at its last day.
    single = HMARLEnvironment(name)
    for b, seed in enumerate(seeds):
        single.reset(seed=seed)
        while single.agents:
            actions = single.rule_actions()
            actions.update(dict.fromkeys(single.store_ids, 2))
            last_obs, *_ = single.step(actions)
        for s, store in enumerate(single.store_ids):
            np.testing.assert_array_equal(terminal[b * sc.n_stores + s], last_obs[store])


def test_terminal_info_carries_the_episode_business_cost() -> None:
    seeds = [3, 4]
    venv = SharedPolicyVecEnv("default", fixed_seeds=seeds)
    venv.reset()
    for _ in range(venv.scenario.episode_days):
        _, _, _, infos = venv.step(np.full(venv.num_envs, 2))

    def order_one_x(obs, masks, state):
        return np.full(obs.shape[:2], 2)

    frame = evaluate("default", RoleController(stores=order_one_x), seeds)
    costs = [infos[b * venv.n_stores]["episode_total_cost"] for b in range(len(seeds))]
    np.testing.assert_allclose(costs, frame["total_cost"].to_numpy())
    assert costs[0] != costs[1]


@pytest.mark.parametrize("name", ["default", "three_stores", "tight"])
def test_slots_are_the_stores_of_single_envs(name: str) -> None:
    """Slot b*S+s with fixed seed k_b is store s of HMARLEnvironment reset with k_b."""
    sc = _scenario(name)
    seeds = [21, 22]
    venv = SharedPolicyVecEnv(sc, fixed_seeds=seeds)
    n = sc.n_stores
    envs = [HMARLEnvironment(sc) for _ in seeds]
    obs = venv.reset()
    singles = [env.reset(seed=k)[0] for env, k in zip(envs, seeds, strict=True)]
    rng = np.random.default_rng(0)
    masks_seen = []
    for day in range(sc.episode_days):
        masks = venv.action_masks()
        masks_seen.append(masks)
        np.testing.assert_array_equal(np.stack(venv.env_method("action_masks")), masks)
        for b, env in enumerate(envs):
            env_masks = env.action_masks()
            for s, store in enumerate(env.store_ids):
                np.testing.assert_array_equal(obs[b * n + s], singles[b][store])
                np.testing.assert_array_equal(masks[b * n + s], env_masks[store])
        actions = _actions(rng, venv)
        obs, rewards, dones, infos = venv.step(actions)
        last = day == sc.episode_days - 1
        for b, env in enumerate(envs):
            env_actions = env.rule_actions()
            for s, store in enumerate(env.store_ids):
                env_actions[store] = int(actions[b * n + s])
            singles[b], env_rewards, _, truncations, _ = env.step(env_actions)
            for s, store in enumerate(env.store_ids):
                assert rewards[b * n + s] == np.float32(env_rewards[store])
                assert truncations[store] == last == dones[b * n + s]
                if last:
                    terminal = infos[b * n + s]["terminal_observation"]
                    np.testing.assert_array_equal(terminal, singles[b][store])
    # The copies face different demand, so the slot order matters.
    assert not np.array_equal(singles[0][envs[0].store_ids[0]], singles[1][envs[1].store_ids[0]])
    if name == "tight":
        assert not np.all(masks_seen)  # some actions were infeasible: masks were compared


def test_action_masks_are_those_of_the_post_reset_observations() -> None:
    sc = tight_scenario()
    seeds = [8, 9]
    venv = SharedPolicyVecEnv(sc, fixed_seeds=seeds)
    venv.reset()
    for _ in range(sc.episode_days):
        _, _, dones, infos = venv.step(np.zeros(venv.num_envs, dtype=np.int64))  # order nothing
    assert np.all(dones)
    # After 90 days without orders the stores are empty: every action fits the terminal state.
    terminal = np.stack([info["terminal_observation"] for info in infos])
    assert np.all(terminal[:, 0] == 0.0)
    masks = venv.action_masks()
    assert masks.shape == (venv.num_envs, 4)
    assert masks.dtype == bool
    np.testing.assert_array_equal(masks, StoreRole(sc).action_masks(venv.twin.state).reshape(-1, 4))
    assert not np.all(masks)  # the new episode starts near capacity
    for b, seed in enumerate(seeds):
        env = HMARLEnvironment(sc)
        _, env_infos = env.reset(seed=seed)
        for s, store in enumerate(env.store_ids):
            np.testing.assert_array_equal(
                masks[b * sc.n_stores + s], env_infos[store]["action_mask"]
            )
    # What MaskablePPO reads, through a VecMonitor as in training.
    assert is_masking_supported(VecMonitor(venv))
    np.testing.assert_array_equal(get_action_masks(VecMonitor(venv)), masks)
    per_slot = venv.env_method("action_masks")
    assert len(per_slot) == venv.num_envs
    np.testing.assert_array_equal(np.stack(per_slot), masks)


def test_get_attr_set_attr_env_method() -> None:
    venv = SharedPolicyVecEnv("three_stores", n_envs=2, seed=0)
    venv.reset()
    assert venv.get_attr("n_stores") == [3] * 6
    assert venv.get_attr("n_copies", indices=[0, 4]) == [2, 2]
    with pytest.raises(AttributeError):
        venv.get_attr("no_such_attribute")
    assert venv.has_attr("action_masks")
    assert not venv.has_attr("no_such_attribute")
    masks = venv.action_masks()
    picked = venv.env_method("action_masks", indices=[1, 5])
    assert len(picked) == 2
    np.testing.assert_array_equal(picked[0], masks[1])
    np.testing.assert_array_equal(picked[1], masks[5])
    assert venv.env_method("env_is_wrapped", VecMonitor) == [[False] * 6] * 6
    _, rewards, _, _ = venv.step(np.full(6, 2))
    assert np.any(rewards != 0)
    zero = RewardWeights(
        service_level=0.0, holding_cost=0.0, stockout=0.0, excess=0.0, ordering_cost=0.0
    )
    venv.set_attr("reward_weights", zero)
    assert venv.get_attr("reward_weights") == [zero] * 6
    _, rewards, _, _ = venv.step(np.full(6, 2))
    np.testing.assert_array_equal(rewards, np.zeros(6, dtype=np.float32))


def test_vec_monitor_reports_each_slot_episode() -> None:
    venv = VecMonitor(SharedPolicyVecEnv("three_stores", n_envs=2, seed=3))
    days = 90
    venv.reset()
    rng = np.random.default_rng(0)
    returns = np.zeros(venv.num_envs)
    for day in range(days):
        _, rewards, dones, infos = venv.step(_actions(rng, venv))
        returns += rewards
        if day < days - 1:
            assert not any("episode" in info for info in infos)
    assert np.all(dones)
    for i, info in enumerate(infos):
        assert info["episode"]["l"] == days
        assert info["episode"]["r"] == pytest.approx(returns[i], rel=1e-5)
        assert "terminal_observation" in info
    assert len(set(np.round(returns, 3))) > 1  # per slot, not one shared number


def test_seed_fixes_the_stream_of_episodes() -> None:
    steps = 2 * 90 + 5  # through an auto-reset into a third episode
    venv = SharedPolicyVecEnv("default", n_envs=2)
    venv.seed(7)
    obs_a, rew_a = _trajectory(venv, steps)
    venv.seed(7)
    obs_b, rew_b = _trajectory(venv, steps)
    np.testing.assert_array_equal(obs_a, obs_b)
    np.testing.assert_array_equal(rew_a, rew_b)
    # The constructor's seed is the same as seed(k), which SB3 models call.
    obs_c, rew_c = _trajectory(SharedPolicyVecEnv("default", n_envs=2, seed=7), steps)
    np.testing.assert_array_equal(obs_a, obs_c)
    np.testing.assert_array_equal(rew_a, rew_c)
    venv.seed(8)
    obs_d, rew_d = _trajectory(venv, steps)
    assert not np.array_equal(obs_a, obs_d)
    assert not np.array_equal(rew_a, rew_d)
    # Without a new seed, a reset continues the stream rather than replaying it.
    venv.seed(7)
    _trajectory(venv, 1)
    obs_e, _ = _trajectory(venv, steps)
    assert not np.array_equal(obs_a, obs_e)
    # Copies within one env are independent draws.
    assert not np.array_equal(obs_a[:, 0], obs_a[:, 2])
    # Episodes in the stream differ from one another.
    assert not np.array_equal(rew_a[:90], rew_a[90:180])


def test_fixed_seeds_replay_the_same_episodes() -> None:
    days = 90
    venv = SharedPolicyVecEnv("default", fixed_seeds=[11, 12])
    assert venv.num_envs == 4
    rng = np.random.default_rng(0)
    actions = [_actions(rng, venv) for _ in range(days)]

    def episode() -> tuple[np.ndarray, np.ndarray]:
        obs, rews = [], []
        for a in actions:
            o, r, _, _ = venv.step(a)
            obs.append(o)
            rews.append(r)
        return np.array(obs), np.array(rews)

    venv.reset()
    first = episode()
    second = episode()  # after the auto-reset
    venv.seed(99)  # fixed seeds win over the stream seed
    venv.reset()
    third = episode()
    for other in (second, third):
        np.testing.assert_array_equal(first[0], other[0])
        np.testing.assert_array_equal(first[1], other[1])
    assert not np.array_equal(first[1][:, 0], first[1][:, 2])  # the two seeds differ


def test_warehouse_and_supplier_agents_are_used() -> None:
    sc = load_scenario("default")
    ruled = SharedPolicyVecEnv(sc, n_envs=2, seed=0)
    ruled.reset()
    ruled.step(np.full(4, 2))
    assert np.all(ruled.twin.state.warehouse_last_order == 0)  # above its reorder point
    wh_model, sup_model = ConstantModel(2), ConstantModel(1)  # order 1000; ship 80%
    warehouse = PolicyAgent(wh_model, sc, "warehouse_1")
    venv = SharedPolicyVecEnv(sc, n_envs=2, seed=0, warehouse=warehouse)
    venv.reset()
    venv.step(np.full(4, 2))
    assert np.all(venv.twin.state.warehouse_last_order == sc.warehouse.order_quantities[2])
    assert np.all(venv.twin.state.supplier_last_shipped == sc.warehouse.order_quantities[2])
    assert wh_model.observation_shapes == [(2, 6)]
    supplier = PolicyAgent(sup_model, sc, "supplier_1")
    venv = SharedPolicyVecEnv(sc, n_envs=2, seed=0, warehouse=warehouse, supplier=supplier)
    venv.reset()
    venv.step(np.full(4, 2))
    expected = round(sc.warehouse.order_quantities[2] * sc.supplier.partial_fraction)
    np.testing.assert_array_equal(venv.twin.state.supplier_last_shipped, [[expected]] * 2)
    assert sup_model.observation_shapes == [(2, 3)]


@pytest.mark.parametrize("bad", [-1, 4, 10])
def test_out_of_range_action_raises(bad: int) -> None:
    venv = SharedPolicyVecEnv("default", n_envs=2, seed=0)
    venv.reset()
    actions = np.full(venv.num_envs, 1)
    actions[2] = bad
    with pytest.raises(ValueError, match="actions"):
        venv.step(actions)


def test_bad_construction_raises() -> None:
    with pytest.raises(ValueError, match="n_envs"):
        SharedPolicyVecEnv("default", n_envs=0)
    with pytest.raises(ValueError, match="scenario"):
        SharedPolicyVecEnv("no_such_scenario", n_envs=1)


@pytest.mark.parametrize(
    ("actions", "message"),
    [
        (np.zeros(3, dtype=np.int64), "expected 4 actions"),
        (np.array([0, 1, 2, 4]), r"in \[0, 4\)"),
        (np.array([0, 1, 2, -1]), r"in \[0, 4\)"),
        (np.array([0.5, 1, 2, 3]), "whole numbers"),
    ],
)
def test_bad_actions_are_refused(actions, message) -> None:
    venv = SharedPolicyVecEnv("default", n_envs=2, seed=0)
    venv.reset()
    with pytest.raises(ValueError, match=message):
        venv.step(actions)
    obs, _, _, _ = venv.step(np.array([0.0, 1.0, 2.0, 3.0]))  # whole floats are fine
    assert obs.shape == (4, 7)


def test_masks_and_steps_before_reset_say_so() -> None:
    from hmarl_bench.envs.upper_vec import WarehouseVecEnv

    for venv in (SharedPolicyVecEnv("default", n_envs=2), WarehouseVecEnv("default", n_envs=2)):
        with pytest.raises(RuntimeError, match=r"call reset\(\) before action_masks\(\)"):
            venv.action_masks()
        with pytest.raises(RuntimeError, match=r"call reset\(\) before step\(\)"):
            venv.step(np.zeros(venv.num_envs, dtype=np.int64))
