"""Reconciliation terms, rewards and system cost on small hand-computed days."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hmarl_bench.agents import make_agents
from hmarl_bench.config import Costs, RewardWeights, Scenario, Supplier
from hmarl_bench.reconciliation import ROLE_TERMS, RoleReport, reconcile, reward, system_cost
from hmarl_bench.twin import DayOutcome

# Three stores, one copy. Costs: holding 0.5 (stores), 0.25 (warehouse), ordering 25,
# stock-out penalty 10, excess above 2 days of forecast; supplier lead time 3 days.
SCENARIO = Scenario(
    costs=Costs(
        holding_cost=0.5,
        warehouse_holding_cost=0.25,
        stockout_penalty=10.0,
        ordering_cost=25.0,
        excess_cover_days=2.0,
    ),
    supplier=Supplier(lead_time=3),
)


def _row(*values: float) -> np.ndarray:
    return np.array([values])


def _outcome(**changes) -> DayOutcome:
    """One SKU, so warehouse values are (B, K) = (1, 1).

    store_1 sells all 10 and keeps 30; store_2 loses 3 of 8 and orders 12 (gets 9);
    store_3 has no demand. The warehouse ships 9 of 12, ends with 200 and orders 500, of
    which the supplier ships 400 on time."""
    fields = dict(
        day=4,
        store_start=_row(40, 5, 0),
        store_received=_row(0, 0, 0),
        demand=_row(10, 8, 0),
        sales=_row(10, 5, 0),
        lost_sales=_row(0, 3, 0),
        store_requested=_row(0, 12, 0),
        store_shipped=_row(0, 9, 0),
        store_end=_row(30, 0, 0),
        store_pipeline_end=_row(0, 9, 0),
        forecast=_row(10.0, 4.0, 6.0),  # sums to 20
        warehouse_start=np.array([[209]]),
        warehouse_received=np.array([[0]]),
        warehouse_shipped=np.array([[9]]),
        warehouse_requested=np.array([[12]]),
        warehouse_ordered=np.array([[500]]),
        supplier_shipped=np.array([[400]]),
        supplier_on_time=np.array([[400]]),
        warehouse_end=np.array([[200]]),
        warehouse_pipeline_end=np.array([[400]]),
    )
    fields.update(changes)
    return DayOutcome(**fields)


def test_store_terms() -> None:
    stores = reconcile(_outcome(), SCENARIO).stores
    # fill rate; a store with zero demand has service level 1
    np.testing.assert_allclose(stores.service_level, [[1.0, 5 / 8, 1.0]])
    np.testing.assert_array_equal(stores.lost_sales, [[0, 3, 0]])
    np.testing.assert_array_equal(stores.stockout, [[0, 3, 0]])  # lost units
    np.testing.assert_allclose(stores.holding_cost, [[0.5 * 30, 0.0, 0.0]])  # rate x end
    np.testing.assert_allclose(stores.ordering_cost, [[0.0, 25.0, 0.0]])  # only if ordered
    # excess: end on hand above 2 days x forecast: 30 - 20 = 10; 0 (< 8); 0
    np.testing.assert_allclose(stores.excess, [[10.0, 0.0, 0.0]])
    np.testing.assert_array_equal(stores.ordered, [[0, 12, 0]])
    np.testing.assert_array_equal(stores.received, [[0, 9, 0]])
    np.testing.assert_array_equal(stores.on_hand, [[30, 0, 0]])
    for term in ROLE_TERMS:
        assert getattr(stores, term).shape == (1, 3), term


def test_store_holding_and_excess_scale_with_end_on_hand() -> None:
    stores = reconcile(_outcome(store_end=_row(100, 7, 13)), SCENARIO).stores
    np.testing.assert_allclose(stores.holding_cost, [[50.0, 3.5, 6.5]])
    np.testing.assert_allclose(stores.excess, [[80.0, 0.0, 1.0]])  # above 20, 8, 12


def test_warehouse_terms() -> None:
    wh = reconcile(_outcome(), SCENARIO).warehouse
    assert wh.demand.tolist() == [12]
    assert wh.sales.tolist() == [9]
    assert wh.lost_sales.tolist() == [3]
    assert wh.stockout.tolist() == [3]
    assert wh.service_level.tolist() == [0.75]
    assert wh.holding_cost.tolist() == [0.25 * 200]
    assert wh.ordering_cost.tolist() == [25.0]
    # excess above (lead time 3 + 2 cover days) x the stores' forecast 20 = 100
    assert wh.excess.tolist() == [100.0]
    assert wh.ordered.tolist() == [500]
    assert wh.received.tolist() == [400]
    assert wh.on_hand.tolist() == [200]
    for term in ROLE_TERMS:
        assert getattr(wh, term).shape == (1,), term


def test_supplier_terms() -> None:
    sup = reconcile(_outcome(supplier_on_time=np.array([[0]])), SCENARIO).supplier
    # the 400 shipped are late: nothing on time of 500 ordered
    assert sup.service_level.tolist() == [0.0]
    assert sup.lost_sales.tolist() == [500]
    assert sup.stockout.tolist() == [500]
    assert sup.received.tolist() == [400]
    on_time = reconcile(_outcome(), SCENARIO).supplier
    assert on_time.service_level.tolist() == [0.8]
    assert on_time.stockout.tolist() == [100]
    for term in ("holding_cost", "ordering_cost", "excess", "on_hand"):
        assert getattr(on_time, term).tolist() == [0.0], term


def test_no_orders_means_full_service_and_no_ordering_cost() -> None:
    report = reconcile(
        _outcome(
            store_requested=_row(0, 0, 0),
            store_shipped=_row(0, 0, 0),
            warehouse_shipped=np.array([[0]]),
            warehouse_requested=np.array([[0]]),
            warehouse_ordered=np.array([[0]]),
            supplier_shipped=np.array([[0]]),
            supplier_on_time=np.array([[0]]),
        ),
        SCENARIO,
    )
    assert report.stores.ordering_cost.tolist() == [[0.0, 0.0, 0.0]]
    assert report.warehouse.ordering_cost.tolist() == [0.0]
    assert report.warehouse.service_level.tolist() == [1.0]
    assert report.supplier.service_level.tolist() == [1.0]
    assert report.day == 4


def test_store_reward_is_the_seed_formula() -> None:
    stores = reconcile(_outcome(), SCENARIO).stores
    r = reward(stores, RewardWeights())  # 10 SL - 0.1 holding - 5 stockout - 0.05 excess
    expected = [
        10 * 1.0 - 0.1 * 15.0 - 5 * 0 - 0.05 * 10.0,  # 8.0
        10 * 5 / 8 - 0.1 * 0.0 - 5 * 3 - 0.05 * 0.0,  # -8.75
        10 * 1.0,
    ]
    np.testing.assert_allclose(r, [expected])
    assert RewardWeights() == RewardWeights(10.0, 0.1, 5.0, 0.05, 0.0)


def test_reward_with_ordering_weight() -> None:
    wh = reconcile(_outcome(), SCENARIO).warehouse
    weights = RewardWeights(service_level=2.0, holding_cost=1.0, stockout=3.0, excess=0.5,
                            ordering_cost=0.2)  # fmt: skip
    expected = 2.0 * 0.75 - 1.0 * 50.0 - 3.0 * 3 - 0.5 * 100.0 - 0.2 * 25.0
    assert reward(wh, weights).tolist() == pytest.approx([expected])


def test_system_cost_totals() -> None:
    cost = system_cost(reconcile(_outcome(), SCENARIO), SCENARIO)
    holding = 0.5 * 30 + 0.25 * 200  # stores + warehouse
    lost = 10.0 * 3  # stock-out penalty x lost sales at stores
    ordering = 25.0 + 25.0  # store_2 and the warehouse ordered
    assert cost["holding_cost"].tolist() == pytest.approx([holding])
    assert cost["lost_sales_cost"].tolist() == pytest.approx([lost])
    assert cost["ordering_cost"].tolist() == pytest.approx([ordering])
    assert cost["total_cost"].tolist() == pytest.approx([holding + lost + ordering])


# ------------------------------------------------------------- rewards come from reports


@pytest.fixture
def agents():
    return make_agents(SCENARIO)


def _role_report(report, agent_id: str) -> RoleReport:
    return report.stores if agent_id.startswith("store") else getattr(report, agent_id[:-2])


@pytest.mark.parametrize("agent_id", ["store_1", "store_2", "warehouse_1", "supplier_1"])
def test_receive_feedback_matches_reward_of_the_report(agents, agent_id: str) -> None:
    agent = agents[agent_id]
    report = reconcile(_outcome(), SCENARIO)
    role_report = _role_report(report, agent_id)
    weights = {"store": SCENARIO.store_reward, "warehouse": SCENARIO.warehouse_reward,
               "supplier": SCENARIO.supplier_reward}[agent_id.split("_")[0]]  # fmt: skip
    expected = float(reward(role_report, weights)[(0, *agent.index)])
    assert agent.receive_feedback(role_report) == pytest.approx(expected)
    assert agent.receive_feedback(role_report.at(0, *agent.index)) == pytest.approx(expected)
    assert agent.episode_return == pytest.approx(2 * expected)
    agent.reset()
    assert agent.episode_return == 0.0


def test_receive_feedback_picks_the_copy() -> None:
    agent = make_agents(SCENARIO)["store_2"]
    one = reconcile(_outcome(), SCENARIO).stores
    other = reconcile(_outcome(demand=_row(10, 5, 0), lost_sales=_row(0, 0, 0)), SCENARIO).stores
    batch = RoleReport(*(np.concatenate([getattr(one, t), getattr(other, t)]) for t in ROLE_TERMS))
    assert agent.receive_feedback(batch, copy=0) == pytest.approx(10 * 5 / 8 - 15)
    assert agent.receive_feedback(batch, copy=1) == pytest.approx(10.0)


WEIGHTED_TERMS = ["service_level", "holding_cost", "stockout", "excess", "ordering_cost"]


@pytest.mark.parametrize("agent_id", ["store_1", "warehouse_1"])
@pytest.mark.parametrize("term", ROLE_TERMS)
@pytest.mark.parametrize("delta", [0.5, -3.0])
def test_a_reward_changes_only_through_its_weighted_terms(
    agent_id: str, term: str, delta: float
) -> None:
    weights = RewardWeights(10.0, 0.1, 5.0, 0.05, 0.3)
    sc = dataclasses.replace(SCENARIO, store_reward=weights, warehouse_reward=weights)
    agent = make_agents(sc)[agent_id]
    terms = _role_report(reconcile(_outcome(), sc), agent_id).at(0, *agent.index)
    base = agent.receive_feedback(terms)
    changed = agent.receive_feedback({**terms, term: terms[term] + delta})
    if term in WEIGHTED_TERMS:
        sign = 1.0 if term == "service_level" else -1.0
        assert changed - base == pytest.approx(sign * getattr(weights, term) * delta, abs=1e-12)
    else:  # demand, sales, ordered, ... are reported, never rewarded
        assert changed == base


def test_an_order_pays_its_fixed_cost_even_when_nothing_is_shipped() -> None:
    # the warehouse is empty: store_2 orders 12, gets nothing; the warehouse orders 500 and
    # the supplier ships nothing (it delays or has no capacity): both orders still cost 25
    outcome = _outcome(
        store_shipped=_row(0, 0, 0),
        store_pipeline_end=_row(0, 0, 0),
        warehouse_start=np.array([[200]]),
        warehouse_shipped=np.array([[0]]),
        supplier_shipped=np.array([[0]]),
        supplier_on_time=np.array([[0]]),
        warehouse_pipeline_end=np.array([[0]]),
    )
    report = reconcile(outcome, SCENARIO)
    np.testing.assert_array_equal(report.stores.ordering_cost, [[0.0, 25.0, 0.0]])
    np.testing.assert_array_equal(report.stores.received, [[0, 0, 0]])
    np.testing.assert_array_equal(report.warehouse.ordering_cost, [25.0])
    assert system_cost(report, SCENARIO)["ordering_cost"][0] == 50.0
