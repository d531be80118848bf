"""The planner interface track: bounds, non-anticipation, masks, horizon, and every env."""

from __future__ import annotations

import numpy as np
import pytest

from hmarl_bench import HMARLEnvironment, SharedPolicyVecEnv, SingleAgentWrapper, load_scenario
from hmarl_bench.agents.interfaces import ChainState, make_roles
from hmarl_bench.agents.planner import (
    STORE_COVER_DAYS,
    WAREHOUSE_COVER_DAYS,
    PlannerStoreRole,
    PlannerWarehouseRole,
    pipeline_by_arrival,
)
from hmarl_bench.envs.upper_vec import SupplierVecEnv, WarehouseVecEnv
from hmarl_bench.twin import DigitalTwin

SCENARIOS = ["default", "three_stores", "demand_spike", "supplier_delay", "multi_sku"]


def _run(scenario: str, seed: int, demand_edit=None, copies: int = 3):
    """One episode of planner rules; the observations of every role at every day."""
    sc = load_scenario(scenario)
    twin = DigitalTwin(sc, copies)
    state = twin.reset(seed)
    if demand_edit is not None:
        demand_edit(state)
    stores, warehouse, supplier = make_roles(sc, "planner")
    chain = ChainState(sc)
    seen = []
    while not twin.done:
        seen.append(
            [stores.observe(state), warehouse.observe(state), supplier.observe(state),
             chain.observe(state)]
        )  # fmt: skip
        twin.step(
            stores.order_quantities(stores.rule_actions(state), state),
            warehouse.order_quantities(warehouse.rule_actions(state), state),
            supplier.rule_actions(state),
        )
    return sc, seen


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_observations_within_their_documented_bounds(scenario):
    sc, seen = _run(scenario, seed=3)
    stores, warehouse, supplier = make_roles(sc, "planner")
    spaces_ = [stores.observation_space, warehouse.observation_space, supplier.observation_space]
    for day in seen:
        for obs, space in zip(day[:3], spaces_, strict=True):
            assert obs.dtype == np.float32
            assert obs.shape[-1] == space.shape[0]
            assert obs.min() >= 0.0 and obs.max() <= 1.0
        assert day[3].shape[-1] == ChainState(sc).dim
        assert day[3].min() >= 0.0 and day[3].max() <= 1.0
    assert len(stores.obs_names) == stores.obs_dim
    assert len(warehouse.obs_names) == warehouse.obs_dim


@pytest.mark.parametrize("scenario", ["default", "multi_sku", "supplier_delay"])
@pytest.mark.parametrize("cut", [5, 40])
def test_observations_use_no_future_demand(scenario, cut):
    """Demand after day ``cut`` changed: every observation up to day ``cut`` is the same."""

    def edit(state):
        state.demand[:, cut + 1 :] = state.demand[:, cut + 1 :] * 3 + 7
        state.supplier_late[:, cut + 1 :] = ~state.supplier_late[:, cut + 1 :]

    _, plain = _run(scenario, seed=11)
    _, edited = _run(scenario, seed=11, demand_edit=edit)
    for day in range(cut + 1):
        for a, b in zip(plain[day], edited[day], strict=True):
            np.testing.assert_array_equal(a, b)
    assert any(
        not np.array_equal(a, b) for a, b in zip(plain[cut + 2], edited[cut + 2], strict=True)
    )


def test_pipeline_by_arrival_orders_the_ring_buffer():
    pipeline = np.arange(5)[None, None, :]  # slot d % 5 arrives on day d
    np.testing.assert_array_equal(pipeline_by_arrival(pipeline, 7)[0, 0], [2, 3, 4, 0, 1])


def test_store_levels_orders_and_masks():
    sc = load_scenario("default")
    twin = DigitalTwin(sc, 2)
    state = twin.reset(0)
    role = PlannerStoreRole(sc)
    position = state.store_position
    actions = np.array([[0, 5], [len(STORE_COVER_DAYS) - 1, 3]])
    expected = np.maximum(np.rint(STORE_COVER_DAYS[actions] * state.forecast - position), 0)
    np.testing.assert_array_equal(role.order_quantities(actions, state), expected)
    masks = role.action_masks(state)
    assert masks[..., 0].all()  # cover 0 orders nothing: always feasible
    room = role.room(position)
    options = np.maximum(np.rint(role.levels(state) - position[..., None]), 0)
    np.testing.assert_array_equal(masks, (options <= room[..., None]) | (options == 0))


