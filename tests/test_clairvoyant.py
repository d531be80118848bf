"""The clairvoyant bound: an exact relaxation of every twin trajectory, whose plan replays.

A trajectory's orders, shipments and sales are a feasible plan of the model at no lower
cost, so no rule beats the bound on the same episode (shipping into the last lead-time days
included); the bound's plan replays in the twin to the cost it reports. On chains with
supplier outages and hidden demand regimes the bound knows the supplier's down days in
advance, like its late days, and never orders from a supplier that is down.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hmarl_bench import load_scenario
from hmarl_bench.baselines import SeedSSFree, make_baseline
from hmarl_bench.baselines.chain_milp import build_chain_model
from hmarl_bench.config import DemandRegimes, Scenario, SupplierDisruption
from hmarl_bench.evaluation import evaluate
from hmarl_bench.harness import clairvoyant
from hmarl_bench.harness.clairvoyant import clairvoyant_bound
from hmarl_bench.twin import DigitalTwin


def _short(days: int = 24, warmup: int = 3, **demand) -> object:
    """The default chain over a short episode, with a large leftover at the warehouse."""
    sc = load_scenario("default")
    return dataclasses.replace(
        sc,
        name=f"short{days}",
        episode_days=days,
        warmup_days=warmup,
        demand=dataclasses.replace(sc.demand, **demand),
    )


class _Plan:
    """Replays fixed daily orders (T, S) and (T,) in one copy, the supplier fulfilling."""

    def __init__(self, store_orders: np.ndarray, warehouse_orders: np.ndarray) -> None:
        self.store_orders, self.warehouse_orders = store_orders, warehouse_orders

    def reset(self, scenario, batch_size: int) -> None:
        assert batch_size == 1

    def decide(self, view):
        day = view.day
        return (
            self.store_orders[day][None, :],
            np.array([self.warehouse_orders[day]]),
            np.zeros(1, dtype=np.int64),
        )


class ShipAtTheEnd(SeedSSFree):
    """The free (s, S) chain, plus: in the last lead-time days every store orders all the
    room it has, so the warehouse's leftover leaves its shelf (in transit costs nothing)."""

    def store_orders(self, view):
        orders = super().store_orders(view)
        if view.days_left <= self.scenario.warehouse.lead_time:
            room = self.store_role.room(view.store_position)
            orders = np.maximum(orders, room.astype(np.int64))
        return orders


@pytest.mark.parametrize("name", ["default", "supplier_delay"])
def test_the_plan_replays_in_the_twin_to_its_cost(name: str) -> None:
    sc = dataclasses.replace(load_scenario(name), episode_days=40)
    result = clairvoyant_bound(sc, 5)
    assert result.status == "optimal" and result.plan_is_integral
    replay = _Plan(result.store_orders, result.warehouse_orders)
    cost = evaluate(sc, replay, seeds=[5])["total_cost"].iloc[0]
    assert cost == pytest.approx(result.plan_cost, abs=1e-6)
    assert result.total_cost <= cost + 1e-6


def test_shipping_in_the_last_days_is_in_the_bound() -> None:
    """A twin trajectory that ships into the last lead-time days never beats the bound,
    although it beats the model that forbids such shipments (the bound before it was
    aligned with the twin)."""
    sc = _short()
    seed = 2
    bound = clairvoyant_bound(sc, seed)
    shipping = evaluate(sc, ShipAtTheEnd(), seeds=[seed], keep_reports=True)
    last = shipping.attrs["reports"][-1]
    assert last.stores.ordered.sum() > 0  # it does ship in the last days
    assert bound.total_cost <= shipping["total_cost"].iloc[0] + 1e-6
    # the bound's own plan ships at the end too, and replays to its cost
    assert bound.store_orders[-sc.warehouse.lead_time :].sum() > 0
    replay = _Plan(bound.store_orders, bound.warehouse_orders)
    assert evaluate(sc, replay, seeds=[seed])["total_cost"].iloc[0] == pytest.approx(
        bound.plan_cost, abs=1e-6
    )
    assert _without_end_shipping(sc, seed) > bound.plan_cost + 1.0


def _without_end_shipping(sc, seed: int) -> float:
    """The optimum when store orders that land after the end are forbidden."""
    captured = {}
    original = clairvoyant.build_chain_model

    def build(problem):
        captured["problem"] = problem
        return original(problem)

    clairvoyant.build_chain_model = build
    try:
        clairvoyant_bound(sc, seed)
    finally:
        clairvoyant.build_chain_model = original
    problem = dataclasses.replace(captured["problem"], ship_beyond_window=False)
    return float(build_chain_model(problem).solve(60.0, 1e-9).fun)


@pytest.mark.parametrize("seed", [0, 1])
def test_no_rule_beats_the_bound(seed: int) -> None:
    sc = _short(days=30)
    bound = clairvoyant_bound(sc, seed)
    for baseline in ("seed_ss_free", "tuned_ss_free", "order_up_to_actions", "echelon_free"):
        cost = evaluate(sc, make_baseline(baseline, sc, (7, 8)), seeds=[seed])["total_cost"]
        assert bound.total_cost <= cost.iloc[0] + 1e-6, baseline


def _outage_chain() -> Scenario:
    """A lean two-store chain of 40 days whose supplier is down a third of the time."""
    base = load_scenario("default")
    return dataclasses.replace(
        base,
        name="outage_chain",
        episode_days=40,
        stores=tuple(dataclasses.replace(s, initial_inventory=150) for s in base.stores),
        warehouse=dataclasses.replace(base.warehouse, initial_inventory=900),
        supplier=dataclasses.replace(
            base.supplier, lead_time=3, disruption=SupplierDisruption(8.0, 4.0)
        ),
        demand=dataclasses.replace(base.demand, regimes=DemandRegimes((0.6, 1.4), (10.0, 10.0))),
    )


@pytest.mark.parametrize("seed", [3, 4])
def test_the_bound_orders_nothing_from_a_down_supplier_and_replays(seed: int) -> None:
    sc = _outage_chain()
    up = DigitalTwin(sc, 1).reset([seed]).supplier_up[0]
    assert 0 < up.sum() < up.size  # the episode has outages
    result = clairvoyant_bound(sc, seed, time_limit=60.0)
    assert result.status == "optimal"
    assert not result.warehouse_orders[~up].any()
    assert result.warehouse_orders[up].any()
    assert result.plan_is_integral
    kpis = evaluate(sc, _Plan(result.store_orders, result.warehouse_orders), [seed])
    assert kpis["total_cost"].iloc[0] == pytest.approx(result.plan_cost, abs=1e-6)
    assert result.total_cost <= result.plan_cost + 1e-6
    rule = evaluate(sc, make_baseline("seed_ss_free", sc, [1]), [seed])
    assert result.total_cost <= rule["total_cost"].iloc[0]
