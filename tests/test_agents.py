"""Agents and roles: spaces, observations, masks and the rule-based (s, S) policies."""

from __future__ import annotations

import numpy as np
import pytest

from hmarl_bench import DigitalTwin, load_scenario
from hmarl_bench.agents import (
    StoreAgent,
    StoreRole,
    SupplierAgent,
    SupplierRole,
    WarehouseAgent,
    WarehouseRole,
    make_agents,
)
from hmarl_bench.twin import TwinState

SCENARIO = load_scenario("default")  # stores (s, S) = (300, 800) / (250, 700), caps 2000 / 1500


@pytest.fixture
def state() -> TwinState:
    state = DigitalTwin(SCENARIO).reset(0)
    state.forecast[:] = [[100.0, 40.0]]  # orders: 0/50/100/150 and 0/20/40/60
    return state


def test_make_agents_ids_types_and_spaces() -> None:
    agents = make_agents(load_scenario("three_stores"))
    assert list(agents) == ["store_1", "store_2", "store_3", "warehouse_1", "supplier_1"]
    assert isinstance(agents["store_3"], StoreAgent) and agents["store_3"].index == (2,)
    assert isinstance(agents["warehouse_1"], WarehouseAgent)
    assert isinstance(agents["supplier_1"], SupplierAgent)
    dims = {"store_1": (7, 4), "warehouse_1": (6, 4), "supplier_1": (3, 3)}
    for agent_id, (obs_dim, n) in dims.items():
        agent = agents[agent_id]
        assert agent.get_observation_space().shape == (obs_dim,)
        assert agent.get_action_space().n == n
        assert len(agent.role.obs_names) == obs_dim and len(agent.role.action_names) == n


def test_rule_agents_need_the_state(state: TwinState) -> None:
    agent = make_agents(SCENARIO)["store_2"]
    with pytest.raises(ValueError, match="store_2"):
        agent.act(agent.observe(state))
    assert agent.act(agent.observe(state), agent.action_mask(state), state) == agent.rule_action(
        state
    )


def test_store_observation_entries(state: TwinState) -> None:
    state.store_on_hand[:] = [[500, 3000]]  # the second is above capacity: clipped to 1
    state.store_pipeline[0, 0, 1] = 100
    state.stockout_yesterday[:] = [[True, False]]
    state.recent_service[:] = [[0.25, 1.0]]
    role = StoreRole(SCENARIO)
    obs = role.observe(state)
    assert obs.shape == (1, 2, 7) and obs.dtype == np.float32
    scale = role.demand_scale
    expected_0 = [
        500 / 2000,
        100 / scale[0],
        np.sqrt(state.forecast_var[0, 0]) / scale[0],
        (500 + 100) / 100 / 30,
        1.0,
        5000 / 15000,
        0.25,
    ]
    np.testing.assert_allclose(obs[0, 0], expected_0, rtol=1e-6)
    assert obs[0, 1, 0] == 1.0  # clipped
    assert obs[0, 1, 4] == 0.0


def test_store_masks_follow_the_room_left(state: TwinState) -> None:
    state.store_on_hand[:] = [[1900, 1460]]  # room 100 and 40
    masks = StoreRole(SCENARIO).action_masks(state)
    assert masks[0].tolist() == [[True, True, True, False], [True, True, True, False]]
    state.store_on_hand[:] = [[2000, 1500]]  # full: only "order nothing"
    assert StoreRole(SCENARIO).action_masks(state)[0].tolist() == [[True, False, False, False]] * 2


@pytest.mark.parametrize(
    ("on_hand", "expected"),
    [
        # at or below s: the action whose quantity is closest to S - position
        ((300, 250), [3, 3]),  # targets 500 / 450 -> 150 and 60, the largest
        ((760, 690), [0, 0]),  # above s: no order
        ((301, 251), [0, 0]),
        ((0, 0), [3, 3]),
    ],
)
def test_store_rule_is_s_big_s(state: TwinState, on_hand, expected) -> None:
    state.store_on_hand[:] = [on_hand]
    assert StoreRole(SCENARIO).rule_actions(state)[0].tolist() == expected


def test_store_rule_picks_the_closest_quantity(state: TwinState) -> None:
    sc = SCENARIO
    role = StoreRole(sc)
    state.forecast[:] = [[1000.0, 1000.0]]  # 0 / 500 / 1000 / 1500
    state.store_on_hand[:] = [[300, 250]]  # targets 500 and 450 -> 0.5x for both
    assert role.rule_actions(state)[0].tolist() == [1, 1]
    assert role.order_quantities(np.array([[1, 2]]), state).tolist() == [[500, 1000]]


def test_warehouse_rule_masks_and_observation(state: TwinState) -> None:
    role = WarehouseRole(SCENARIO)
    assert role.rule_actions(state).tolist() == [0]  # 5000 > s = 2000
    state.warehouse_on_hand[:] = 2000  # target 4000: closest of 0/500/1000/1500 is 1500
    assert role.rule_actions(state).tolist() == [3]
    state.warehouse_on_hand[:] = 1000
    state.warehouse_pipeline[0, 0, 3] = 4300  # position 5300 > s: nothing
    assert role.rule_actions(state).tolist() == [0]
    state.warehouse_pipeline[0, 0, 3] = 13_800  # room 200: only action 0 is feasible
    assert role.action_masks(state).tolist() == [[True, False, False, False]]
    obs = role.observe(state)
    assert obs.shape == (1, 6)
    np.testing.assert_allclose(obs[0, 1:3], [1000 / 15000, 13_800 / 15000], rtol=1e-6)
    assert role.order_quantities(np.array([2])).tolist() == [1000]


def test_supplier_rule_always_fulfils(state: TwinState) -> None:
    role = SupplierRole(SCENARIO)
    assert role.rule_actions(state).tolist() == [0]
    assert role.action_masks(state).tolist() == [[True, True, True]]
    state.days_to_delivery[:] = 13  # the longest lead: 7 + 2 x 3
    state.warehouse_last_order[:] = 20_000  # above capacity: clipped
    np.testing.assert_allclose(role.observe(state)[0], [1.0, 0.0, 1.0])
