"""Several SKUs and many stores: config forms, shared capacities, per-SKU allocation, the
envs on the new scenarios, and what refuses to run on several SKUs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from pettingzoo.test import parallel_api_test
from stable_baselines3.common.env_checker import check_env

import hmarl_bench
from hmarl_bench import DigitalTwin, HMARLEnvironment, SingleAgentWrapper, load_scenario
from hmarl_bench.agents import StoreRole, WarehouseRole
from hmarl_bench.baselines import BASELINES, MILP_BASELINES, SearchBudget, make_baseline
from hmarl_bench.config import (
    Demand,
    Scenario,
    ScenarioError,
    Sku,
    Store,
    Supplier,
    Warehouse,
    scenario_from_dict,
)
from hmarl_bench.envs.vec import SharedPolicyVecEnv
from hmarl_bench.evaluation import evaluate
from hmarl_bench.harness.clairvoyant import clairvoyant_bound
from hmarl_bench.reconciliation import reconcile
from hmarl_bench.twin.dynamics import cut_to_room

ZERO_DEMAND = Demand(distribution="poisson", base_mean=0.0, seasonality_amplitude=0.0)
TWO_SKUS = (Sku("a", demand_scale=1.0), Sku("b", demand_scale=0.5))


def _chain(**changes) -> Scenario:
    """Two stores selling SKUs a and b, no demand: every unit moved is an order's."""
    base = Scenario(
        episode_days=5,
        warmup_days=0,
        demand=ZERO_DEMAND,
        skus=TWO_SKUS,
        stores=(Store("store_1", 1, 0, 100, 0, 10), Store("store_2", 1, 0, 1000, 0, 10)),
        warehouse=Warehouse(100, 10_000, 0, 100, lead_time=1),
    )
    return dataclasses.replace(base, **changes)


def _step(twin: DigitalTwin, store_orders, warehouse_order=(0, 0), supplier_action=0):
    k = twin.scenario.n_skus
    return twin.step(
        np.array([store_orders]),
        np.array([warehouse_order]).reshape(1, k),
        np.array([supplier_action]),
    )


# --------------------------------------------------------------------------- config


def test_multi_sku_scenario_has_three_skus_sharing_the_default_chain() -> None:
    sc = load_scenario("multi_sku")
    assert [k.name for k in sc.products] == ["fast", "medium", "slow"]
    assert [k.demand_scale for k in sc.products] == [1.0, 0.6, 0.3]
    assert (sc.n_stores, sc.n_skus, sc.n_slots) == (2, 3, 6)
    assert sc.slot_names()[:4] == [
        "store_1_sku_1",
        "store_1_sku_2",
        "store_1_sku_3",
        "store_2_sku_1",
    ]
    assert sc.per_sku(700) == (700, 420, 210)
    assert sc.stores == load_scenario("default").stores  # capacities are shared, not scaled


@pytest.mark.parametrize(("name", "count"), [("stores_100", 100), ("stores_1000", 1000)])
def test_store_pattern_cycles_the_three_stores_profiles(name: str, count: int) -> None:
    sc = load_scenario(name)
    three = load_scenario("three_stores").stores
    assert sc.n_stores == count and sc.n_skus == 1
    assert [s.name for s in sc.stores[:4]] == ["store_1", "store_2", "store_3", "store_4"]
    for i in (0, 1, 2, 3, count - 1):
        assert dataclasses.replace(sc.stores[i], name="x") == dataclasses.replace(
            three[i % 3], name="x"
        )


def test_single_sku_dict_keeps_its_old_form() -> None:
    """New fields at their defaults stay out of to_dict (result fingerprints depend on it)."""
    plain = load_scenario("default").to_dict()
    assert "skus" not in plain and "demand_scale" not in plain["sku"]
    multi = load_scenario("multi_sku").to_dict()
    assert "sku" not in multi and len(multi["skus"]) == 3
    assert scenario_from_dict(multi) == load_scenario("multi_sku")


PATTERN = {"count": 3, "profiles": [{"capacity": 900}, {"capacity": 800}]}


