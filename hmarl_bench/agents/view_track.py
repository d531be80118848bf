"""The ``view`` interface track: what a ChainView controller may read, plus memory.

A rule controller (:class:`~hmarl_bench.evaluation.ChainController`) reads a whole
:class:`~hmarl_bench.twin.view.ChainView` (pipelines by arrival day, on hands, its last
order, what the supplier shipped, the day, the nominal profile, forecasts) and keeps memory
across days. The ``planner`` track (:mod:`hmarl_bench.agents.planner`) leaves out the last
order, the supplier's shipments and the days to delivery, and has no memory. This track
gives a learner all of it, and no more: the planner track's observation, the chain fields
it lacks, and a :class:`~hmarl_bench.agents.memory.DayMemory` of the last ``k`` days
(``memory_days``) of observed demand and of orders. Actions, masks and rules are the
planner track's (order-up-to levels on a grid).

Observed demand is recovered exactly from the forecast the view carries: the stores' forecast
is exponential smoothing of demand, ``f[t] = f[t-1] + alpha (d[t-1] - f[t-1])``
(:func:`hmarl_bench.twin.dynamics`' learn phase), so ``d[t-1] = f[t-1] + (f[t] - f[t-1]) /
alpha``: a controller that remembers yesterday's forecast knows yesterday's demand, and
nothing later.

Store (per store-SKU slot; the planner's ``10 + Ps + W`` values first, then; Pw, k as below)::

    planner values        see hmarl_bench.agents.planner (on hand .. nominal demand)
    Pw values             the SKU's supplier pipeline arriving at the warehouse on day t + j
                          / warehouse capacity
    warehouse_last_order  the warehouse's order of yesterday (its SKU) / warehouse capacity
    supplier_last_shipped the supplier's shipment of yesterday (its SKU) / warehouse capacity
    days_to_delivery      days until the supplier's latest shipment lands / Pw
    k values              observed demand of day t - 1 - j, j = 0 .. k-1 / demand_scale_n
    k values              units shipped to the slot on day t - 1 - j / store capacity
                          (the newest entry of its pipeline each day; 0 with no lead time)

Warehouse (per SKU, SKU-major; the planner's ``9 + Pw + E`` values first, then)::

    planner values        see hmarl_bench.agents.planner (on hand .. chain nominal demand)
    warehouse_last_order  own order of yesterday / capacity
    supplier_last_shipped the supplier's shipment of yesterday / capacity
    days_to_delivery      / Pw
    Ps values             the stores' pipelines summed, arriving on day t + j
                          / the stores' capacities summed
    k values              the chain's observed demand of day t - 1 - j / aggregate scale
    k values              own orders of day t - 1 - j / capacity
    k values              supplier shipments of day t - 1 - j / capacity

Supplier: the planner track's. Every value is float32 clipped into [0, 1]; memory entries
are 0 before anything was observed (day 0, and the first k days only partly filled).
Memory moves by day, so repeated ``observe`` calls on one day are harmless; a role instance
serves one batch of lockstep episodes at a time (each env and each controller makes its own).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hmarl_bench.agents.memory import DayMemory
from hmarl_bench.agents.planner import (
    PlannerStoreRole,
    PlannerSupplierRole,
    PlannerWarehouseRole,
    pipeline_by_arrival,
)
from hmarl_bench.agents.roles import _clip_unit
from hmarl_bench.config import Scenario
from hmarl_bench.twin.state import over_stores

__all__ = [
    "DEFAULT_MEMORY_DAYS",
    "ViewStoreRole",
    "ViewSupplierRole",
    "ViewWarehouseRole",
    "observed_demand",
]

#: Days of memory when the hyperparameters do not say (``memory_days``).
DEFAULT_MEMORY_DAYS = 7


def observed_demand(memory: DayMemory, forecast: np.ndarray, smoothing: float) -> np.ndarray | None:
    """Yesterday's demand (B, N) from yesterday's and today's forecast, or ``None`` when
    yesterday's forecast is not remembered (the first day of an episode). Records today's
    forecast for tomorrow."""
    before = memory.previous.get("forecast")
    memory.previous["forecast"] = np.array(forecast, dtype=np.float64)
    if before is None:
        return None
    return before + (forecast - before) / smoothing


class ViewStoreRole(PlannerStoreRole):
    """Every store-SKU slot on the view track: the planner's observation, the chain fields
    it lacks and memory (module docstring); the planner's actions and masks."""

    def __init__(
        self, scenario: Scenario, horizon_mask: bool = True, memory_days: int = DEFAULT_MEMORY_DAYS
    ) -> None:
        super().__init__(scenario, horizon_mask)
        self.planner = PlannerStoreRole(scenario, horizon_mask)  # its observation, first
        self.memory = DayMemory(memory_days)
        self.memory_days = k = memory_days
        sup = scenario.supplier
        self.supplier_pipeline_len = max(sup.lead_time + 2 * sup.delay_days, 1)
        self.smoothing = scenario.forecast_smoothing
        self.planner_dim = self.obs_dim
        self.obs_dim = self.planner_dim + self.supplier_pipeline_len + 3 + 2 * k
        self.obs_names = (
            *self.obs_names,
            *(f"warehouse_pipeline_t+{j}" for j in range(self.supplier_pipeline_len)),
            "warehouse_last_order",
            "supplier_last_shipped",
            "days_to_delivery",
            *(f"demand_t-{j + 1}" for j in range(k)),
            *(f"shipped_t-{j + 1}" for j in range(k)),
        )

    def _remember(self, state: Any) -> None:
        batch, n = state.store_on_hand.shape
        new_day = self.memory.advance(state.day, batch)
        if not new_day and "forecast" in self.memory.previous:
            return  # a repeated call on the same day
        demand = observed_demand(self.memory, state.forecast, self.smoothing)
        if demand is None:
            return
        self.memory.push("demand", demand)
        if self.lead_time >= 1:
            newest = pipeline_by_arrival(state.store_pipeline, state.day)[..., self.lead_time - 1]
        else:
            newest = np.zeros((batch, n))
        self.memory.push("shipped", newest)

    def observe(self, state: Any, *, position: np.ndarray | None = None) -> np.ndarray:
        planner = self.planner.observe(state, position=position)
        self._remember(state)
        batch, n = state.store_on_hand.shape
        per_sku = n // self.n_skus
        extra = np.empty((batch, n, self.obs_dim - self.planner_dim))
        pw = self.supplier_pipeline_len
        arriving = pipeline_by_arrival(state.warehouse_pipeline, state.day)  # (B, K, Pw)
        extra[..., :pw] = np.tile(arriving, (1, per_sku, 1)) / self.warehouse_capacity
        extra[..., pw] = np.tile(state.warehouse_last_order, (1, per_sku)) / self.warehouse_capacity
        shipped = np.tile(state.supplier_last_shipped, (1, per_sku))
        extra[..., pw + 1] = shipped / self.warehouse_capacity
        extra[..., pw + 2] = state.days_to_delivery[:, None] / pw
        k, start = self.memory_days, pw + 3
        demand = self.memory.window("demand", (batch, n))
        extra[..., start : start + k] = demand / self.demand_scale[:, None]
        extra[..., start + k :] = (
            self.memory.window("shipped", (batch, n)) / (self.on_hand_scale[:, None])
        )
        values = np.concatenate([planner, _clip_unit(extra.astype(np.float32))], axis=2)
        return values


