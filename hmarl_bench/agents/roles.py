"""The three roles' observations, actions, masks and rule policies, vectorized.

Observations are float32 and normalized into [0, 1] (values past a scale are clipped):

Store (7), per store-SKU slot n (store s, SKU k; with one SKU, per store)::

    0 on_hand            on-hand of the SKU / store capacity
    1 forecast           smoothed demand / demand_scale_n
    2 uncertainty        smoothed forecast error std / demand_scale_n
    3 days_of_cover      (on-hand + pipeline) / forecast, divided by 30 days
    4 stockout_yesterday 1 if the slot lost sales yesterday, else 0
    5 warehouse_ratio    warehouse on-hand of the SKU / warehouse capacity
    6 recent_service     smoothed daily fill rate

``demand_scale_n`` is twice the slot's highest expected daily demand in the scenario.

Warehouse (6 per SKU, SKU-major: entries ``6 k .. 6 k + 5`` are SKU k's)::

    0 aggregate_demand   sum of the SKU's store forecasts / sum of their demand scales
    1 on_hand            warehouse on-hand of the SKU / capacity
    2 pipeline           inbound supplier pipeline of the SKU / capacity
    3 store_inventory    mean over stores of the SKU's on-hand / store capacity
    4 min_store_inventory lowest store on-hand of the SKU / store capacity
    5 store_service      mean recent service level of the SKU's slots

Supplier (3)::

    0 warehouse_order    the warehouse's last order (all SKUs) / supplier capacity
    1 utilisation        units shipped yesterday (all SKUs) / supplier capacity
    2 days_to_delivery   days until the last shipment lands / longest possible lead time

Actions: a slot orders 0, 0.5, 1.0 or 1.5 x its forecast (rounded); the warehouse orders
one of ``warehouse.order_quantities`` (scaled by the SKU's demand_scale) per SKU: one
``Discrete(4)`` action with one SKU, ``MultiDiscrete([4] * K)`` with several; the supplier
fulfils 100%, fulfils ``partial_fraction`` or delays by ``delay_days`` (one action for the
day's whole shipment).

Masks: an order action is infeasible when its quantity alone would push the node's
inventory position (on-hand + pipeline, summed over the SKUs that share its capacity) past
the capacity; ordering nothing is always feasible. The twin enforces the same limit by
cutting such orders (pro rata over SKUs when several together overflow), so a policy
without masks meets the same capacity; it can even pick a masked size and get exactly the
room left, a quantity a masked policy cannot order. Warehouse masks of several SKUs are the SKUs'
masks concatenated, as sb3-contrib's MaskablePPO expects for ``MultiDiscrete``.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from hmarl_bench.agents.base import Role
from hmarl_bench.config import Scenario
from hmarl_bench.twin.dynamics import SUPPLIER_ACTIONS
from hmarl_bench.twin.params import chain_params
from hmarl_bench.twin.state import over_stores, pipeline_total, sku_total
from hmarl_bench.twin.view import DayState

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
    """Every store-SKU slot of every copy: observations (B, N, 7), actions (B, N)."""

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
        params = chain_params(scenario)
        self.n_skus = params.n_skus
        #: (S,) each store's capacity, shared by its SKUs
        self.store_capacity = params.store_capacity
        self.capacity = params.slot_capacity  # (N,) a slot's store's
        self.on_hand_scale = np.maximum(self.capacity, 1.0)
        self.demand_scale = params.slot_demand_scale
        self.warehouse_capacity = params.warehouse_capacity
        self.reorder_point = params.store_reorder_point
        self.order_up_to = params.store_order_up_to

    def room(self, position: np.ndarray) -> np.ndarray:
        """(B, N) room under each slot's store capacity: capacity - position over its SKUs."""
        if self.n_skus == 1:
            return self.capacity - position
        batch = position.shape[0]
        store_position = position.reshape(batch, -1, self.n_skus).sum(axis=2)
        return np.repeat(self.store_capacity - store_position, self.n_skus, axis=1)

    # ``position`` (keyword): the state's ``store_position``, when the caller has it already.
    def observe(self, state: DayState, *, position: np.ndarray | None = None) -> np.ndarray:
        if position is None:
            position = state.store_position
        # each entry in float64 (into a scratch array), then one cast to float32
        values = np.empty((state.batch_size, state.n_slots, 7))
        np.divide(state.store_on_hand, self.on_hand_scale, out=values[..., 0])
        np.divide(state.forecast, self.demand_scale, out=values[..., 1])
        uncertainty = np.sqrt(state.forecast_var, out=values[..., 2])
        np.divide(uncertainty, self.demand_scale, out=uncertainty)
        cover = np.divide(position, np.maximum(state.forecast, 1.0), out=values[..., 3])
        np.divide(cover, MAX_COVER_DAYS, out=cover)
        values[..., 4] = state.stockout_yesterday
        warehouse_ratio = state.warehouse_on_hand / self.warehouse_capacity  # (B, K)
        if self.n_skus == 1:
            values[..., 5] = warehouse_ratio
        else:
            values.reshape(state.batch_size, -1, self.n_skus, 7)[..., 5] = warehouse_ratio[:, None]
        values[..., 6] = state.recent_service
        return _clip_unit(values.astype(np.float32))

    def order_quantities(self, actions: np.ndarray, state: DayState) -> np.ndarray:
        """Units each slot orders for ``actions`` (B, N): multiplier x forecast, rounded."""
        return np.rint(STORE_ORDER_MULTIPLIERS[actions] * state.forecast).astype(np.int64)

    def action_masks(self, state: DayState, *, position: np.ndarray | None = None) -> np.ndarray:
        if position is None:
            position = state.store_position
        quantities = np.rint(STORE_ORDER_MULTIPLIERS * state.forecast[..., None])
        masks = quantities <= self.room(position)[..., None]
        masks[..., 0] = True
        return masks

    def rule_actions(self, state: DayState, *, position: np.ndarray | None = None) -> np.ndarray:
        """The seed's (s, S): when position <= s, the action closest to S - position."""
        if position is None:
            position = state.store_position
        options = np.rint(STORE_ORDER_MULTIPLIERS * state.forecast[..., None])
        infeasible = options > self.room(position)[..., None]  # not action_masks
        infeasible[..., 0] = False
        target = (self.order_up_to - position) * (position <= self.reorder_point)
        return _closest_option(target, options, infeasible)


