"""The clairvoyant bound on chains with supplier outages and hidden demand regimes.

The bound knows the supplier's down days in advance, like its late days: it never orders
from a supplier that is down, its plan replays in the twin to the cost it reports, and no
rule beats it on the same episode.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hmarl_bench.baselines import make_baseline
from hmarl_bench.config import DemandRegimes, Scenario, SupplierDisruption, load_scenario
from hmarl_bench.evaluation import evaluate
from hmarl_bench.harness.clairvoyant import clairvoyant_bound
from hmarl_bench.twin import DigitalTwin, TwinState


class _Plan:
    """Replays a fixed plan: store orders (T, S), warehouse orders (T,), supplier fulfils."""

    def __init__(self, store_orders: np.ndarray, warehouse_orders: np.ndarray) -> None:
        self.store_orders, self.warehouse_orders = store_orders, warehouse_orders

    def reset(self, twin: DigitalTwin) -> None:
        pass

    def decide(self, state: TwinState) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        day = state.day
        return (
            self.store_orders[day][None, :],
            self.warehouse_orders[day : day + 1],
            np.zeros(1, dtype=np.int64),
        )


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
