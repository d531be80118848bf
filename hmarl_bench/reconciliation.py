"""Reconciliation: what each agent planned against what happened, and the only source of rewards.

Every day :func:`reconcile` turns the twin's :class:`DayOutcome` into a
:class:`ReconciliationReport` with one :class:`RoleReport` per role (arrays over copies,
and over store-SKU slots for the store role: (B, N), with N = S stores x K SKUs). The
warehouse and the supplier are one agent each per copy, so their terms are summed over
SKUs (B,): units over all SKUs, and ``ordering_cost`` once per SKU ordered (an order line
per SKU, as each store-SKU slot pays its own). :func:`reward` is a function of a report and
weights alone: nothing else makes a reward.

The terms of a :class:`RoleReport`, by role (units in brackets; every term is one day's:
costs are currency per day, quantities units per day):

============== ======================================= ===================================== ======================================
term           store                                   warehouse                             supplier
============== ======================================= ===================================== ======================================
demand         customer demand [units]                 units the stores ordered today        units the warehouse ordered today
sales          units sold, min(on_hand, demand)        units shipped to stores [units]       units shipped on time [units]
lost_sales     demand - sales [units]                  ordered but not shipped [units]       ordered but not shipped on time
                                                                                             [units]
service_level  fill rate sales / demand (1 if no       shipped / ordered by stores           on-time / ordered (1 if no order)
               demand) [fraction]                      (1 if none) [fraction]                [fraction]
holding_cost   holding_cost x end on_hand [currency]   warehouse_holding_cost x end          0
                                                       on_hand [currency]
stockout       lost_sales [units]                      lost_sales [units]                    lost_sales [units]
ordering_cost  ordering_cost if it ordered [currency]  ordering_cost per SKU ordered         0
                                                       [currency]
excess         end on_hand above excess_cover_days x   end on_hand above (supplier lead      0
               forecast [units]                        time + excess_cover_days) x the
                                                       stores' total forecast [units]
ordered        units it ordered (plan) [units]         units it ordered from the supplier    units ordered from it
received       units shipped against that order        units the supplier shipped against    units it shipped
               (actual) [units]                        it [units]
on_hand        end-of-day on hand [units]              end-of-day on hand [units]            0
============== ======================================= ===================================== ======================================

The reward of every role has one form, with that role's :class:`RewardWeights`::

    reward = w.service_level * service_level - w.holding_cost * holding_cost
             - w.stockout * stockout - w.excess * excess - w.ordering_cost * ordering_cost

For the store with the default weights this is the seed system's
``10 x service_level - 0.1 x holding_cost - 5 x stockout - 0.05 x excess``.

The business KPIs are separate from rewards (:func:`system_cost`): total cost = holding
(stores and warehouse) + stockout_penalty x lost sales at stores + ordering costs.

Team rewards (:func:`team_rewards`, the envs' ``team_weight`` option) mix each role's own
reward with the chain's cost of the same day, both from the same report::

    team reward = (1 - team_weight) x own reward - team_weight x system_cost(report).total_cost

``team_weight`` 0 is the role's own reward; 1 is the chain's cost alone (every agent of a
copy then gets the same signal: the benchmark's objective, per day). The seed's rewards give
the warehouse no reason to stock for the stores and the supplier no cost at all, so
learners trained on them alone drift from what the chain needs; the mix keeps each role's
own, denser signal while pricing what it does to the chain.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from hmarl_bench.config import RewardWeights, Scenario
from hmarl_bench.twin.state import DayOutcome, over_stores, sku_total

__all__ = [
    "ROLE_TERMS",
    "ReconciliationReport",
    "RoleReport",
    "check_team_weight",
    "day_total_cost",
    "mix_team",
    "reconcile",
    "reward",
    "system_cost",
    "team_rewards",
]


@dataclass
class RoleReport:
    """Plan against actual for one role; every field has the same shape ((B, N) or (B,))."""

    demand: np.ndarray
    sales: np.ndarray
    lost_sales: np.ndarray
    service_level: np.ndarray
    holding_cost: np.ndarray
    stockout: np.ndarray
    ordering_cost: np.ndarray
    excess: np.ndarray
    ordered: np.ndarray
    received: np.ndarray
    on_hand: np.ndarray

    def at(self, *index: int) -> dict[str, float]:
        """The terms of one agent (one copy, and one store for stores) as plain floats."""
        return {name: float(getattr(self, name)[index]) for name in ROLE_TERMS}

    def agents_at(self, copy: int = 0) -> list[dict[str, float]]:
        """``at(copy, i)`` for every store i of a (B, S) report, or ``[at(copy)]`` for (B,)."""
        columns = [getattr(self, name)[copy].tolist() for name in ROLE_TERMS]
        if not isinstance(columns[0], list):
            return [{name: float(v) for name, v in zip(ROLE_TERMS, columns, strict=True)}]
        return [
            {name: float(v) for name, v in zip(ROLE_TERMS, values, strict=True)}
            for values in zip(*columns, strict=True)
        ]


#: The names of a report's terms, in order.
ROLE_TERMS: tuple[str, ...] = tuple(f.name for f in fields(RoleReport))


@dataclass
class ReconciliationReport:
    """One day's reports: ``stores`` (B, N), ``warehouse`` (B,), ``supplier`` (B,)."""

    day: int
    stores: RoleReport
    warehouse: RoleReport
    supplier: RoleReport


