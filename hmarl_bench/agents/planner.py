"""The ``planner`` interface track: what a planner knows, and the levels a planner sets.

The ``seed`` track (:mod:`hmarl_bench.agents.roles`) is the seed system's interface: seven
store values, six warehouse values, order sizes as multiples of the forecast or fixed
quantities. This track gives each role what a strong rule uses, and an action that sets what
such a rule sets, on the same twin, reports and KPIs:

- observations add the day and the days left, the scenario's *nominal* demand profile
  (:func:`~hmarl_bench.twin.demand.mean_demand`, from the config, never realized demand)
  over the node's cover window, the inventory position, the pipeline by arrival day, and for
  the warehouse its echelon position (its on hand and pipeline plus every store's position);
- actions choose an order-up-to level on a grid (``Discrete``, masks for MaskablePPO): the
  order is the level minus the position, never negative.

Everything is read from the non-exogenous attributes of the state (the names a
``ChainView`` shares with :class:`~hmarl_bench.twin.state.TwinState`: on hands, pipelines,
forecast, forecast_var, recent_service, stockout_yesterday, warehouse_last_order,
supplier_last_shipped, days_to_delivery, day), never the episode's demand or lateness.

Store (per store-SKU slot; Ps = max(store lead time, 1), W = store lead time + 1)::

    0 on_hand            on hand / store capacity
    1 position           on hand + pipeline / store capacity
    2 forecast           smoothed demand / demand_scale_n
    3 uncertainty        smoothed forecast error std / demand_scale_n
    4 days_of_cover      position / forecast, divided by 30 days
    5 stockout_yesterday 1 if the slot lost sales yesterday
    6 recent_service     smoothed daily fill rate
    7 warehouse_ratio    warehouse on hand of the SKU / warehouse capacity
    8 day                day / episode_days
    9 days_left          (episode_days - day) / episode_days
    10 .. 10+Ps-1        pipeline arriving on day t + j, j = 0 .. Ps-1, / store capacity
    then W values        nominal demand of day t + j, j = 0 .. W-1, / demand_scale_n

Warehouse (per SKU, SKU-major; Pw = max(supplier lead time + 2 delay_days, 1), E = supplier
lead time + store lead time + 1, the echelon's cover window)::

    0 on_hand            warehouse on hand / capacity
    1 position           warehouse on hand + supplier pipeline / capacity
    2 echelon_position   position + every store's position / echelon_scale
    3 store_position     the stores' positions summed / their capacities summed
    4 aggregate_demand   the stores' forecasts summed / their demand scales summed
    5 min_store_inventory lowest store on hand / store capacity
    6 store_service      mean recent service level of the SKU's slots
    7 day, 8 days_left   as for the stores
    9 .. 9+Pw-1          supplier pipeline arriving on day t + j / capacity
    then E values        the chain's nominal demand of day t + j / aggregate demand scale

``echelon_scale`` is the warehouse capacity plus the stores' capacities. Every value is
float32, clipped into [0, 1]; days past the horizon have nominal demand 0.

Supplier: the seed's three values plus ``day`` and ``days_left``; its actions are the seed's.

Actions:

- store: ``Discrete(len(STORE_COVER_DAYS))``, the order-up-to level is ``c x forecast``
  units for ``c`` in :data:`STORE_COVER_DAYS` days of forecast cover;
- warehouse: ``Discrete(len(WAREHOUSE_COVER_DAYS))`` per SKU (``MultiDiscrete`` with
  several), an *echelon* order-up-to level of ``c`` days of the chain's nominal demand
  from today on (the profile's sum over days t .. t + c - 1, the last day's value repeated
  past the horizon), compared with the echelon position.

Masks: an action is infeasible when its order alone would lift the node's position
(summed over the SKUs that share its capacity) past the capacity, as on the seed track;
an action that orders nothing is always feasible. With ``horizon_mask`` (default on)
orders that can no longer reach a shelf before the episode ends are infeasible too (a store
order on day t lands on day t + store lead time; a warehouse order, on the nominal supplier
lead time, reaches a store shelf on day t + supplier lead time + store lead time), and the
role cuts such orders to 0 itself, so a policy without masks (PPO) meets the same limit,
as the twin's capacity cut does for capacities.

Rule policies on this track are the seed's (s, S) rules expressed on the grid: when the
position is at or below s, the feasible level whose order is closest to S - position
(the warehouse's on its own position, as the seed's rule does), else a level that orders
nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from hmarl_bench.agents.base import Role
from hmarl_bench.agents.roles import (
    MAX_COVER_DAYS,
    StoreRole,
    SupplierRole,
    _clip_unit,
    _closest_option,
)
from hmarl_bench.config import Scenario
from hmarl_bench.twin.params import chain_params
from hmarl_bench.twin.state import over_stores, pipeline_total, sku_total

__all__ = [
    "STORE_COVER_DAYS",
    "WAREHOUSE_COVER_DAYS",
    "PlannerStoreRole",
    "PlannerSupplierRole",
    "PlannerWarehouseRole",
    "pipeline_by_arrival",
]

#: Store order-up-to levels, in days of forecast cover (0: order nothing).
STORE_COVER_DAYS = np.array([0.0, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0, 8.0])
#: Warehouse echelon order-up-to levels, in days of the chain's nominal demand (0: none).
WAREHOUSE_COVER_DAYS = np.array([0, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 20, 24])


def pipeline_by_arrival(pipeline: np.ndarray, day: int) -> np.ndarray:
    """A ring-buffer pipeline (..., P) reordered so that index j arrives on day ``day + j``.

    The twin keeps what lands on day d in slot ``d % P`` (:mod:`hmarl_bench.twin.state`); at
    the start of day t, slot ``t % P`` is this morning's arrival.
    """
    slots = pipeline.shape[-1]
    return np.take(pipeline, (day + np.arange(slots)) % slots, axis=-1)


def _profile_window(profile: np.ndarray, day: int, width: int) -> np.ndarray:
    """Rows ``day .. day + width - 1`` of a (T, X) profile, zero past the horizon: (width, X)."""
    window = np.zeros((width, profile.shape[1]))
    rows = profile[day : day + width]
    window[: len(rows)] = rows
    return window


def _time_features(day: int, horizon: int) -> tuple[float, float]:
    return day / horizon, (horizon - day) / horizon


class PlannerStoreRole(Role):
    """Every store-SKU slot of every copy on the planner track: observations (B, N, d),
    actions (B, N) on :data:`STORE_COVER_DAYS` (see the module docstring)."""

    n_actions = len(STORE_COVER_DAYS)
    action_names = tuple(f"cover_{c:g}d" for c in STORE_COVER_DAYS)

    def __init__(self, scenario: Scenario, horizon_mask: bool = True) -> None:
        self.scenario = scenario
        self.horizon_mask = horizon_mask
        params = chain_params(scenario)
        self.n_skus = params.n_skus
        self.horizon = params.horizon
        self.lead_time = scenario.warehouse.lead_time
        self.pipeline_len = max(self.lead_time, 1)
        self.window = self.lead_time + 1
        self.store_capacity = params.store_capacity
        self.capacity = params.slot_capacity
        self.on_hand_scale = np.maximum(self.capacity, 1.0)
        self.profile = params.profile  # (T, N): the config's nominal demand
        self.demand_scale = params.slot_demand_scale
        self.warehouse_capacity = params.warehouse_capacity
        self.reorder_point = params.store_reorder_point
        self.order_up_to = params.store_order_up_to
        self.obs_dim = 10 + self.pipeline_len + self.window
        self.obs_names = (
            "on_hand",
            "position",
            "forecast",
            "uncertainty",
            "days_of_cover",
            "stockout_yesterday",
            "recent_service",
            "warehouse_ratio",
            "day",
            "days_left",
            *(f"pipeline_t+{j}" for j in range(self.pipeline_len)),
            *(f"nominal_demand_t+{j}" for j in range(self.window)),
        )

    #: (B, N) room under each slot's store capacity (shared by the store's SKUs): the seed
    #: track's own function (it reads ``n_skus``, ``capacity`` and ``store_capacity``).
    room = StoreRole.room

    def observe(self, state: Any, *, position: np.ndarray | None = None) -> np.ndarray:
        if position is None:
            position = state.store_on_hand + pipeline_total(state.store_pipeline)
        batch, n = state.store_on_hand.shape
        values = np.empty((batch, n, self.obs_dim))
        values[..., 0] = state.store_on_hand / self.on_hand_scale
        values[..., 1] = position / self.on_hand_scale
        values[..., 2] = state.forecast / self.demand_scale
        values[..., 3] = np.sqrt(state.forecast_var) / self.demand_scale
        values[..., 4] = position / np.maximum(state.forecast, 1.0) / MAX_COVER_DAYS
        values[..., 5] = state.stockout_yesterday
        values[..., 6] = state.recent_service
        ratio = state.warehouse_on_hand / self.warehouse_capacity  # (B, K)
        values[..., 7] = np.tile(ratio, (1, n // self.n_skus))  # slot s K + k: SKU k
        values[..., 8], values[..., 9] = _time_features(state.day, self.horizon)
        end = 10 + self.pipeline_len
        arriving = pipeline_by_arrival(state.store_pipeline, state.day)
        values[..., 10:end] = arriving / self.on_hand_scale[:, None]
        window = _profile_window(self.profile, state.day, self.window)  # (W, N)
        values[..., end:] = (window / self.demand_scale).T[None]
        return _clip_unit(values.astype(np.float32))

    def levels(self, state: Any) -> np.ndarray:
        """(B, N, A) the order-up-to level of every action, in units."""
        return STORE_COVER_DAYS * state.forecast[..., None]

    def _options(self, state: Any, position: np.ndarray) -> np.ndarray:
        """(B, N, A) units each action orders: level minus position, at least 0."""
        return np.maximum(np.rint(self.levels(state) - position[..., None]), 0.0)

    def _past_horizon(self, state: Any) -> bool:
        return self.horizon_mask and state.day + self.lead_time >= self.horizon

    def order_quantities(self, actions: np.ndarray, state: Any) -> np.ndarray:
        """Units each slot orders for ``actions`` (B, N): level - position, >= 0 (0 past the
        horizon with ``horizon_mask``)."""
        if self._past_horizon(state):
            return np.zeros(actions.shape, dtype=np.int64)
        position = state.store_on_hand + pipeline_total(state.store_pipeline)
        level = STORE_COVER_DAYS[actions] * state.forecast
        return np.maximum(np.rint(level - position), 0.0).astype(np.int64)

    def _infeasible(self, state: Any, position: np.ndarray, options: np.ndarray) -> np.ndarray:
        infeasible = options > self.room(position)[..., None]
        if self._past_horizon(state):
            infeasible |= options > 0
        infeasible[options == 0] = False
        return infeasible

    def action_masks(self, state: Any, *, position: np.ndarray | None = None) -> np.ndarray:
        if position is None:
            position = state.store_on_hand + pipeline_total(state.store_pipeline)
        return ~self._infeasible(state, position, self._options(state, position))

    def rule_actions(self, state: Any, *, position: np.ndarray | None = None) -> np.ndarray:
        """The seed's (s, S) on the grid: the feasible level closest to S - position."""
        if position is None:
            position = state.store_on_hand + pipeline_total(state.store_pipeline)
        options = self._options(state, position)
        target = (self.order_up_to - position) * (position <= self.reorder_point)
        return _closest_option(target, options, self._infeasible(state, position, options))