class WarehouseRole(Role):
    """The warehouse of every copy: observations (B, 6 K); actions (B,) with one SKU and
    (B, K) with several; masks (B, 4 K)."""

    obs_dim = 6  # per SKU: ``observation_space`` has 6 K entries
    n_actions = 4  # per SKU
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
        params = chain_params(scenario)
        self.n_skus = k = params.n_skus
        self.capacity = params.warehouse_capacity
        #: (K, 4) units of each action, per SKU
        self.sku_quantities = params.warehouse_quantities
        self.quantities = self.sku_quantities[0] if k == 1 else self.sku_quantities
        self.reorder_point = params.warehouse_reorder_point  # (K,)
        self.order_up_to = params.warehouse_order_up_to  # (K,)
        self.store_capacity = np.repeat(params.store_capacity_floor, k)
        self.demand_scale = params.sku_demand_scale  # (K,)
        if k == 1:  # a float, as before SKUs (the same sum)
            self.demand_scale = params.total_demand_scale

    @property
    def observation_space(self) -> spaces.Box:
        return spaces.Box(0.0, 1.0, shape=(self.obs_dim * self.n_skus,), dtype=np.float32)

    @property
    def action_space(self) -> spaces.Discrete | spaces.MultiDiscrete:
        if self.n_skus == 1:
            return spaces.Discrete(self.n_actions)
        return spaces.MultiDiscrete([self.n_actions] * self.n_skus)

    def _per_sku(self, actions: np.ndarray) -> np.ndarray:
        """(B, K) actions or quantities as the role's outputs: (B,) with one SKU."""
        return actions[:, 0] if self.n_skus == 1 else actions

    def observe(self, state: DayState) -> np.ndarray:
        k = self.n_skus
        store_ratio = state.store_on_hand / self.store_capacity
        n_stores = state.n_slots // k
        values = np.empty((state.batch_size, k, 6))  # float64, cast once; means as sum / count
        np.divide(over_stores(state.forecast, k), self.demand_scale, out=values[..., 0])
        np.divide(state.warehouse_on_hand, self.capacity, out=values[..., 1])
        np.divide(pipeline_total(state.warehouse_pipeline), self.capacity, out=values[..., 2])
        np.divide(over_stores(store_ratio, k), n_stores, out=values[..., 3])
        if k == 1:
            np.minimum.reduce(store_ratio, axis=1, out=values[:, 0, 4])
        else:
            per_store = store_ratio.reshape(state.batch_size, -1, k)
            np.minimum.reduce(per_store, axis=1, out=values[..., 4])
        np.divide(over_stores(state.recent_service, k), n_stores, out=values[..., 5])
        return _clip_unit(values.reshape(state.batch_size, -1).astype(np.float32))

    def order_quantities(self, actions: np.ndarray, state: DayState | None = None) -> np.ndarray:
        """Units per SKU for ``actions``: (B,) -> (B,) with one SKU, (B, K) -> (B, K)."""
        if self.n_skus == 1:
            return self.quantities[actions]
        return np.take_along_axis(self.sku_quantities[None], actions[..., None], axis=2)[..., 0]

    def action_masks(self, state: DayState) -> np.ndarray:
        room = self.capacity - sku_total(state.warehouse_position)
        masks = self.sku_quantities[None, :, :] <= room[:, None, None]
        masks[..., 0] = True
        return masks.reshape(state.batch_size, -1)

    def rule_actions(self, state: DayState) -> np.ndarray:
        """The seed's (s, S) per SKU on its four order sizes: closest to S - position when
        the SKU's position is <= s (only quantities that fit the shared room)."""
        position = state.warehouse_position  # (B, K)
        room = self.capacity - sku_total(position)
        infeasible = self.sku_quantities[None, :, :] > room[:, None, None]
        infeasible[..., 0] = False
        target = (self.order_up_to - position) * (position <= self.reorder_point)
        return self._per_sku(_closest_option(target, self.sku_quantities, infeasible))


class SupplierRole(Role):
    """The supplier of every copy: observations (B, 3), actions (B,)."""

    obs_dim = 3
    n_actions = len(SUPPLIER_ACTIONS)
    obs_names = ("warehouse_order", "utilisation", "days_to_delivery")
    action_names = SUPPLIER_ACTIONS

    def __init__(self, scenario: Scenario) -> None:
        sup = scenario.supplier
        self.capacity = chain_params(scenario).supplier_capacity
        self.max_lead = float(max(sup.lead_time + 2 * sup.delay_days, 1))

    def observe(self, state: DayState) -> np.ndarray:
        obs = np.empty((state.batch_size, 3), dtype=np.float32)
        obs[:, 0] = sku_total(state.warehouse_last_order) / self.capacity
        obs[:, 1] = sku_total(state.supplier_last_shipped) / self.capacity
        obs[:, 2] = state.days_to_delivery / self.max_lead
        return _clip_unit(obs)

    def action_masks(self, state: DayState) -> np.ndarray:
        return np.ones((state.batch_size, self.n_actions), dtype=bool)

    def rule_actions(self, state: DayState) -> np.ndarray:
        """The seed's supplier: always fulfil in full."""
        return np.zeros(state.batch_size, dtype=np.int64)
