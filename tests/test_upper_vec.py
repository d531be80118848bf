"""WarehouseVecEnv / SupplierVecEnv: the VecEnv contract, rewards, masks, seeding, equivalence."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from gymnasium import spaces
from sb3_contrib import MaskablePPO
from sb3_contrib.common.maskable.utils import get_action_masks, is_masking_supported
from stable_baselines3.common.vec_env import VecEnv, VecMonitor

from hmarl_bench import load_scenario
from hmarl_bench.agents.roles import SupplierRole, WarehouseRole
from hmarl_bench.agents.rule_agents import WarehouseAgent
from hmarl_bench.config import Scenario
from hmarl_bench.envs.upper_vec import SupplierVecEnv, WarehouseVecEnv
from hmarl_bench.evaluation import ModelStores, RoleController, evaluate
from hmarl_bench.reconciliation import reconcile, reward

ENVS = [WarehouseVecEnv, SupplierVecEnv]


class ConstantModel:
    """A bare predictor that always picks ``action``."""

    def __init__(self, action: int) -> None:
        self.action = action

    def predict(self, obs, state=None, episode_start=None, deterministic=True):
        return np.full(len(np.asarray(obs)), self.action), None


def tight_warehouse() -> Scenario:
    """The default chain with warehouse capacity just above its initial stock: masks bite."""
    sc = load_scenario("default")
    room = sc.warehouse.initial_inventory + 700
    wh = dataclasses.replace(sc.warehouse, capacity=room, order_up_to=room)
    return dataclasses.replace(sc, name="tight_warehouse", warehouse=wh)


def _rollout(venv: VecEnv, days: int, action_seed: int = 0):
    rng = np.random.default_rng(action_seed)
    observations, rewards = [venv.reset()], []
    for _ in range(days):
        obs, rew, _, _ = venv.step(rng.integers(venv.action_space.n, size=venv.num_envs))
        observations.append(obs)
        rewards.append(rew)
    return np.array(observations), np.array(rewards)


@pytest.mark.parametrize("env_class", ENVS)
@pytest.mark.parametrize(("name", "n_envs"), [("default", 1), ("default", 3), ("three_stores", 2)])
def test_vecenv_contract_over_an_episode(env_class, name: str, n_envs: int) -> None:
    sc = load_scenario(name)
    venv = env_class(name, n_envs=n_envs, seed=0)
    role = env_class.make_role(sc)
    assert isinstance(venv, VecEnv)
    assert venv.num_envs == n_envs  # one slot per copy, whatever the store count
    assert venv.observation_space.shape == (role.obs_dim,)
    assert venv.action_space.n == role.n_actions
    obs = venv.reset()
    assert obs.shape == (n_envs, role.obs_dim) and obs.dtype == np.float32
    rng = np.random.default_rng(1)
    for day in range(sc.episode_days):
        obs, rewards, dones, infos = venv.step(rng.integers(role.n_actions, size=n_envs))
        assert rewards.shape == (n_envs,) and rewards.dtype == np.float32
        assert np.all((obs >= 0) & (obs <= 1))
        last = day == sc.episode_days - 1
        assert dones.tolist() == [last] * n_envs
        if last:
            for info in infos:
                assert info["TimeLimit.truncated"] is True
                assert info["terminal_observation"].shape == (role.obs_dim,)
                assert info["episode_total_cost"] > 0
            assert venv.twin.state.day == 0  # auto-reset
        else:
            assert all(len(info) == 0 for info in infos)


@pytest.mark.parametrize("name", ["default", "supplier_delay", "three_stores"])
def test_rule_actions_through_the_slot_give_the_rule_chain(name: str) -> None:
    """Feeding the warehouse's rule actions reproduces evaluate() of the all-rule chain."""
    sc = load_scenario(name)
    seeds = [11, 12, 13]
    venv = WarehouseVecEnv(sc, fixed_seeds=seeds)
    role = WarehouseRole(sc)
    venv.reset()
    total = None
    for _ in range(sc.episode_days):
        _, rewards, dones, infos = venv.step(role.rule_actions(venv.twin.state))
        assert rewards.shape == (3,)
        if dones[0]:
            total = [info["episode_total_cost"] for info in infos]
    expected = evaluate(sc, RoleController(), seeds)["total_cost"].to_numpy()
    np.testing.assert_allclose(total, expected)