class PlannerWarehouseRole(Role):
    """The warehouse of every copy on the planner track: observations (B, d K), actions
    (B,) with one SKU and (B, K) with several on :data:`WAREHOUSE_COVER_DAYS`."""

    n_actions = len(WAREHOUSE_COVER_DAYS)
    action_names = tuple(f"echelon_{c}d" for c in WAREHOUSE_COVER_DAYS)

    def __init__(self, scenario: Scenario, horizon_mask: bool = True) -> None:
        self.scenario = scenario
        self.horizon_mask = horizon_mask
        params = chain_params(scenario)
        self.n_skus = k = params.n_skus
        self.horizon = params.horizon
        wh, sup = scenario.warehouse, scenario.supplier
        self.capacity = params.warehouse_capacity
        self.store_lead_time = wh.lead_time
        self.supplier_lead_time = sup.lead_time
        self.pipeline_len = max(sup.lead_time + 2 * sup.delay_days, 1)
        self.window = sup.lead_time + wh.lead_time + 1
        store_capacity = params.store_capacity_floor
        self.store_capacity = np.repeat(store_capacity, k)  # (N,)
        self.echelon_scale = self.capacity + float(store_capacity.sum())
        self.store_capacity_total = float(store_capacity.sum())
        self.chain_profile = params.chain_profile  # (T, K)
        self.demand_scale = params.sku_demand_scale  # (K,)
        self.reorder_point = params.warehouse_reorder_point
        self.order_up_to = params.warehouse_order_up_to
        self._level_table = self._levels_by_day()
        self.obs_dim = 9 + self.pipeline_len + self.window
        self.obs_names = (
            "on_hand",
            "position",
            "echelon_position",
            "store_position",
            "aggregate_demand",
            "min_store_inventory",
            "store_service",
            "day",
            "days_left",
            *(f"pipeline_t+{j}" for j in range(self.pipeline_len)),
            *(f"chain_nominal_demand_t+{j}" for j in range(self.window)),
        )

    def _levels_by_day(self) -> np.ndarray:
        """(T, A, K) echelon levels: the chain's nominal demand over days t .. t + c - 1,
        the last day's value repeated past the horizon (levels do not shrink by themselves
        near the end: the horizon mask does that)."""
        longest = int(WAREHOUSE_COVER_DAYS.max())
        padded = np.concatenate(
            [self.chain_profile, np.repeat(self.chain_profile[-1:], longest, axis=0)]
        )
        cumulative = np.concatenate([np.zeros((1, self.n_skus)), np.cumsum(padded, axis=0)])
        days = np.arange(self.horizon)[:, None] + WAREHOUSE_COVER_DAYS[None, :]  # (T, A)
        return cumulative[days] - cumulative[np.arange(self.horizon)][:, None, :]

    @property
    def observation_space(self) -> spaces.Box:
        return spaces.Box(0.0, 1.0, shape=(self.obs_dim * self.n_skus,), dtype=np.float32)

    @property
    def action_space(self) -> spaces.Discrete | spaces.MultiDiscrete:
        if self.n_skus == 1:
            return spaces.Discrete(self.n_actions)
        return spaces.MultiDiscrete([self.n_actions] * self.n_skus)

    def echelon_position(self, state: Any) -> np.ndarray:
        """(B, K) the warehouse's on hand and pipeline plus every store's position."""
        stores = over_stores(
            state.store_on_hand + pipeline_total(state.store_pipeline), self.n_skus
        )
        return state.warehouse_on_hand + pipeline_total(state.warehouse_pipeline) + stores

    def observe(self, state: Any) -> np.ndarray:
        k = self.n_skus
        batch = state.warehouse_on_hand.shape[0]
        store_position = state.store_on_hand + pipeline_total(state.store_pipeline)
        store_ratio = state.store_on_hand / self.store_capacity
        n_stores = state.store_on_hand.shape[1] // k
        position = state.warehouse_on_hand + pipeline_total(state.warehouse_pipeline)
        values = np.empty((batch, k, self.obs_dim))
        values[..., 0] = state.warehouse_on_hand / self.capacity
        values[..., 1] = position / self.capacity
        values[..., 2] = (position + over_stores(store_position, k)) / self.echelon_scale
        values[..., 3] = over_stores(store_position, k) / self.store_capacity_total
        values[..., 4] = over_stores(state.forecast, k) / self.demand_scale
        values[..., 5] = store_ratio.reshape(batch, -1, k).min(axis=1)
        values[..., 6] = over_stores(state.recent_service, k) / n_stores
        values[..., 7], values[..., 8] = _time_features(state.day, self.horizon)
        end = 9 + self.pipeline_len
        arriving = pipeline_by_arrival(state.warehouse_pipeline, state.day)
        values[..., 9:end] = arriving / self.capacity
        window = _profile_window(self.chain_profile, state.day, self.window)  # (E, K)
        values[..., end:] = (window / self.demand_scale).T[None]
        return _clip_unit(values.reshape(batch, -1).astype(np.float32))

    def _options(self, state: Any) -> np.ndarray:
        """(B, K, A) units each action orders: echelon level minus echelon position, >= 0."""
        levels = self._level_table[min(state.day, self.horizon - 1)].T  # (K, A)
        gap = levels[None] - self.echelon_position(state)[..., None]
        return np.maximum(np.rint(gap), 0.0)

    def _past_horizon(self, state: Any) -> bool:
        lead = self.supplier_lead_time + self.store_lead_time
        return self.horizon_mask and state.day + lead >= self.horizon

    def _per_sku(self, actions: np.ndarray) -> np.ndarray:
        return actions[:, 0] if self.n_skus == 1 else actions

    def order_quantities(self, actions: np.ndarray, state: Any) -> np.ndarray:
        """Units per SKU: (B,) -> (B,) with one SKU, (B, K) -> (B, K)."""
        actions = np.asarray(actions).reshape(-1, self.n_skus)
        options = self._options(state)
        chosen = np.take_along_axis(options, actions[..., None], axis=2)[..., 0]
        if self._past_horizon(state):
            chosen = np.zeros_like(chosen)
        return self._per_sku(chosen.astype(np.int64))

    def _infeasible(self, state: Any, options: np.ndarray) -> np.ndarray:
        position = state.warehouse_on_hand + pipeline_total(state.warehouse_pipeline)
        room = self.capacity - sku_total(position)
        infeasible = options > room[:, None, None]
        if self._past_horizon(state):
            infeasible |= options > 0
        infeasible[options == 0] = False
        return infeasible

    def action_masks(self, state: Any) -> np.ndarray:
        options = self._options(state)
        return ~self._infeasible(state, options).reshape(options.shape[0], -1)

    def rule_actions(self, state: Any) -> np.ndarray:
        """The seed's warehouse (s, S) on the grid: when the warehouse's own position is at
        or below s, the feasible level whose order is closest to S - position."""
        options = self._options(state)
        position = state.warehouse_on_hand + pipeline_total(state.warehouse_pipeline)
        target = (self.order_up_to - position) * (position <= self.reorder_point)
        return self._per_sku(_closest_option(target, options, self._infeasible(state, options)))


class PlannerSupplierRole(SupplierRole):
    """The supplier on the planner track: the seed's observation plus day and days left."""

    obs_dim = 5
    obs_names = (*SupplierRole.obs_names, "day", "days_left")

    def __init__(self, scenario: Scenario) -> None:
        super().__init__(scenario)
        self.horizon = scenario.episode_days

    def observe(self, state: Any) -> np.ndarray:
        seed = super().observe(state)
        obs = np.empty((seed.shape[0], 5), dtype=np.float32)
        obs[:, :3] = seed
        obs[:, 3], obs[:, 4] = _time_features(state.day, self.horizon)
        return obs
