"""What a store sees and orders on a day depends on past demand only.

The twin draws a whole episode's demand at reset, so this is a real risk: a phase run in the
wrong order (learning before ordering) would leak today's demand into today's forecast,
orders and observations. Each test changes the demand of one day (and later days) and
checks that nothing decided on that day changes, while the next day's forecast does.
"""

from __future__ import annotations

import numpy as np
import pytest

from hmarl_bench.agents.roles import StoreRole, WarehouseRole
from hmarl_bench.twin import DigitalTwin, TwinState

DAY = 20


def _run_to(day: int, scenario: str) -> tuple[DigitalTwin, StoreRole, WarehouseRole]:
    twin = DigitalTwin(scenario, batch_size=3)
    twin.reset(seed=7)
    stores, warehouse = StoreRole(twin.scenario), WarehouseRole(twin.scenario)
    for _ in range(day):
        _step_by_rules(twin, stores, warehouse)
    return twin, stores, warehouse


def _step_by_rules(twin: DigitalTwin, stores: StoreRole, warehouse: WarehouseRole):
    state = twin.state
    orders = stores.order_quantities(stores.rule_actions(state), state)
    wh_order = warehouse.order_quantities(warehouse.rule_actions(state), state)
    return twin.step(orders, wh_order, np.zeros(state.batch_size, dtype=np.int64))


def _with_future_demand(twin: DigitalTwin, value: int) -> TwinState:
    state = twin.state.copy()
    state.demand[:, DAY:, :] = value
    return state


@pytest.mark.parametrize("scenario", ["default", "three_stores", "high_variability"])
def test_todays_decisions_ignore_todays_demand(scenario: str) -> None:
    twin, stores, warehouse = _run_to(DAY, scenario)
    original = twin.state.copy()
    observations, masks, actions = [], [], []
    for value in (0, 10_000):
        twin.state = _with_future_demand(twin, value)
        observations.append(stores.observe(twin.state))
        masks.append(stores.action_masks(twin.state))
        actions.append(stores.rule_actions(twin.state))
        observations.append(warehouse.observe(twin.state))
    np.testing.assert_array_equal(observations[0], observations[2])
    np.testing.assert_array_equal(observations[1], observations[3])
    np.testing.assert_array_equal(masks[0], masks[1])
    np.testing.assert_array_equal(actions[0], actions[1])
    # ... and the demand drawn at reset really was different today
    assert not np.array_equal(original.demand[:, DAY], twin.state.demand[:, DAY])


@pytest.mark.parametrize("scenario", ["default", "supplier_delay"])
def test_the_days_orders_use_yesterdays_forecast(scenario: str) -> None:
    outcomes, forecasts = [], []
    for value in (0, 10_000):
        twin, stores, warehouse = _run_to(DAY, scenario)
        twin.state = _with_future_demand(twin, value)
        before = twin.state.forecast.copy()
        outcomes.append(_step_by_rules(twin, stores, warehouse))
        np.testing.assert_array_equal(outcomes[-1].forecast, before)
        forecasts.append(twin.state.forecast.copy())
    np.testing.assert_array_equal(outcomes[0].store_requested, outcomes[1].store_requested)
    np.testing.assert_array_equal(outcomes[0].warehouse_ordered, outcomes[1].warehouse_ordered)
    # the evening's learning does see the day's demand: tomorrow's forecast moves with it
    assert (forecasts[1] > forecasts[0]).all()
