"""One scenario's planning parameters, derived from its config once and shared.

The roles of every track and the twin read the same things from a scenario: the nominal
demand profile (:func:`~hmarl_bench.twin.demand.mean_demand`) and the observation scales
made from it, capacities, and the seed's (s, S) levels.
:func:`chain_params` derives them once per scenario (a small cache keyed on the frozen
:class:`~hmarl_bench.config.Scenario`) into a :class:`ChainParams` whose arrays are
read-only, so one role cannot change what another reads.

Shapes: T days, S stores, K SKUs, N = S x K store-SKU slots (slot ``s K + k``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from hmarl_bench.config import Scenario
from hmarl_bench.twin.demand import mean_demand
from hmarl_bench.twin.view import read_only

__all__ = ["ChainParams", "chain_params"]


@dataclass(frozen=True, eq=False)
class ChainParams:
    """What the roles read from one scenario (module docstring); arrays are read-only."""

    n_skus: int
    horizon: int
    #: (T, N) the config's nominal demand per slot: what a planner knows in advance
    profile: np.ndarray
    #: (T, K) the nominal demand of the whole chain, per SKU (summed over stores)
    chain_profile: np.ndarray
    #: (N,) a slot's demand scale: twice its highest nominal daily demand (at least 2)
    slot_demand_scale: np.ndarray
    #: (K,) the slots' demand scales summed per SKU
    sku_demand_scale: np.ndarray
    #: the slots' demand scales summed over every slot (the one-SKU warehouse's scale)
    total_demand_scale: float
    #: (S,) each store's capacity, shared by its SKUs, as configured
    store_capacity: np.ndarray
    #: (N,) each slot's store's capacity
    slot_capacity: np.ndarray
    #: (S,) each store's capacity, at least 1 (a divisor)
    store_capacity_floor: np.ndarray
    #: the warehouse's capacity, at least 1
    warehouse_capacity: float
    #: the supplier's daily capacity, at least 1
    supplier_capacity: float
    #: (N,) the seed's store reorder points s and order-up-to levels S, per slot
    store_reorder_point: np.ndarray
    store_order_up_to: np.ndarray
    #: (K,) the seed's warehouse reorder point s and order-up-to level S, per SKU
    warehouse_reorder_point: np.ndarray
    warehouse_order_up_to: np.ndarray
    #: (K, 4) units of each of the warehouse's seed-track order actions, per SKU
    warehouse_quantities: np.ndarray


def chain_params(scenario: Scenario) -> ChainParams:
    """The :class:`ChainParams` of ``scenario``, derived once per scenario and shared."""
    return _chain_params(scenario)


@functools.lru_cache(maxsize=64)
def _chain_params(scenario: Scenario) -> ChainParams:
    k = scenario.n_skus
    wh = scenario.warehouse
    profile = mean_demand(scenario)  # (T, N)
    slot_scale = 2.0 * np.maximum(profile.max(axis=0), 1.0)  # (N,)
    store_capacity = np.array([s.capacity for s in scenario.stores], dtype=np.float64)
    floor = np.array([max(s.capacity, 1) for s in scenario.stores], dtype=float)
    quantities = np.array([scenario.per_sku(q) for q in wh.order_quantities], dtype=np.int64)
    arrays = {
        "profile": profile,
        "chain_profile": profile.reshape(len(profile), -1, k).sum(axis=1),
        "slot_demand_scale": slot_scale,
        "sku_demand_scale": slot_scale.reshape(-1, k).sum(axis=0),
        "store_capacity": store_capacity,
        "slot_capacity": np.repeat(store_capacity, k),
        "store_capacity_floor": floor,
        "store_reorder_point": np.array(
            scenario.per_slot([s.reorder_point for s in scenario.stores])
        ),
        "store_order_up_to": np.array(scenario.per_slot([s.order_up_to for s in scenario.stores])),
        "warehouse_reorder_point": np.array(scenario.per_sku(wh.reorder_point)),
        "warehouse_order_up_to": np.array(scenario.per_sku(wh.order_up_to)),
        "warehouse_quantities": quantities.T,
    }
    return ChainParams(
        n_skus=k,
        horizon=scenario.episode_days,
        total_demand_scale=float(slot_scale.sum()),
        warehouse_capacity=float(max(wh.capacity, 1)),
        supplier_capacity=float(max(scenario.supplier.capacity, 1)),
        **{name: read_only(array) for name, array in arrays.items()},
    )