@pytest.mark.parametrize(
    ("data", "key", "message"),
    [
        ({"sku": {}, "skus": [{"name": "a"}]}, "skus", "not both"),
        ({"skus": [{"name": "a"}, {"name": "a"}]}, "skus", "repeat"),
        ({"skus": [{"name": "a", "demand_scale": -1.0}]}, "skus[0].demand_scale", ">= 0"),
        (  # 700 x (1 + 0.6 + 0.6) = 1540 > 1500
            {
                "skus": [{"name": "a"}, {"name": "b", "demand_scale": 0.6}, {"name": "c"}],
                "stores": [{"name": "s", "initial_inventory": 700, "capacity": 1500}],
            },
            "stores[0].initial_inventory",
            "share",
        ),
        (
            {"skus": [{"name": "a"}, {"name": "b"}], "warehouse": {"order_up_to": 8000}},
            "warehouse.order_up_to",
            "share",
        ),
        ({"store_pattern": PATTERN, "stores": [{"name": "s"}]}, "store_pattern", "either"),
        ({"store_pattern": {**PATTERN, "count": 0}}, "store_pattern.count", ">= 1"),
        ({"store_pattern": {"count": 2, "profiles": []}}, "store_pattern.profiles", "non-empty"),
        (
            {"store_pattern": {"count": 2, "profiles": [{"name": "x"}]}},
            "store_pattern.profiles[0].name",
            "generated",
        ),
        (
            {"store_pattern": {"count": 2, "profiles": [{}, {"capacity": "big"}]}},
            "store_pattern.profiles[1].capacity",
            "whole number",
        ),
        ({"store_pattern": {**PATTERN, "size": 3}}, "store_pattern.size", "unknown"),
    ],
)
def test_sku_and_pattern_errors_name_file_and_key(data: dict, key: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message) as info:
        scenario_from_dict(data, source="chain.toml")
    assert info.value.key == key
    assert str(info.value).startswith("chain.toml: ")