@pytest.mark.parametrize("env_class", ENVS)
def test_rewards_are_the_roles_reconciliation_rewards(env_class) -> None:
    sc = load_scenario("default")
    venv = env_class(sc, n_envs=2, seed=3)
    venv.reset()
    rng = np.random.default_rng(0)
    for _ in range(20):
        actions = rng.integers(venv.action_space.n, size=2)
        before = venv.twin.state.copy()
        _, rewards, _, _ = venv.step(actions)
        # replay the day on a copy of the twin with the same decisions
        twin = type(venv.twin)(sc, batch_size=2)
        twin.state = before
        controller = env_class.controller(lambda obs, masks, state, a=actions: a, None, None, None)
        controller.reset(sc, 2)
        report = reconcile(twin.step(*controller.decide(twin.view())), sc)
        expected = reward(env_class.role_report(report), env_class.default_weights(sc))
        np.testing.assert_allclose(rewards, expected.astype(np.float32))


def test_reward_weights_replace_the_scenario_weights() -> None:
    sc = load_scenario("default")
    weights = dataclasses.replace(sc.warehouse_reward, ordering_cost=1.0)
    plain, priced = (
        WarehouseVecEnv(sc, n_envs=2, seed=0, reward_weights=w) for w in (None, weights)
    )
    plain.reset(), priced.reset()
    order = np.full(2, 3)  # order 1500 units: pays the fixed ordering cost
    _, r_plain, _, _ = plain.step(order)
    _, r_priced, _, _ = priced.step(order)
    np.testing.assert_allclose(r_plain - r_priced, sc.costs.ordering_cost)


def test_warehouse_masks_forbid_overflowing_orders_and_reach_maskable_ppo() -> None:
    sc = tight_warehouse()
    venv = WarehouseVecEnv(sc, n_envs=3, seed=0)
    venv.reset()
    assert is_masking_supported(VecMonitor(venv))
    masks = get_action_masks(VecMonitor(venv))
    assert masks.shape == (3, 4)
    room = sc.warehouse.capacity - venv.twin.state.warehouse_position.sum(axis=1)  # (B, K=1)
    quantities = np.array(sc.warehouse.order_quantities)
    np.testing.assert_array_equal(masks, (quantities[None] <= room[:, None]) | (quantities == 0))
    assert masks[:, 0].all() and not masks.all()  # ordering nothing is always feasible


def test_supplier_masks_allow_everything() -> None:
    venv = SupplierVecEnv("default", n_envs=2, seed=0)
    venv.reset()
    assert venv.action_masks().all() and venv.action_masks().shape == (2, SupplierRole.n_actions)


@pytest.mark.parametrize("env_class", ENVS)
def test_seed_fixes_the_episodes(env_class) -> None:
    a = _rollout(env_class("high_variability", n_envs=2, seed=5), 60)
    b = _rollout(env_class("high_variability", n_envs=2, seed=5), 60)
    c = _rollout(env_class("high_variability", n_envs=2, seed=6), 60)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], c[0])  # the supplier sees other warehouse orders
    reseeded = env_class("high_variability", n_envs=2, seed=99)
    reseeded.seed(5)  # as SB3 models do
    np.testing.assert_array_equal(_rollout(reseeded, 60)[0], a[0])


def test_other_roles_follow_the_policies_given() -> None:
    """Stores by a model that never orders: the warehouse is never asked for anything;
    a supplier that always delays: no supplier shipment arrives on time."""
    sc = load_scenario("default")
    venv = WarehouseVecEnv(sc, n_envs=2, seed=0, stores=ModelStores(ConstantModel(0)))
    venv.reset()
    for _ in range(10):
        venv.step(np.zeros(2, dtype=int))
        assert venv.twin.state.store_pipeline.sum() == 0
    delayed = SupplierVecEnv(sc, n_envs=2, seed=0, warehouse=WarehouseAgent(sc))
    delayed.reset()
    rewards = [delayed.step(np.full(2, 2))[1] for _ in range(40)]
    assert min(np.min(r) for r in rewards) == 0.0  # a delayed order: on-time fill rate 0


def test_bad_actions_and_order_of_calls() -> None:
    venv = WarehouseVecEnv("default", n_envs=2, seed=0)
    venv.reset()
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        venv.step(np.array([0, 4]))
    with pytest.raises(RuntimeError, match="step_async"):
        venv.step_wait()


def test_warehouse_of_several_skus_acts_per_sku_and_learns() -> None:
    venv = WarehouseVecEnv("multi_sku", n_envs=2, seed=0)
    k = venv.scenario.n_skus
    assert venv.action_space == spaces.MultiDiscrete([4] * k)
    assert venv.reset().shape == (2, 6 * k) and venv.action_masks().shape == (2, 4 * k)
    with pytest.raises(ValueError, match="one per copy, per SKU"):
        venv.step(np.zeros(2, dtype=np.int64))
    with pytest.raises(ValueError, match="whole numbers"):
        venv.step(np.full((2, k), 0.5))
    MaskablePPO("MlpPolicy", venv, n_steps=16, batch_size=32, device="cpu", seed=0).learn(64)
