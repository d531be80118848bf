"""The suite's original rule baselines: the seed's (s, S), order-up-to, fixed forecast, random.

Every policy is a :class:`~hmarl_bench.evaluation.ChainController`: ``reset(scenario,
batch_size)`` then ``decide(view) -> (store order units (B, N), warehouse order units (B,)
or (B, K), supplier action (B,))``, vectorized over the B copies and N store-SKU slots,
reading only the day's :class:`~hmarl_bench.twin.view.ChainView`. Unless a class says
otherwise the warehouse follows the seed's (s, S) rule on its four order sizes
(:meth:`WarehouseRole.rule_actions`) and the supplier always fulfils in full (action 0).

Two families of store rules:

- ``...Actions``: the rule acts *through the store's own four actions* (order 0, 0.5, 1.0
  or 1.5 x forecast, masked to what fits under capacity), as a learning agent must. These are
  the fair comparison for an RL store policy.
- ``...Free``: the same rule with *free order quantities* (any whole number of units), and a
  free (s, S) warehouse: what an operations team would deploy.

All levels (reorder points ``s``, order-up-to levels ``S``) are inventory positions in units
(on hand plus pipeline) measured at the start of the day, as the twin's capacity caps are.
An order larger than the room left under a node's capacity is cut by the twin.

With several SKUs every rule runs per store-SKU slot (store levels are one value per slot,
slot order ``s * K + k``) and, for the free warehouse, per SKU (one level per SKU); the
capacities the SKUs share cut what does not fit (pro rata, in the twin).

Levels may also be given per copy (a leading batch axis, see
:func:`~hmarl_bench.baselines.levels.per_copy`): :func:`~hmarl_bench.baselines.grid.tune`
scores a whole grid in one batched pass that way.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from hmarl_bench.agents.roles import (
    STORE_ORDER_MULTIPLIERS,
    StoreRole,
    WarehouseRole,
    _closest_feasible,
)
from hmarl_bench.baselines.levels import (
    base_stock_levels,
    days_of_demand,
    per_copy,
    warehouse_levels,
)
from hmarl_bench.config import Scenario
from hmarl_bench.twin import ChainView

__all__ = [
    "SS_DAYS",
    "WAREHOUSE_ORDER_UP_TO_DAYS",
    "Z_GRID",
    "FixedForecastActions",
    "OrderUpToActions",
    "OrderUpToFree",
    "RandomPolicy",
    "SeedSSActions",
    "SeedSSFree",
]

#: Safety factors z searched by the tuned order-up-to policies.
Z_GRID = tuple(np.round(np.arange(-0.5, 3.0 + 1e-9, 0.25), 2))
#: Store (s, S) searched by the tuned (s, S) policies, in days of nominal demand.
#: Pairs (s, S) with s in 2..6 days and S - s in 1, 2, 4 or 8 days.
SS_DAYS = tuple(
    (low, low + gap)
    for low, gap in itertools.product((2.0, 3.0, 4.0, 5.0, 6.0), (1.0, 2.0, 4.0, 8.0))
)
#: Warehouse order-up-to levels searched by the tuned Free policies, in days of nominal
#: chain demand; the warehouse reorders when its position is a day's demand below it.
WAREHOUSE_ORDER_UP_TO_DAYS = (7.0, 8.0, 9.0, 10.0, 12.0)


def _or_default(value: Any, default: Any, n_skus: int, batch_size: int, name: str) -> Any:
    """A warehouse level: an int with one SKU, an int64 array of K levels with several, or
    one level per copy ((B, 1) or (B, K))."""
    if value is None:
        return default
    if np.ndim(value) == 0:
        return int(value)
    shape = () if n_skus == 1 else (n_skus,)
    return per_copy(value, shape, batch_size, name).astype(np.int64)


def _as_levels(values: Any, default: np.ndarray, batch_size: int, name: str) -> np.ndarray:
    """Store levels: one per slot (N,), or one per copy and slot (B, N); int64 units."""
    if values is None:
        return np.asarray(default, dtype=np.int64)
    levels = np.asarray(values)
    if levels.ndim == 1 and levels.shape != (len(default),):
        raise ValueError(f"expected one level per store ({len(default)}), got {levels.tolist()}")
    return per_copy(levels, (len(default),), batch_size, name).astype(np.int64)


class _RuleChain:
    """Shared plumbing: roles built at reset, the seed warehouse, a fulfilling supplier.

    Subclasses implement :meth:`store_orders`; Free variants override
    :meth:`warehouse_order`.
    """

    def reset(self, scenario: Scenario, batch_size: int) -> None:
        self.scenario = scenario
        self.batch_size = batch_size
        self.store_role = StoreRole(scenario)
        self.warehouse_role = WarehouseRole(scenario)

    def store_orders(self, view: ChainView) -> np.ndarray:
        """Units (B, S) int64 each store requests from the warehouse."""
        raise NotImplementedError

    def warehouse_order(self, view: ChainView) -> np.ndarray:
        """Units (B,) int64: the seed's (s, S) rule on the warehouse's four order sizes."""
        return self.warehouse_role.order_quantities(self.warehouse_role.rule_actions(view))

    def decide(self, view: ChainView) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (
            self.store_orders(view),
            self.warehouse_order(view),
            np.zeros(view.batch_size, dtype=np.int64),
        )

    def _action_options(self, view: ChainView) -> np.ndarray:
        """(B, S, 4) units each store action would order (the role's rounding)."""
        return np.rint(STORE_ORDER_MULTIPLIERS * view.forecast[..., None])


class _FreeWarehouse(_RuleChain):
    """A free-quantity (s, S) warehouse: order ``S_w - position`` when position <= ``s_w``
    (per SKU, with one level per SKU, when there are several)."""

    def __init__(
        self,
        warehouse_reorder_point: int | Sequence[int] | None = None,
        warehouse_order_up_to: int | Sequence[int] | None = None,
    ) -> None:
        self.warehouse_reorder_point = warehouse_reorder_point
        self.warehouse_order_up_to = warehouse_order_up_to

    def reset(self, scenario: Scenario, batch_size: int) -> None:
        super().reset(scenario, batch_size)
        wh, role, k = scenario.warehouse, self.warehouse_role, scenario.n_skus
        one = k == 1  # levels per SKU (the scenario's, scaled) otherwise
        self._wh_s = _or_default(
            self.warehouse_reorder_point,
            wh.reorder_point if one else role.reorder_point,
            k,
            batch_size,
            "warehouse_reorder_point",
        )
        self._wh_S = _or_default(
            self.warehouse_order_up_to,
            wh.order_up_to if one else role.order_up_to,
            k,
            batch_size,
            "warehouse_order_up_to",
        )

    def warehouse_order(self, view: ChainView) -> np.ndarray:
        position = view.warehouse_position
        return np.where(position <= self._wh_s, self._wh_S - position, 0).astype(np.int64)


class RandomPolicy(_RuleChain):
    """Stores pick uniformly at random among their *feasible* actions (masks), each day.

    Draws from its own ``np.random.Generator`` seeded with ``seed`` at every :meth:`reset`,
    so a run is reproducible and never touches the twin's demand streams. Warehouse: the
    seed's (s, S) on its four sizes; supplier: fulfil.
    """

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def reset(self, scenario: Scenario, batch_size: int) -> None:
        super().reset(scenario, batch_size)
        self.rng = np.random.default_rng(self.seed)

    def store_orders(self, view: ChainView) -> np.ndarray:
        masks = self.store_role.action_masks(view)
        keys = self.rng.random(masks.shape)  # uniform keys: the argmax is a uniform pick
        keys[~masks] = -1.0
        return self.store_role.order_quantities(keys.argmax(axis=-1), view)


class SeedSSActions(_RuleChain):
    """The seed's (s, S) per store, through the store's four actions.

    When a store's inventory position (units) is at or below ``reorder_point`` it takes the
    feasible action whose quantity is closest to ``order_up_to - position``; else action 0.
    ``None`` levels are the scenario's (then this equals ``RoleController()``). Reuses
    :meth:`StoreRole.rule_actions`, with the levels set on the role.
    """

    def __init__(
        self, reorder_point: Sequence[int] | None = None, order_up_to: Sequence[int] | None = None
    ) -> None:
        self.reorder_point = reorder_point
        self.order_up_to = order_up_to

    def reset(self, scenario: Scenario, batch_size: int) -> None:
        super().reset(scenario, batch_size)
        role = self.store_role
        role.reorder_point = _as_levels(
            self.reorder_point, role.reorder_point, batch_size, "reorder_point"
        )
        role.order_up_to = _as_levels(self.order_up_to, role.order_up_to, batch_size, "order_up_to")

    def store_orders(self, view: ChainView) -> np.ndarray:
        return self.store_role.order_quantities(self.store_role.rule_actions(view), view)

    @classmethod
    def tuning_grid(cls, scenario: Scenario) -> list[dict[str, Any]]:
        """The seed levels, then (s, S) in days of nominal demand (:data:`SS_DAYS`)."""
        return [{}, *_ss_grid(scenario)]


class OrderUpToActions(_RuleChain):
    """Order-up-to ``S`` per store every day, through the store's four actions.

    Takes the feasible action whose quantity is closest to ``max(S - position, 0)`` units
    (ties: the smaller action). ``order_up_to`` (units, one per store) defaults to the
    scenario's seed ``order_up_to``.
    """

    def __init__(self, order_up_to: Sequence[int] | None = None) -> None:
        self.order_up_to = order_up_to

    def reset(self, scenario: Scenario, batch_size: int) -> None:
        super().reset(scenario, batch_size)
        self._levels = _as_levels(
            self.order_up_to, self.store_role.order_up_to, batch_size, "order_up_to"
        )

    def store_orders(self, view: ChainView) -> np.ndarray:
        target = np.maximum(self._levels - view.store_position, 0)
        masks = self.store_role.action_masks(view)
        actions = _closest_feasible(target, self._action_options(view), masks)
        return self.store_role.order_quantities(actions, view)

    @classmethod
    def tuning_grid(cls, scenario: Scenario) -> list[dict[str, Any]]:
        """The seed levels, then :func:`base_stock_levels` for each z in :data:`Z_GRID`."""
        return [{}, *_base_stock_grid(scenario)]


class FixedForecastActions(_RuleChain):
    """Every store orders 1.0 x its forecast every day (action 2), masked to feasible.

    When action 2 does not fit under capacity, the feasible action closest to it in units
    is taken (0 is always feasible).
    """

    def store_orders(self, view: ChainView) -> np.ndarray:
        options = self._action_options(view)
        actions = _closest_feasible(options[..., 2], options, self.store_role.action_masks(view))
        return self.store_role.order_quantities(actions, view)


class SeedSSFree(_FreeWarehouse):
    """(s, S) per store with free quantities, and a free (s, S) warehouse.

    A store orders ``order_up_to - position`` units when its position is at or below
    ``reorder_point``, else 0; the warehouse orders ``warehouse_order_up_to - position``
    when its position is at or below ``warehouse_reorder_point``. ``None`` levels are the
    scenario's seed levels.
    """

    def __init__(
        self,
        reorder_point: Sequence[int] | None = None,
        order_up_to: Sequence[int] | None = None,
        warehouse_reorder_point: int | None = None,
        warehouse_order_up_to: int | None = None,
    ) -> None:
        super().__init__(warehouse_reorder_point, warehouse_order_up_to)
        self.reorder_point = reorder_point
        self.order_up_to = order_up_to

    def reset(self, scenario: Scenario, batch_size: int) -> None:
        super().reset(scenario, batch_size)
        self._s = _as_levels(
            self.reorder_point, self.store_role.reorder_point, batch_size, "reorder_point"
        )
        self._S = _as_levels(
            self.order_up_to, self.store_role.order_up_to, batch_size, "order_up_to"
        )

    def store_orders(self, view: ChainView) -> np.ndarray:
        position = view.store_position
        return np.where(position <= self._s, self._S - position, 0).astype(np.int64)

    @classmethod
    def tuning_grid(cls, scenario: Scenario) -> list[dict[str, Any]]:
        """The seed levels, then store (s, S) x warehouse levels (days of demand)."""
        return [{}, *_with_warehouse(scenario, _ss_grid(scenario))]


class OrderUpToFree(_FreeWarehouse):
    """Order-up-to with free quantities: each store orders ``max(S - position, 0)`` daily.

    ``order_up_to`` (units, one per store) defaults to the scenario's seed levels; the
    warehouse is the free (s, S) of :class:`SeedSSFree`.
    """

    def __init__(
        self,
        order_up_to: Sequence[int] | None = None,
        warehouse_reorder_point: int | None = None,
        warehouse_order_up_to: int | None = None,
    ) -> None:
        super().__init__(warehouse_reorder_point, warehouse_order_up_to)
        self.order_up_to = order_up_to

    def reset(self, scenario: Scenario, batch_size: int) -> None:
        super().reset(scenario, batch_size)
        self._S = _as_levels(
            self.order_up_to, self.store_role.order_up_to, batch_size, "order_up_to"
        )

    def store_orders(self, view: ChainView) -> np.ndarray:
        return np.maximum(self._S - view.store_position, 0).astype(np.int64)

    @classmethod
    def tuning_grid(cls, scenario: Scenario) -> list[dict[str, Any]]:
        """The seed levels, then base-stock levels (z) x warehouse levels (days of demand)."""
        return [{}, *_with_warehouse(scenario, _base_stock_grid(scenario))]


# --------------------------------------------------------------------------- grids


def _base_stock_grid(scenario: Scenario) -> list[dict[str, Any]]:
    return _unique([{"order_up_to": base_stock_levels(scenario, z)} for z in Z_GRID])


def _ss_grid(scenario: Scenario) -> list[dict[str, Any]]:
    return _unique(
        [
            {
                "reorder_point": days_of_demand(scenario, low),
                "order_up_to": days_of_demand(scenario, high),
            }
            for low, high in SS_DAYS
        ]
    )


def _with_warehouse(scenario: Scenario, stores: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return _unique(
        [
            {**store, **warehouse_levels(scenario, days)}
            for store, days in itertools.product(stores, WAREHOUSE_ORDER_UP_TO_DAYS)
        ]
    )


def _unique(grid: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop repeated candidates (levels can coincide after rounding and clipping)."""
    seen: set[tuple] = set()
    out = []
    for params in grid:
        key = tuple(sorted(params.items()))
        if key not in seen:
            seen.add(key)
            out.append(params)
    return out
