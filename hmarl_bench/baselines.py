"""Rule-based baselines for the whole chain, and the grid search that tunes them.

Every policy is a :class:`~hmarl_bench.evaluation.ChainController`: ``reset(twin)`` then
``decide(state) -> (store order units (B, S), warehouse order units (B,), supplier action
(B,))``, vectorized over the B copies and S stores. Unless a class says otherwise the
warehouse follows the seed's (s, S) rule on its four order sizes
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

Tuned variants search their levels with :func:`tune` on *training* seeds only: a grid of
constructor keyword arguments, each scored by the mean ``total_cost`` of
:func:`~hmarl_bench.evaluation.evaluate` on the given seeds (one batched pass per
candidate). Each default grid starts with the untuned levels, so a tuned policy is never
worse than its untuned rule on the tuning seeds.

:data:`BASELINES` maps stable names to constructors ``(scenario, tuning_seeds, seed) ->
ChainController``; :func:`make_baseline` builds one by name.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from hmarl_bench import evaluation
from hmarl_bench.agents.roles import (
    STORE_ORDER_MULTIPLIERS,
    StoreRole,
    WarehouseRole,
    _closest_feasible,
)
from hmarl_bench.config import Scenario, load_scenario
from hmarl_bench.evaluation import ChainController
from hmarl_bench.twin import DigitalTwin, TwinState
from hmarl_bench.twin.demand import slot_multipliers

__all__ = [
    "BASELINES",
    "FixedForecastActions",
    "OrderUpToActions",
    "OrderUpToFree",
    "RandomPolicy",
    "SeedSSActions",
    "SeedSSFree",
    "base_stock_levels",
    "make_baseline",
    "nominal_demand",
    "tune",
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


# --------------------------------------------------------------------------- levels


def nominal_demand(scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """Each slot's nominal daily demand mean and std (N,), in units/day (per store, (S,),
    with one SKU).

    ``base_mean x demand_multiplier x demand_scale`` (no seasonality or spikes); the std is
    the scenario's coefficient of variation times that mean (the square root of the mean
    for Poisson).
    """
    mu = scenario.demand.base_mean * slot_multipliers(scenario)
    if scenario.demand.distribution == "poisson":
        return mu, np.sqrt(mu)
    cv = scenario.demand.std / scenario.demand.base_mean if scenario.demand.base_mean > 0 else 0
    return mu, cv * mu


def base_stock_levels(scenario: Scenario, z: float) -> tuple[int, ...]:
    """Forecast-free order-up-to levels per store (per slot), in units of inventory position.

    ``S_s = round(mu_s (L + 1) + z sigma_s sqrt(L + 1))`` with ``mu_s``, ``sigma_s`` the
    store's (slot's) nominal daily mean and std and ``L`` the warehouse-to-store lead time:
    the demand over the lead time plus the one-day review period, with ``z`` safety stocks.
    Clipped to ``[0, capacity]`` (the store's capacity, which its SKUs share).
    """
    mu, sigma = nominal_demand(scenario)
    cover = scenario.warehouse.lead_time + 1
    levels = np.rint(mu * cover + z * sigma * np.sqrt(cover))
    return tuple(int(v) for v in np.clip(levels, 0, _slot_capacity(scenario)))


def _slot_capacity(scenario: Scenario) -> np.ndarray:
    """(N,) the capacity of each slot's store."""
    return np.repeat(np.array([s.capacity for s in scenario.stores]), scenario.n_skus)


def _days_of_demand(scenario: Scenario, days: float) -> tuple[int, ...]:
    """``days`` of each slot's nominal demand (units), clipped to its store's capacity."""
    mu, _ = nominal_demand(scenario)
    return tuple(int(v) for v in np.clip(np.rint(days * mu), 0, _slot_capacity(scenario)))


def _warehouse_levels(scenario: Scenario, days: float) -> dict[str, Any]:
    """Warehouse (s, S) keyword arguments: S = ``days`` of chain demand, s = S - one day.

    Per SKU with several SKUs (tuples of K levels, each at most the shared capacity).
    """
    mu, _ = nominal_demand(scenario)
    if scenario.n_skus == 1:
        chains = [float(mu.sum())]
    else:
        chains = [float(v) for v in mu.reshape(-1, scenario.n_skus).sum(axis=0)]
    order_up_to = [int(min(round(days * c), scenario.warehouse.capacity)) for c in chains]
    reorder = [max(level - int(round(c)), 0) for level, c in zip(order_up_to, chains, strict=True)]
    if scenario.n_skus == 1:
        return {"warehouse_reorder_point": reorder[0], "warehouse_order_up_to": order_up_to[0]}
    return {"warehouse_reorder_point": tuple(reorder), "warehouse_order_up_to": tuple(order_up_to)}


def _or_default(value: Any, default: Any) -> Any:
    """A warehouse level: an int with one SKU, an int64 array of K levels with several."""
    if value is None:
        return default
    return int(value) if np.ndim(value) == 0 else np.asarray(value, dtype=np.int64)


def _as_levels(values: Sequence[int] | None, default: Sequence[int]) -> np.ndarray:
    levels = np.asarray(default if values is None else values, dtype=np.int64)
    if levels.shape != (len(default),):
        raise ValueError(f"expected one level per store ({len(default)}), got {levels.tolist()}")
    return levels


# --------------------------------------------------------------------------- policies


class _RuleChain:
    """Shared plumbing: roles built at reset, the seed warehouse, a fulfilling supplier.

    Subclasses implement :meth:`store_orders`; Free variants override
    :meth:`warehouse_order`.
    """

    def reset(self, twin: DigitalTwin) -> None:
        self.scenario = twin.scenario
        self.store_role = StoreRole(twin.scenario)
        self.warehouse_role = WarehouseRole(twin.scenario)

    def store_orders(self, state: TwinState) -> np.ndarray:
        """Units (B, S) int64 each store requests from the warehouse."""
        raise NotImplementedError

    def warehouse_order(self, state: TwinState) -> np.ndarray:
        """Units (B,) int64: the seed's (s, S) rule on the warehouse's four order sizes."""
        return self.warehouse_role.order_quantities(self.warehouse_role.rule_actions(state))

    def decide(self, state: TwinState) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (
            self.store_orders(state),
            self.warehouse_order(state),
            np.zeros(state.batch_size, dtype=np.int64),
        )

    def _action_options(self, state: TwinState) -> np.ndarray:
        """(B, S, 4) units each store action would order (the role's rounding)."""
        return np.rint(STORE_ORDER_MULTIPLIERS * state.forecast[..., None])


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

    def reset(self, twin: DigitalTwin) -> None:
        super().reset(twin)
        wh, role = twin.scenario.warehouse, self.warehouse_role
        one = twin.scenario.n_skus == 1  # levels per SKU (the scenario's, scaled) otherwise
        self._wh_s = _or_default(
            self.warehouse_reorder_point, wh.reorder_point if one else role.reorder_point
        )
        self._wh_S = _or_default(
            self.warehouse_order_up_to, wh.order_up_to if one else role.order_up_to
        )

    def warehouse_order(self, state: TwinState) -> np.ndarray:
        position = state.warehouse_position
        return np.where(position <= self._wh_s, self._wh_S - position, 0).astype(np.int64)


class RandomPolicy(_RuleChain):
    """Stores pick uniformly at random among their *feasible* actions (masks), each day.

    Draws from its own ``np.random.Generator`` seeded with ``seed`` at every :meth:`reset`,
    so a run is reproducible and never touches the twin's demand streams. Warehouse: the
    seed's (s, S) on its four sizes; supplier: fulfil.
    """

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def reset(self, twin: DigitalTwin) -> None:
        super().reset(twin)
        self.rng = np.random.default_rng(self.seed)

    def store_orders(self, state: TwinState) -> np.ndarray:
        masks = self.store_role.action_masks(state)
        keys = self.rng.random(masks.shape)  # uniform keys: the argmax is a uniform pick
        keys[~masks] = -1.0
        return self.store_role.order_quantities(keys.argmax(axis=-1), state)


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

    def reset(self, twin: DigitalTwin) -> None:
        super().reset(twin)
        role = self.store_role
        role.reorder_point = _as_levels(self.reorder_point, role.reorder_point)
        role.order_up_to = _as_levels(self.order_up_to, role.order_up_to)

    def store_orders(self, state: TwinState) -> np.ndarray:
        return self.store_role.order_quantities(self.store_role.rule_actions(state), state)

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

    def reset(self, twin: DigitalTwin) -> None:
        super().reset(twin)
        self._levels = _as_levels(self.order_up_to, self.store_role.order_up_to)

    def store_orders(self, state: TwinState) -> np.ndarray:
        target = np.maximum(self._levels - state.store_position, 0)
        masks = self.store_role.action_masks(state)
        actions = _closest_feasible(target, self._action_options(state), masks)
        return self.store_role.order_quantities(actions, state)

    @classmethod
    def tuning_grid(cls, scenario: Scenario) -> list[dict[str, Any]]:
        """The seed levels, then :func:`base_stock_levels` for each z in :data:`Z_GRID`."""
        return [{}, *_base_stock_grid(scenario)]


class FixedForecastActions(_RuleChain):
    """Every store orders 1.0 x its forecast every day (action 2), masked to feasible.

    When action 2 does not fit under capacity, the feasible action closest to it in units
    is taken (0 is always feasible).
    """

    def store_orders(self, state: TwinState) -> np.ndarray:
        options = self._action_options(state)
        actions = _closest_feasible(options[..., 2], options, self.store_role.action_masks(state))
        return self.store_role.order_quantities(actions, state)


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

    def reset(self, twin: DigitalTwin) -> None:
        super().reset(twin)
        self._s = _as_levels(self.reorder_point, self.store_role.reorder_point)
        self._S = _as_levels(self.order_up_to, self.store_role.order_up_to)

    def store_orders(self, state: TwinState) -> np.ndarray:
        position = state.store_position
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

    def reset(self, twin: DigitalTwin) -> None:
        super().reset(twin)
        self._S = _as_levels(self.order_up_to, self.store_role.order_up_to)

    def store_orders(self, state: TwinState) -> np.ndarray:
        return np.maximum(self._S - state.store_position, 0).astype(np.int64)

    @classmethod
    def tuning_grid(cls, scenario: Scenario) -> list[dict[str, Any]]:
        """The seed levels, then base-stock levels (z) x warehouse levels (days of demand)."""
        return [{}, *_with_warehouse(scenario, _base_stock_grid(scenario))]


# --------------------------------------------------------------------------- tuning


def _base_stock_grid(scenario: Scenario) -> list[dict[str, Any]]:
    return _unique([{"order_up_to": base_stock_levels(scenario, z)} for z in Z_GRID])


def _ss_grid(scenario: Scenario) -> list[dict[str, Any]]:
    return _unique(
        [
            {
                "reorder_point": _days_of_demand(scenario, low),
                "order_up_to": _days_of_demand(scenario, high),
            }
            for low, high in SS_DAYS
        ]
    )


def _with_warehouse(scenario: Scenario, stores: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return _unique(
        [
            {**store, **_warehouse_levels(scenario, days)}
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


def tune(
    policy_cls: Callable[..., ChainController],
    scenario: Scenario | str,
    seeds: Sequence[int],
    grid: Sequence[Mapping[str, Any]] | None = None,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Grid search of ``policy_cls``'s keyword arguments minimizing mean ``total_cost``.

    Each candidate ``policy_cls(**params)`` runs one episode per seed in ``seeds`` (one
    batched :func:`~hmarl_bench.evaluation.evaluate` pass); nothing else is evaluated, so
    pass training seeds only. ``grid`` defaults to ``policy_cls.tuning_grid(scenario)``,
    whose first candidate ``{}`` is the untuned rule. Ties go to the earlier candidate.

    Returns ``(best_params, table)``: the table has one row per candidate, its keyword
    arguments (levels as tuples of units), ``mean_total_cost`` and ``std_total_cost``
    [currency per episode] and a ``best`` flag.
    """
    scenario = load_scenario(scenario)
    seeds = [int(k) for k in seeds]
    if not seeds:
        raise ValueError("tune needs at least one seed")
    if grid is None:
        grid = policy_cls.tuning_grid(scenario)
    if not grid:
        raise ValueError("tune needs a non-empty grid")
    rows = []
    for params in grid:
        kpis = evaluation.evaluate(scenario, policy_cls(**params), seeds)
        rows.append(
            {
                **{k: _plain(v) for k, v in params.items()},
                "mean_total_cost": float(kpis["total_cost"].mean()),
                "std_total_cost": float(kpis["total_cost"].std(ddof=0)),
            }
        )
    table = pd.DataFrame(rows)
    best = int(np.argmin(table["mean_total_cost"].to_numpy()))
    table["best"] = np.arange(len(table)) == best
    return dict(grid[best]), table


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray | list | tuple):
        return tuple(int(v) for v in value)
    return value


# --------------------------------------------------------------------------- registry


@functools.lru_cache(maxsize=64)
def _tuned_params(
    policy_cls: type, scenario: Scenario, seeds: tuple[int, ...]
) -> tuple[dict[str, Any], pd.DataFrame]:
    """:func:`tune` with its default grid, cached: the harness builds a policy per cell."""
    return tune(policy_cls, scenario, seeds)


def _untuned(policy_cls: Callable[[], ChainController]) -> Callable[..., ChainController]:
    def build(scenario: Scenario, tuning_seeds: Sequence[int], seed: int = 0) -> ChainController:
        return policy_cls()

    build.__doc__ = f"{policy_cls.__name__} with its untuned (seed) levels."
    return build


def _tuned(policy_cls: type) -> Callable[..., ChainController]:
    def build(scenario: Scenario, tuning_seeds: Sequence[int], seed: int = 0) -> ChainController:
        params, table = _tuned_params(
            policy_cls, load_scenario(scenario), tuple(int(k) for k in tuning_seeds)
        )
        policy = policy_cls(**params)
        policy.tuned_params = dict(params)  # what the harness reports
        policy.tuning_table = table.copy()
        return policy

    build.__doc__ = f"{policy_cls.__name__} with levels tuned by :func:`tune` on tuning_seeds."
    return build


def _random(scenario: Scenario, tuning_seeds: Sequence[int], seed: int = 0) -> ChainController:
    """RandomPolicy drawing from ``seed``."""
    return RandomPolicy(seed)


#: Stable baseline names -> constructors ``(scenario, tuning_seeds, seed) -> ChainController``.
BASELINES: dict[str, Callable[..., ChainController]] = {
    "random": _random,
    "seed_ss_actions": _untuned(SeedSSActions),
    "seed_ss_free": _untuned(SeedSSFree),
    "order_up_to_actions": _untuned(OrderUpToActions),
    "order_up_to_free": _untuned(OrderUpToFree),
    "fixed_forecast_actions": _untuned(FixedForecastActions),
    "tuned_order_up_to_actions": _tuned(OrderUpToActions),
    "tuned_order_up_to_free": _tuned(OrderUpToFree),
    "tuned_ss_actions": _tuned(SeedSSActions),
    "tuned_ss_free": _tuned(SeedSSFree),
}


def make_baseline(
    name: str, scenario: Scenario | str, tuning_seeds: Sequence[int], seed: int = 0
) -> ChainController:
    """Build the baseline ``name`` for ``scenario``.

    Tuned variants run :func:`tune` on ``tuning_seeds`` (training seeds: never the
    evaluation seeds) and carry ``tuned_params`` and ``tuning_table``; the result is cached
    per (policy, scenario, seeds). ``seed`` seeds the random policy. Raises ``ValueError``
    listing the known names for an unknown ``name``.
    """
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; choose one of {sorted(BASELINES)}")
    return BASELINES[name](load_scenario(scenario), tuning_seeds, seed)
