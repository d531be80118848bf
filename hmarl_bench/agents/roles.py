"""The three roles' observations, actions, masks and rule policies, vectorized.

Observations are float32 and normalized into [0, 1] (values past a scale are clipped):

Store (7), per store s::

    0 on_hand            on-hand / store capacity
    1 forecast           smoothed demand / demand_scale_s
    2 uncertainty        smoothed forecast error std / demand_scale_s
    3 days_of_cover      (on-hand + pipeline) / forecast, divided by 30 days
    4 stockout_yesterday 1 if the store lost sales yesterday, else 0
    5 warehouse_ratio    warehouse on-hand / warehouse capacity
    6 recent_service     smoothed daily fill rate

``demand_scale_s`` is twice the store's highest expected daily demand in the scenario.

Warehouse (6)::

    0 aggregate_demand   sum of store forecasts / sum of demand scales
    1 on_hand            warehouse on-hand / capacity
    2 pipeline           inbound supplier pipeline / capacity
    3 store_inventory    mean over stores of on-hand / capacity
    4 min_store_inventory lowest store on-hand / capacity
    5 store_service      mean store recent service level

Supplier (3)::

    0 warehouse_order    the warehouse's last order / supplier capacity
    1 utilisation        units shipped yesterday / supplier capacity
    2 days_to_delivery   days until the last shipment lands / longest possible lead time

Actions: a store orders 0, 0.5, 1.0 or 1.5 x its forecast (rounded); the warehouse orders
one of ``warehouse.order_quantities``; the supplier fulfils 100%, fulfils
``partial_fraction`` or delays by ``delay_days``.

Masks: an order action is infeasible when its quantity would push the inventory position
(on-hand + pipeline) past the node's capacity; ordering nothing is always feasible. The
twin enforces the same limit by capping such orders, so a policy without masks faces the
same feasible set (its over-sized orders are cut to the room left).
"""

from __future__ import annotations

import numpy as np

from hmarl_bench.agents.base import Role
from hmarl_bench.config import Scenario
from hmarl_bench.twin.demand import mean_demand
from hmarl_bench.twin.dynamics import SUPPLIER_ACTIONS
from hmarl_bench.twin.state import TwinState, pipeline_total

__all__ = [
    "MAX_COVER_DAYS",
    "STORE_ORDER_MULTIPLIERS",
    "StoreRole",
    "SupplierRole",
    "WarehouseRole",
]

#: Store action -> multiple of the forecast ordered.
STORE_ORDER_MULTIPLIERS = np.array([0.0, 0.5, 1.0, 1.5])
#: Days of cover that map to 1.0 in the store observation.
MAX_COVER_DAYS = 30.0


