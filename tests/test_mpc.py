"""The rolling-horizon MILP: non-anticipative, and clairvoyant when demand is certain."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hmarl_bench import DigitalTwin, load_scenario
from hmarl_bench.baselines import RollingHorizonMILP
from hmarl_bench.evaluation import evaluate
from hmarl_bench.harness.clairvoyant import clairvoyant_bound


def _short(days: int = 24) -> object:
    sc = load_scenario("default")
    return dataclasses.replace(sc, name=f"short{days}", episode_days=days, warmup_days=2)


def _orders(controller, twin: DigitalTwin) -> list[tuple[np.ndarray, np.ndarray]]:
    """Run an episode on an already reset twin; each day's (store, warehouse) orders."""
    controller.reset(twin.scenario, twin.batch_size)
    out = []
    while not twin.done:
        stores, warehouse, supplier = controller.decide(twin.view())
        out.append((stores.copy(), warehouse.copy()))
        twin.step(stores, warehouse, supplier)
    return out


@pytest.mark.parametrize("change_from", [9])
def test_orders_up_to_a_day_ignore_the_demand_after_it(change_from: int) -> None:
    sc = _short()
    plain = DigitalTwin(sc, batch_size=2)
    plain.reset([3, 4])
    changed = DigitalTwin(sc, batch_size=2)
    state = changed.reset([3, 4])
    state.demand[:, change_from:] = state.demand[:, change_from:] * 3 + 7  # another future
    state.supplier_late[:, change_from:] = ~state.supplier_late[:, change_from:]
    before = _orders(RollingHorizonMILP(horizon=10), plain)
    after = _orders(RollingHorizonMILP(horizon=10), changed)
    for day in range(change_from + 1):  # decided before any changed day was seen
        np.testing.assert_array_equal(before[day][0], after[day][0])
        np.testing.assert_array_equal(before[day][1], after[day][1])
    assert any(
        not np.array_equal(before[day][0], after[day][0]) for day in range(change_from + 1, 24)
    )


def test_with_certain_demand_it_reaches_the_clairvoyant_optimum() -> None:
    """Deterministic demand (std 0, no seasonality, a reliable supplier), no safety stock,
    a window as long as the episode: each day's plan is the rest of the optimal plan, so
    the controller's cost is the clairvoyant bound."""
    sc = _short(days=26)
    sc = dataclasses.replace(
        sc,
        demand=dataclasses.replace(sc.demand, std=0.0, seasonality_amplitude=0.0),
        supplier=dataclasses.replace(sc.supplier, reliability=1.0),
        warehouse=dataclasses.replace(sc.warehouse, initial_inventory=900),
    )
    state = DigitalTwin(sc, 1).reset([0])
    assert np.array_equal(state.demand[0], np.tile([60, 50], (26, 1)))  # certain
    bound = clairvoyant_bound(sc, 0, mip_rel_gap=1e-9)
    assert bound.warehouse_orders.sum() > 0  # the supplier must ship: a real plan
    controller = RollingHorizonMILP(
        horizon=sc.episode_days, store_safety=0.0, warehouse_safety=0.0, mip_rel_gap=1e-9
    )
    cost = evaluate(sc, controller, [0])["total_cost"].iloc[0]
    assert cost == pytest.approx(bound.total_cost, abs=1e-6)
    assert cost == pytest.approx(bound.plan_cost, abs=1e-6)


def test_it_records_its_solve_times_and_takes_safety_per_copy() -> None:
    sc = _short(days=12)
    controller = RollingHorizonMILP(horizon=8, store_safety=[0.0, 3.0], warehouse_safety=0.0)
    frame = evaluate(sc, controller, [5, 5])  # the same episode, two safety factors
    stats = controller.solve_stats()
    assert stats["solves"] == 2 * 12 and len(controller.solve_seconds) == 12
    assert 0 < stats["mean_solve_seconds"] <= stats["max_solve_seconds"]
    for copy, factor in enumerate((0.0, 3.0)):  # each copy as if run alone with its factor
        alone = RollingHorizonMILP(horizon=8, store_safety=factor, warehouse_safety=0.0)
        expected = evaluate(sc, alone, [5])
        assert frame["total_cost"].iloc[copy] == expected["total_cost"].iloc[0]
    assert frame["total_cost"].iloc[0] != frame["total_cost"].iloc[1]


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="horizon must be >= 1"):
        RollingHorizonMILP(horizon=0)
    with pytest.raises(ValueError, match="store_safety: expected shape"):
        evaluate(_short(days=5), RollingHorizonMILP(store_safety=[1.0, 2.0, 3.0]), [0, 1])