def _fill(served: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """served / wanted where wanted > 0, else 1 (one ufunc call writing into ones)."""
    return np.divide(served, wanted, out=np.ones(wanted.shape), where=wanted > 0)


def reconcile(outcome: DayOutcome, scenario: Scenario) -> ReconciliationReport:
    """Compare each agent's plan with the day's outcome (see the module table for terms)."""
    costs = scenario.costs
    n_skus = outcome.warehouse_end.shape[1]
    zeros_b = np.zeros(outcome.warehouse_end.shape[:1])

    store_excess = np.maximum(outcome.store_end - costs.excess_cover_days * outcome.forecast, 0.0)
    stores = RoleReport(
        demand=outcome.demand,
        sales=outcome.sales,
        lost_sales=outcome.lost_sales,
        service_level=_fill(outcome.sales, outcome.demand),
        holding_cost=costs.holding_cost * outcome.store_end,
        stockout=outcome.lost_sales,
        ordering_cost=costs.ordering_cost * (outcome.store_requested > 0),
        excess=store_excess,
        ordered=outcome.store_requested,
        received=outcome.store_shipped,
        on_hand=outcome.store_end,
    )

    # per SKU (B, K), then summed over SKUs (with one SKU: the column itself, exactly)
    wh_cover = (scenario.supplier.lead_time + costs.excess_cover_days) * over_stores(
        outcome.forecast, n_skus
    )
    wh_excess = sku_total(np.maximum(outcome.warehouse_end - wh_cover, 0.0))
    requested = sku_total(outcome.warehouse_requested)
    shipped = sku_total(outcome.warehouse_shipped)
    ordered = sku_total(outcome.warehouse_ordered)
    on_time = sku_total(outcome.supplier_on_time)
    supplier_shipped = sku_total(outcome.supplier_shipped)
    wh_end = sku_total(outcome.warehouse_end)
    order_lines = sku_total(outcome.warehouse_ordered > 0)  # bool with one SKU
    wh_short = requested - shipped
    warehouse = RoleReport(
        demand=requested,
        sales=shipped,
        lost_sales=wh_short,
        service_level=_fill(shipped, requested),
        holding_cost=costs.warehouse_holding_cost * wh_end,
        stockout=wh_short,
        ordering_cost=costs.ordering_cost * order_lines,
        excess=wh_excess,
        ordered=ordered,
        received=supplier_shipped,
        on_hand=wh_end,
    )

    sup_short = ordered - on_time
    supplier = RoleReport(
        demand=ordered,
        sales=on_time,
        lost_sales=sup_short,
        service_level=_fill(on_time, ordered),
        holding_cost=zeros_b,
        stockout=sup_short,
        ordering_cost=zeros_b,
        excess=zeros_b,
        ordered=ordered,
        received=supplier_shipped,
        on_hand=zeros_b,
    )
    return ReconciliationReport(outcome.day, stores, warehouse, supplier)


def reward(report: RoleReport, weights: RewardWeights) -> np.ndarray:
    """The role's reward, from its report and weights alone (see the module docstring)."""
    return (
        weights.service_level * report.service_level
        - weights.holding_cost * report.holding_cost
        - weights.stockout * report.stockout
        - weights.excess * report.excess
        - weights.ordering_cost * report.ordering_cost
    )


def system_cost(report: ReconciliationReport, scenario: Scenario) -> dict[str, np.ndarray]:
    """The day's business cost per copy (B,), split into holding, lost sales and ordering."""
    holding = report.stores.holding_cost.sum(axis=1) + report.warehouse.holding_cost
    lost = scenario.costs.stockout_penalty * report.stores.lost_sales.sum(axis=1)
    ordering = report.stores.ordering_cost.sum(axis=1) + report.warehouse.ordering_cost
    return {
        "holding_cost": holding,
        "lost_sales_cost": lost,
        "ordering_cost": ordering,
        "total_cost": holding + lost + ordering,
    }


def day_total_cost(outcome: DayOutcome, scenario: Scenario) -> np.ndarray:
    """The day's business total cost per copy (B,) straight from the outcome.

    ``system_cost(reconcile(outcome, scenario), scenario)["total_cost"]``, bit for bit (the
    same operations in the same order), without building the reports: tuning scores many
    candidates by it.
    """
    costs = scenario.costs
    holding = _row_sum(costs.holding_cost * outcome.store_end)
    holding += costs.warehouse_holding_cost * sku_total(outcome.warehouse_end)
    lost = scenario.costs.stockout_penalty * np.einsum("bn->b", outcome.lost_sales)
    ordering = _row_sum(costs.ordering_cost * (outcome.store_requested > 0))
    ordering += costs.ordering_cost * sku_total(outcome.warehouse_ordered > 0)
    return holding + lost + ordering


def _row_sum(values: np.ndarray) -> np.ndarray:
    """``values.sum(axis=1)`` of a (B, N) float64 array, bit for bit, faster for small N.

    numpy sums a contiguous row of fewer than 8 numbers one after the other from 0.0
    (its pairwise sum starts only at 8), so for small N the same sequence of additions over
    whole columns gives the same bits in far fewer numpy calls per element.
    """
    if values.shape[1] >= 8:
        return values.sum(axis=1)
    total = np.zeros(values.shape[0])
    for column in range(values.shape[1]):
        total += values[:, column]
    return total


def check_team_weight(team_weight: float) -> float:
    """``team_weight`` as a float in [0, 1]; else a ValueError that says so."""
    if isinstance(team_weight, bool) or not isinstance(team_weight, int | float):
        raise ValueError(f"team_weight must be a number in [0, 1], got {team_weight!r}")
    if not 0.0 <= team_weight <= 1.0:
        raise ValueError(f"team_weight must be in [0, 1], got {team_weight!r}")
    return float(team_weight)


def mix_team(own: np.ndarray, chain_cost: np.ndarray | float, team_weight: float) -> np.ndarray:
    """``(1 - w) x own - w x chain_cost``; ``chain_cost`` (B,) broadcasts over a role's
    agents when given as a column (B, 1), or is one copy's float."""
    return (1.0 - team_weight) * np.asarray(own, dtype=np.float64) - team_weight * chain_cost


def team_rewards(
    report: ReconciliationReport,
    scenario: Scenario,
    team_weight: float,
    weights: tuple[RewardWeights, RewardWeights, RewardWeights] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every role's team reward from one day's report alone: (stores (B, N), warehouse (B,),
    supplier (B,)). ``weights`` are the (store, warehouse, supplier) reward weights, the
    scenario's by default (a learner may train on others)."""
    check_team_weight(team_weight)
    if weights is None:
        weights = (scenario.store_reward, scenario.warehouse_reward, scenario.supplier_reward)
    cost = system_cost(report, scenario)["total_cost"]  # (B,)
    return (
        mix_team(reward(report.stores, weights[0]), cost[:, None], team_weight),
        mix_team(reward(report.warehouse, weights[1]), cost, team_weight),
        mix_team(reward(report.supplier, weights[2]), cost, team_weight),
    )
