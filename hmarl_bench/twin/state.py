"""The twin's state and the day's outcome: numpy arrays with a leading batch axis.

B is the number of independent copies, S the number of stores, K the number of SKUs and
N = S x K the number of store-SKU *slots* (slot ``s * K + k``: store ``s``, SKU ``k``; with
one SKU a slot is a store), T the episode's days. Store arrays are over slots, warehouse
arrays over SKUs.
Pipelines are ring buffers: slot ``d % P`` holds what arrives on the morning of day ``d``,
for P the longest lead time; a slot is emptied in the morning of its day and refilled
the same evening with shipments due ``P`` days later, so no array ever shifts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["DayOutcome", "TwinState", "over_stores", "pipeline_total", "sku_total"]


def pipeline_total(pipeline: np.ndarray) -> np.ndarray:
    """Units in transit: an integer pipeline summed over its last (slot) axis.

    Short pipelines are summed slot by slot, much faster than numpy's reduction over a
    short inner axis, and exact for integers in any order.
    """
    slots = pipeline.shape[-1]
    if slots > 4:
        return pipeline.sum(axis=-1)
    total = pipeline[..., 0].copy()
    for slot in range(1, slots):
        total += pipeline[..., slot]
    return total


def over_stores(slots: np.ndarray, n_skus: int) -> np.ndarray:
    """A (B, N) slot array summed over stores, per SKU: (B, K).

    With one SKU this is the same reduction as ``slots.sum(axis=1)`` (bit for bit), kept as
    a column.
    """
    if n_skus == 1:  # np.add.reduce is what .sum() calls, minus a Python wrapper
        return np.add.reduce(slots, axis=1, keepdims=True)
    batch = slots.shape[0]
    return np.add.reduce(slots.reshape(batch, -1, n_skus), axis=1)


def sku_total(per_sku: np.ndarray) -> np.ndarray:
    """A (..., K) array summed over SKUs; with one SKU its only column, exactly."""
    return per_sku[..., 0] if per_sku.shape[-1] == 1 else np.add.reduce(per_sku, axis=-1)


@dataclass
class TwinState:
    """Everything the twin knows at the start of a day (mutated in place by ``step``)."""

    day: int  # the day about to be simulated, 0 .. T; every copy is on the same day
    store_on_hand: np.ndarray  # (B, N) int64 units on the shelf
    store_pipeline: np.ndarray  # (B, N, Ps) int64 units shipped to stores, by arrival slot
    warehouse_on_hand: np.ndarray  # (B, K) int64
    warehouse_pipeline: np.ndarray  # (B, K, Pw) int64 units shipped by the supplier
    forecast: np.ndarray  # (B, N) float64 smoothed demand, from past demand only
    forecast_var: np.ndarray  # (B, N) float64 smoothed squared forecast error
    recent_service: np.ndarray  # (B, N) float64 smoothed daily fill rate, in [0, 1]
    stockout_yesterday: np.ndarray  # (B, N) bool: lost sales yesterday
    warehouse_last_order: np.ndarray  # (B, K) int64 units the warehouse ordered yesterday
    supplier_last_shipped: np.ndarray  # (B, K) int64 units the supplier shipped yesterday
    days_to_delivery: np.ndarray  # (B,) int64 days until the last supplier shipment lands
    demand: np.ndarray  # (B, T, N) int64 exogenous: the whole episode's demand
    supplier_late: np.ndarray  # (B, T) bool exogenous: the day's shipment is late
    demand_regime: np.ndarray  # (B, T) int64 exogenous, hidden: the market regime (0 if none)
    supplier_up: np.ndarray  # (B, T) bool exogenous: the supplier can ship (all True: never down)

    @property
    def batch_size(self) -> int:
        return self.store_on_hand.shape[0]

    @property
    def n_slots(self) -> int:
        """Store-SKU slots N (the stores, with one SKU)."""
        return self.store_on_hand.shape[1]

    @property
    def n_skus(self) -> int:
        return self.warehouse_on_hand.shape[1]

    @property
    def store_position(self) -> np.ndarray:
        """Inventory position (B, N): on hand plus pipeline."""
        return self.store_on_hand + pipeline_total(self.store_pipeline)

    @property
    def warehouse_position(self) -> np.ndarray:
        """Inventory position (B, K): on hand plus pipeline."""
        return self.warehouse_on_hand + self.warehouse_pipeline.sum(axis=2)

    def copy(self) -> TwinState:
        return TwinState(
            **{k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in self.__dict__.items()}
        )


@dataclass
class DayOutcome:
    """What happened on one day, in units, per slot (B, N) and per SKU (B, K).

    Conservation holds to the unit, slot by slot and SKU by SKU:

    stores:    store_start + store_received = sales + store_end
    warehouse: warehouse_start + warehouse_received = warehouse_shipped + warehouse_end
    """

    day: int
    store_start: np.ndarray  # (B, N) on hand at the start of the day
    store_received: np.ndarray  # (B, N) arrivals from the warehouse (incl. same-day)
    demand: np.ndarray  # (B, N) customer demand
    sales: np.ndarray  # (B, N) min(on hand, demand)
    lost_sales: np.ndarray  # (B, N) demand - sales
    store_requested: np.ndarray  # (B, N) orders placed with the warehouse (after capacity cap)
    store_shipped: np.ndarray  # (B, N) what the warehouse shipped against them
    store_end: np.ndarray  # (B, N) on hand at the end of the day
    store_pipeline_end: np.ndarray  # (B, N) units in transit to the store at the end of the day
    forecast: np.ndarray  # (B, N) the forecast the orders were based on
    warehouse_start: np.ndarray  # (B, K)
    warehouse_received: np.ndarray  # (B, K) arrivals from the supplier (incl. same-day)
    warehouse_shipped: np.ndarray  # (B, K) store_shipped summed over stores
    warehouse_requested: np.ndarray  # (B, K) store_requested summed over stores
    warehouse_ordered: np.ndarray  # (B, K) the warehouse's order with the supplier (capped)
    supplier_shipped: np.ndarray  # (B, K) what the supplier shipped against it
    supplier_on_time: np.ndarray  # (B, K) shipped units that travel the nominal lead time
    warehouse_end: np.ndarray  # (B, K)
    warehouse_pipeline_end: np.ndarray  # (B, K)