def test_warehouse_echelon_levels():
    sc = load_scenario("default")
    twin = DigitalTwin(sc, 2)
    state = twin.reset(0)
    role = PlannerWarehouseRole(sc)
    echelon = role.echelon_position(state)
    expected_position = (
        state.warehouse_on_hand + state.warehouse_pipeline.sum(-1)
        + (state.store_on_hand + state.store_pipeline.sum(-1)).sum(1, keepdims=True)
    )  # fmt: skip
    np.testing.assert_array_equal(echelon, expected_position)
    chain = role.chain_profile[:, 0]
    action = int(np.flatnonzero(WAREHOUSE_COVER_DAYS == 12)[0])
    level = chain[:12].sum()
    units = role.order_quantities(np.array([action, action]), state)
    np.testing.assert_array_equal(units, np.maximum(np.rint(level - echelon[:, 0]), 0))


@pytest.mark.parametrize("horizon_mask", [True, False])
def test_horizon_mask(horizon_mask):
    sc = load_scenario("default")
    twin = DigitalTwin(sc, 2)
    state = twin.reset(0)
    stores, warehouse, _ = make_roles(sc, "planner", horizon_mask)
    big_store = np.full((2, sc.n_slots), len(STORE_COVER_DAYS) - 1)
    big_warehouse = np.full(2, len(WAREHOUSE_COVER_DAYS) - 1)
    last_warehouse_day = sc.episode_days - sc.supplier.lead_time - sc.warehouse.lead_time
    state.store_on_hand[:] = 0
    state.warehouse_on_hand[:] = 0
    for day, store_open, warehouse_open in [
        (last_warehouse_day - 1, True, True),
        (last_warehouse_day, True, not horizon_mask),
        (sc.episode_days - sc.warehouse.lead_time, not horizon_mask, not horizon_mask),
    ]:
        state.day = day
        assert (stores.order_quantities(big_store, state) > 0).all() == store_open
        assert stores.action_masks(state)[..., -1].all() == store_open
        assert (warehouse.order_quantities(big_warehouse, state) > 0).all() == warehouse_open
        assert warehouse.action_masks(state)[..., -1].all() == warehouse_open
        assert stores.action_masks(state)[..., 0].all()
        assert warehouse.action_masks(state)[:, 0].all()


def test_every_env_offers_the_planner_track():
    env = HMARLEnvironment("default", interface="planner")
    assert not env.compiled and env._fused is None  # the numpy path runs this track
    obs, infos = env.reset(seed=1)
    assert obs["store_1"].shape == env.observation_space("store_1").shape
    assert env.action_space("warehouse_1").n == len(WAREHOUSE_COVER_DAYS)
    while env.agents:
        obs, rewards, _, _, infos = env.step(env.rule_actions())
        for agent, o in obs.items():
            assert env.observation_space(agent).contains(o)
    single = SingleAgentWrapper("default", agent="warehouse_1", interface="planner")
    o, _ = single.reset(seed=0)
    assert single.observation_space.contains(o)
    assert single.action_masks().shape == (len(WAREHOUSE_COVER_DAYS),)
    vec = SharedPolicyVecEnv("default", n_envs=2, seed=0, interface="planner")
    assert vec.reset().shape == (4, PlannerStoreRole(load_scenario("default")).obs_dim)
    for env_class in (WarehouseVecEnv, SupplierVecEnv):
        upper = env_class("default", n_envs=2, seed=0, interface="planner")
        first = upper.reset()
        assert upper.observation_space.contains(first[0])
        _, rewards, _, _ = upper.step(np.zeros(2, dtype=np.int64))
        assert rewards.shape == (2,)


def test_unknown_interface_is_refused():
    with pytest.raises(ValueError, match="unknown interface 'planer'"):
        HMARLEnvironment("default", interface="planer")
    with pytest.raises(ValueError, match="unknown interface"):
        SharedPolicyVecEnv("default", n_envs=1, interface="x")


def test_planner_env_passes_the_pettingzoo_parallel_api_test():
    from pettingzoo.test import parallel_api_test

    parallel_api_test(HMARLEnvironment("default", interface="planner", team_weight=0.5), 95)