class ViewWarehouseRole(PlannerWarehouseRole):
    """The warehouse on the view track: the planner's observation, the chain fields it lacks
    and memory (module docstring); the planner's actions and masks."""

    def __init__(
        self, scenario: Scenario, horizon_mask: bool = True, memory_days: int = DEFAULT_MEMORY_DAYS
    ) -> None:
        super().__init__(scenario, horizon_mask)
        self.planner = PlannerWarehouseRole(scenario, horizon_mask)  # its observation, first
        self.memory = DayMemory(memory_days)
        self.memory_days = k = memory_days
        self.store_pipeline_len = max(scenario.warehouse.lead_time, 1)
        self.smoothing = scenario.forecast_smoothing
        self.planner_dim = self.obs_dim
        self.obs_dim = self.planner_dim + 3 + self.store_pipeline_len + 3 * k
        self.obs_names = (
            *self.obs_names,
            "warehouse_last_order",
            "supplier_last_shipped",
            "days_to_delivery",
            *(f"store_pipeline_t+{j}" for j in range(self.store_pipeline_len)),
            *(f"chain_demand_t-{j + 1}" for j in range(k)),
            *(f"own_order_t-{j + 1}" for j in range(k)),
            *(f"supplier_shipped_t-{j + 1}" for j in range(k)),
        )

    def _remember(self, state: Any) -> None:
        batch = state.warehouse_on_hand.shape[0]
        new_day = self.memory.advance(state.day, batch)
        if not new_day and "forecast" in self.memory.previous:
            return
        demand = observed_demand(self.memory, state.forecast, self.smoothing)
        if demand is None:
            return
        self.memory.push("demand", over_stores(demand, self.n_skus))
        self.memory.push("order", state.warehouse_last_order.reshape(batch, self.n_skus))
        self.memory.push("shipped", state.supplier_last_shipped.reshape(batch, self.n_skus))

    def observe(self, state: Any) -> np.ndarray:
        k_skus, batch = self.n_skus, state.warehouse_on_hand.shape[0]
        planner = self.planner.observe(state).reshape(batch, k_skus, self.planner_dim)
        self._remember(state)
        extra = np.empty((batch, k_skus, self.obs_dim - self.planner_dim))
        pw = self.pipeline_len
        extra[..., 0] = state.warehouse_last_order.reshape(batch, k_skus) / self.capacity
        extra[..., 1] = state.supplier_last_shipped.reshape(batch, k_skus) / self.capacity
        extra[..., 2] = state.days_to_delivery[:, None] / pw
        ps, m = self.store_pipeline_len, self.memory_days
        stores = pipeline_by_arrival(state.store_pipeline, state.day)[..., :ps]  # (B, N, Ps)
        per_sku = stores.reshape(batch, -1, k_skus, ps).sum(axis=1)  # (B, K, Ps)
        extra[..., 3 : 3 + ps] = per_sku / self.store_capacity_total
        start = 3 + ps
        shape = (batch, k_skus)
        extra[..., start : start + m] = (
            self.memory.window("demand", shape) / (self.demand_scale[:, None])
        )
        extra[..., start + m : start + 2 * m] = self.memory.window("order", shape) / self.capacity
        extra[..., start + 2 * m :] = self.memory.window("shipped", shape) / self.capacity
        values = np.concatenate([planner, _clip_unit(extra.astype(np.float32))], axis=2)
        return values.reshape(batch, -1)


class ViewSupplierRole(PlannerSupplierRole):
    """The supplier on the view track: the planner track's (its seed values already hold
    the warehouse's order, the capacity and the days to delivery)."""