def test_a_file_with_both_sku_forms_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "both.toml"
    path.write_text('[sku]\nname = "x"\n[[skus]]\nname = "y"\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match="not both") as info:
        load_scenario(path)
    assert str(path) in str(info.value) and info.value.key == "skus"


def test_one_sku_in_the_list_form_behaves_as_the_single_form() -> None:
    single = load_scenario("default")
    listed = dataclasses.replace(single, skus=(single.sku,))
    outcomes = []
    for sc in (single, listed):
        venv = SharedPolicyVecEnv(sc, n_envs=2, seed=4)
        trace = [venv.reset()]
        for day in range(20):
            venv.step_async(np.full(venv.num_envs, day % 4))
            trace += venv.step_wait()[:2]
        outcomes.append(trace)
    for a, b in zip(*outcomes, strict=True):
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------- twin


def test_demand_of_a_slot_is_scaled_by_its_sku() -> None:
    twin = DigitalTwin("multi_sku")
    mean = twin.mean_demand  # (T, N)
    assert mean.shape == (90, 6)
    np.testing.assert_allclose(mean[:, 1] / mean[:, 0], 0.6)
    np.testing.assert_allclose(mean[:, 5] / mean[:, 3], 0.3)
    np.testing.assert_allclose(mean[:, 0] / mean[:, 3], 1.2)  # store multipliers 1.2 / 1.0
    state = twin.reset(0)
    assert state.store_on_hand.tolist() == [[700, 420, 210, 600, 360, 180]]
    assert state.warehouse_on_hand.tolist() == [[5000, 3000, 1500]]


def test_cut_to_room_is_pro_rata_floored_and_never_above_the_room() -> None:
    orders = np.array([[90, 60, 1, 1, 1, 5]])
    room = np.array([[100, 2, 1000]])  # three groups of two SKUs
    cut = cut_to_room(orders, room, 2)
    # group 0: 150 > 100, so floor(90 x 100 / 150), floor(60 x 100 / 150); group 1: 2 fits;
    # group 2: fits
    assert cut.tolist() == [[60, 40, 1, 1, 1, 5]]
    cut = cut_to_room(np.array([[1, 1, 1]]), np.array([[2]]), 3)
    assert cut.tolist() == [[0, 0, 0]]  # floor(2/3) each: the floor may leave room unused
    negative_room = cut_to_room(np.array([[5, -3]]), np.array([[-10]]), 2)
    assert negative_room.tolist() == [[0, 0]]


def test_store_capacity_is_shared_by_its_skus() -> None:
    twin = DigitalTwin(_chain())
    twin.reset(0)
    out = _step(twin, [90, 60, 30, 10])  # store_1 (capacity 100) wants 150; store_2 fits
    assert out.store_requested.tolist() == [[60, 40, 30, 10]]
    state = twin.state
    _step(twin, [50, 50, 0, 0])  # store_1's position (60 + 40 in transit) fills it
    assert state.store_position[0, :2].sum() <= 100
    assert twin.state.store_position[0, :2].tolist() == [60, 40]
    state.forecast[:] = 50.0  # every order action asks for units; none fits store_1
    masks = StoreRole(twin.scenario).action_masks(state)  # the room the SKUs share
    assert not masks[0, :2, 1:].any() and masks[0, 2:, 1:].all()


def test_warehouse_allocates_each_sku_pro_rata_when_short() -> None:
    sc = _chain(
        stores=(Store("store_1", 1, 0, 5000, 0, 10), Store("store_2", 1, 0, 5000, 0, 10)),
        warehouse=Warehouse(200, 10_000, 0, 300, lead_time=1),  # a: 200, b: 100 on hand
    )
    twin = DigitalTwin(sc)
    twin.reset(0)
    # a: 300 + 100 ordered of 200 -> 150, 50; b: 40 + 50 of 100 -> in full
    out = _step(twin, [300, 40, 100, 50])
    assert out.store_shipped.tolist() == [[150, 40, 50, 50]]
    assert out.warehouse_shipped.tolist() == [[200, 90]]
    assert out.warehouse_requested.tolist() == [[400, 90]]
    assert out.warehouse_end.tolist() == [[0, 10]]


def test_warehouse_and_supplier_capacities_are_shared() -> None:
    sc = _chain(
        warehouse=Warehouse(100, 1000, 0, 300, lead_time=1),  # position 150: room 850
        supplier=Supplier(lead_time=2, capacity=300, reliability=1.0),
    )
    twin = DigitalTwin(sc)
    twin.reset(0)
    out = _step(twin, [0, 0, 0, 0], warehouse_order=[1000, 700])
    # room 850 of 1700 ordered: floor(1000 x 850 / 1700) = 500, floor(700 x 850 / 1700) = 350
    assert out.warehouse_ordered.tolist() == [[500, 350]]
    # the supplier's 300 a day, pro rata: floor(500 x 300 / 850), floor(350 x 300 / 850)
    assert out.supplier_shipped.tolist() == [[176, 123]]
    report = reconcile(out, sc)
    assert report.warehouse.ordered.tolist() == [850]
    assert report.warehouse.ordering_cost.tolist() == [2 * sc.costs.ordering_cost]  # 2 lines
    assert report.supplier.sales.tolist() == [299]


def test_store_observation_reads_its_own_sku() -> None:
    sc = load_scenario("multi_sku")
    twin = DigitalTwin(sc)
    state = twin.reset(0)
    state.warehouse_on_hand[:] = [[1500, 3000, 6000]]
    obs = StoreRole(sc).observe(state)  # (B, N, 7)
    np.testing.assert_allclose(obs[0, :, 5], np.tile([0.1, 0.2, 0.4], 2), rtol=1e-6)
    np.testing.assert_allclose(obs[0, :3, 0], np.array([700, 420, 210]) / 2000, rtol=1e-6)
    wh = WarehouseRole(sc)
    w_obs = wh.observe(state)
    assert w_obs.shape == (1, 18)
    np.testing.assert_allclose(w_obs[0, 1::6], [0.1, 0.2, 0.4], rtol=1e-6)
    assert wh.order_quantities(np.array([[3, 1, 2]])).tolist() == [[1500, 300, 300]]


# --------------------------------------------------------------------------- envs


def test_parallel_env_agents_and_spaces_with_skus() -> None:
    env = HMARLEnvironment("multi_sku")
    assert env.possible_agents[:3] == ["store_1_sku_1", "store_1_sku_2", "store_1_sku_3"]
    assert len(env.possible_agents) == 6 + 2
    assert env.action_space("store_2_sku_3") == spaces.Discrete(4)
    assert env.observation_space("store_2_sku_3").shape == (7,)
    assert env.action_space("warehouse_1") == spaces.MultiDiscrete([4, 4, 4])
    assert env.observation_space("warehouse_1").shape == (18,)
    obs, infos = env.reset(seed=0)
    mask = infos["warehouse_1"]["action_mask"]  # one int8 row per SKU (Gymnasium's form)
    assert len(mask) == 3 and all(row.shape == (4,) and row.dtype == np.int8 for row in mask)
    wrapper = SingleAgentWrapper(env, agent="warehouse_1")
    wrapper.reset(seed=0)
    assert wrapper.action_masks().shape == (12,)  # MaskablePPO's flat form
    assert env.state().shape == env.state_space.shape == (6 * 7 + 18 + 3,)
    actions = env.rule_actions()
    assert actions["warehouse_1"].shape == (3,)
    env.step(actions)
    with pytest.raises(ValueError, match="3 integers"):
        env.step({**env.rule_actions(), "warehouse_1": 1})


@pytest.mark.parametrize("name", ["multi_sku", "stores_100"])
def test_parallel_api_on_the_new_scenarios(name: str) -> None:
    parallel_api_test(HMARLEnvironment(name), num_cycles=30)


@pytest.mark.parametrize(
    ("name", "agent"),
    [
        ("multi_sku", "store_2_sku_3"),
        ("multi_sku", "warehouse_1"),
        ("multi_sku", "supplier_1"),
        ("stores_1000", "store_1000"),
    ],
)
def test_single_agent_wrapper_passes_check_env_with_skus(name: str, agent: str) -> None:
    env = SingleAgentWrapper(HMARLEnvironment(name), agent=agent)
    check_env(env, skip_render_check=True)
    env.reset(seed=1)
    for _ in range(5):
        env.step(env.action_space.sample())


def test_registered_store_env_takes_the_first_slot() -> None:
    env = gym.make("hmarl_bench/Store-v0", scenario="multi_sku")
    assert env.unwrapped.agent == "store_1_sku_1"


@pytest.mark.parametrize(("name", "slots"), [("multi_sku", 6), ("stores_1000", 1000)])
def test_vec_env_has_one_slot_per_store_and_sku(name: str, slots: int) -> None:
    venv = SharedPolicyVecEnv(name, n_envs=3, seed=0)
    assert venv.num_envs == 3 * slots and venv.n_slots == slots
    obs = venv.reset()
    assert obs.shape == (3 * slots, 7)
    venv.step_async(np.random.default_rng(0).integers(0, 4, venv.num_envs))
    obs, rewards, dones, _ = venv.step_wait()
    assert obs.shape == (3 * slots, 7) and rewards.shape == (3 * slots,)
    assert venv.action_masks().shape == (3 * slots, 4)


@pytest.mark.parametrize("name", ["multi_sku", "stores_100", "stores_1000"])
def test_episodes_are_deterministic_and_copies_match_single_runs(name: str) -> None:
    sc = dataclasses.replace(load_scenario(name), episode_days=12)

    def run(seeds: list[int]) -> list[np.ndarray]:
        venv = SharedPolicyVecEnv(sc, fixed_seeds=seeds)
        n = venv.n_slots
        trace = [venv.reset().reshape(len(seeds), n, 7)]
        rng = np.random.default_rng(5)
        actions = rng.integers(0, 4, (sc.episode_days, n))  # the same for every copy
        for day in range(sc.episode_days):
            venv.step_async(np.tile(actions[day], len(seeds)))
            obs, rewards, _, _ = venv.step_wait()
            trace += [obs.reshape(len(seeds), n, 7), rewards.reshape(len(seeds), n)]
        return trace

    both, again, single = run([3, 8]), run([3, 8]), run([8])
    for a, b, c in zip(both, again, single, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a[1], c[0])
    assert not np.array_equal(both[2][0], both[2][1])  # the seeds differ


def test_maskable_ppo_learns_on_multi_sku_slots() -> None:
    from sb3_contrib import MaskablePPO

    venv = SharedPolicyVecEnv("multi_sku", n_envs=2, seed=0)
    model = MaskablePPO("MlpPolicy", venv, n_steps=16, batch_size=32, n_epochs=1, seed=0)
    model.learn(64)
    assert model.num_timesteps >= 64


# --------------------------------------------------------------------------- evaluation


@pytest.mark.parametrize("name", sorted(set(BASELINES) - set(MILP_BASELINES)))
def test_every_baseline_runs_on_several_skus(name: str) -> None:
    budget = SearchBudget(candidate_episodes=60)  # the searched families: a tiny search
    controller = make_baseline(name, "multi_sku", (11,), seed=0, budget=budget)
    frame = evaluate("multi_sku", controller, (0, 1))
    assert np.isfinite(frame.drop(columns="seed").to_numpy()).all()
    assert ((frame["fill_rate"] > 0) & (frame["fill_rate"] <= 1)).all()


@pytest.mark.parametrize("name", MILP_BASELINES)
def test_the_milp_baselines_refuse_several_skus(name: str, tmp_path: Path) -> None:
    from hmarl_bench.harness.spec import BenchmarkError, load_benchmark

    with pytest.raises(ValueError, match="one SKU.*3 SKUs"):  # tuned_mpc_free: while tuning
        evaluate("multi_sku", make_baseline(name, "multi_sku", (11,)), (0,))
    path = tmp_path / "bench.toml"
    path.write_text(
        f'name = "x"\nscenarios = ["multi_sku"]\nbaselines = ["{name}"]\n'
        "tuning_seeds = [3]\nevaluation_seeds = [1]\n[clairvoyant]\nenabled = false\n",
        encoding="utf-8",
    )
    with pytest.raises(BenchmarkError, match="one-SKU MILPs"):
        load_benchmark(path)


def test_clairvoyant_bound_refuses_several_skus() -> None:
    with pytest.raises(ValueError, match="one SKU.*3 SKUs"):
        clairvoyant_bound("multi_sku", 0)


def test_benchmark_with_clairvoyant_refuses_several_skus(tmp_path: Path) -> None:
    from hmarl_bench.harness.spec import BenchmarkError, load_benchmark

    path = tmp_path / "bench.toml"
    path.write_text(
        'name = "x"\nscenarios = ["multi_sku"]\nbaselines = ["seed_ss_actions"]\n'
        "evaluation_seeds = [1]\n[clairvoyant]\nenabled = true\n",
        encoding="utf-8",
    )
    with pytest.raises(BenchmarkError, match="one SKU"):
        load_benchmark(path)
    assert hmarl_bench.list_scenarios().count("multi_sku") == 1


@pytest.mark.parametrize(
    ("name", "first"), [("multi_sku", "store_1_fast"), ("stores_100", "store_1")]
)
def test_episode_traces_keep_a_few_slots(name: str, first: str) -> None:
    from hmarl_bench.harness.traces import TRACE_SLOTS, episode_trace

    sc = dataclasses.replace(load_scenario(name), episode_days=10, warmup_days=2)
    frame = evaluate(sc, seeds=(0,), keep_reports=True)
    trace = episode_trace(frame, sc)
    assert list(trace["stores"])[0] == first
    assert len(trace["stores"]) == min(TRACE_SLOTS, sc.n_slots)
    assert len(trace["warehouse"]["on_hand"]) == 10