def _closest_feasible(target: np.ndarray, options: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Index of the feasible option closest to ``target`` (ties: the smaller index)."""
    return _closest_option(target, options, ~mask)


def _closest_option(target: np.ndarray, options: np.ndarray, infeasible: np.ndarray) -> np.ndarray:
    """:func:`_closest_feasible` given the infeasible options instead of the feasible ones."""
    gap = np.abs(options - target[..., None]).astype(np.float64, copy=False)
    np.putmask(gap, infeasible, np.inf)
    return gap.argmin(axis=-1)


def _clip_unit(obs: np.ndarray) -> np.ndarray:
    """Clip observations into [0, 1] in place (two ufuncs: cheaper than ``np.clip``)."""
    np.minimum(obs, 1.0, out=obs)
    return np.maximum(obs, 0.0, out=obs)


class StoreRole(Role):
    """Every store of every copy: observations (B, S, 7), actions (B, S)."""

    obs_dim = 7
    n_actions = 4
    obs_names = (
        "on_hand",
        "forecast",
        "uncertainty",
        "days_of_cover",
        "stockout_yesterday",
        "warehouse_ratio",
        "recent_service",
    )
    action_names = ("order_0", "order_0.5x", "order_1.0x", "order_1.5x")

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.capacity = np.array([s.capacity for s in scenario.stores], dtype=np.float64)
        self.on_hand_scale = np.maximum(self.capacity, 1.0)
        self.demand_scale = 2.0 * np.maximum(mean_demand(scenario).max(axis=0), 1.0)
        self.warehouse_capacity = float(max(scenario.warehouse.capacity, 1))
        self.reorder_point = np.array([s.reorder_point for s in scenario.stores])
        self.order_up_to = np.array([s.order_up_to for s in scenario.stores])

    # ``position`` (keyword): the state's ``store_position``, when the caller has it already.
    def observe(self, state: TwinState, *, position: np.ndarray | None = None) -> np.ndarray:
        if position is None:
            position = state.store_position
        # each entry in float64 (into a scratch array), then one cast to float32
        values = np.empty((state.batch_size, state.n_stores, 7))
        np.divide(state.store_on_hand, self.on_hand_scale, out=values[..., 0])
        np.divide(state.forecast, self.demand_scale, out=values[..., 1])
        uncertainty = np.sqrt(state.forecast_var, out=values[..., 2])
        np.divide(uncertainty, self.demand_scale, out=uncertainty)
        cover = np.divide(position, np.maximum(state.forecast, 1.0), out=values[..., 3])
        np.divide(cover, MAX_COVER_DAYS, out=cover)
        values[..., 4] = state.stockout_yesterday
        values[..., 5] = (state.warehouse_on_hand / self.warehouse_capacity)[:, None]
        values[..., 6] = state.recent_service
        return _clip_unit(values.astype(np.float32))

    def order_quantities(self, actions: np.ndarray, state: TwinState) -> np.ndarray:
        """Units each store orders for ``actions`` (B, S): multiplier x forecast, rounded."""
        return np.rint(STORE_ORDER_MULTIPLIERS[actions] * state.forecast).astype(np.int64)

    def action_masks(self, state: TwinState, *, position: np.ndarray | None = None) -> np.ndarray:
        if position is None:
            position = state.store_position
        quantities = np.rint(STORE_ORDER_MULTIPLIERS * state.forecast[..., None])
        masks = quantities <= (self.capacity - position)[..., None]
        masks[..., 0] = True
        return masks

    def rule_actions(self, state: TwinState, *, position: np.ndarray | None = None) -> np.ndarray:
        """The seed's (s, S): when position <= s, the action closest to S - position."""
        if position is None:
            position = state.store_position
        options = np.rint(STORE_ORDER_MULTIPLIERS * state.forecast[..., None])
        infeasible = options > (self.capacity - position)[..., None]  # not action_masks
        infeasible[..., 0] = False
        target = (self.order_up_to - position) * (position <= self.reorder_point)
        return _closest_option(target, options, infeasible)


class WarehouseRole(Role):
    """The warehouse of every copy: observations (B, 6), actions (B,)."""

    obs_dim = 6
    n_actions = 4
    obs_names = (
        "aggregate_demand",
        "on_hand",
        "pipeline",
        "store_inventory",
        "min_store_inventory",
        "store_service",
    )
    action_names = ("order_0", "order_low", "order_medium", "order_high")

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.capacity = float(max(scenario.warehouse.capacity, 1))
        self.quantities = np.array(scenario.warehouse.order_quantities, dtype=np.int64)
        self.store_capacity = np.array([max(s.capacity, 1) for s in scenario.stores], dtype=float)
        self.demand_scale = float((2.0 * np.maximum(mean_demand(scenario).max(axis=0), 1.0)).sum())

    def observe(self, state: TwinState) -> np.ndarray:
        store_ratio = state.store_on_hand / self.store_capacity
        n_stores = state.n_stores
        values = np.empty((state.batch_size, 6))  # float64, cast once; means as sum / count
        np.divide(state.forecast.sum(axis=1), self.demand_scale, out=values[:, 0])
        np.divide(state.warehouse_on_hand, self.capacity, out=values[:, 1])
        np.divide(pipeline_total(state.warehouse_pipeline), self.capacity, out=values[:, 2])
        np.divide(store_ratio.sum(axis=1), n_stores, out=values[:, 3])
        np.minimum.reduce(store_ratio, axis=1, out=values[:, 4])
        np.divide(state.recent_service.sum(axis=1), n_stores, out=values[:, 5])
        return _clip_unit(values.astype(np.float32))

    def order_quantities(self, actions: np.ndarray, state: TwinState | None = None) -> np.ndarray:
        return self.quantities[actions]

    def action_masks(self, state: TwinState) -> np.ndarray:
        room = self.capacity - state.warehouse_position
        masks = self.quantities[None, :] <= room[:, None]
        masks[:, 0] = True
        return masks

    def rule_actions(self, state: TwinState) -> np.ndarray:
        """The seed's (s, S) on the four order sizes: closest to S - position when <= s."""
        wh = self.scenario.warehouse
        position = state.warehouse_position
        infeasible = self.quantities[None, :] > (self.capacity - position)[:, None]
        infeasible[:, 0] = False
        target = (wh.order_up_to - position) * (position <= wh.reorder_point)
        return _closest_option(target, self.quantities, infeasible)


class SupplierRole(Role):
    """The supplier of every copy: observations (B, 3), actions (B,)."""

    obs_dim = 3
    n_actions = len(SUPPLIER_ACTIONS)
    obs_names = ("warehouse_order", "utilisation", "days_to_delivery")
    action_names = SUPPLIER_ACTIONS

    def __init__(self, scenario: Scenario) -> None:
        sup = scenario.supplier
        self.capacity = float(max(sup.capacity, 1))
        self.max_lead = float(max(sup.lead_time + 2 * sup.delay_days, 1))

    def observe(self, state: TwinState) -> np.ndarray:
        obs = np.empty((state.batch_size, 3), dtype=np.float32)
        obs[:, 0] = state.warehouse_last_order / self.capacity
        obs[:, 1] = state.supplier_last_shipped / self.capacity
        obs[:, 2] = state.days_to_delivery / self.max_lead
        return _clip_unit(obs)

    def action_masks(self, state: TwinState) -> np.ndarray:
        return np.ones((state.batch_size, self.n_actions), dtype=bool)

    def rule_actions(self, state: TwinState) -> np.ndarray:
        """The seed's supplier: always fulfil in full."""
        return np.zeros(state.batch_size, dtype=np.int64)
