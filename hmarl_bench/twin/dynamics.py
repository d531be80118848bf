"""The day's named phases, vectorized over copies, stores and SKUs.

Shapes (see :mod:`hmarl_bench.twin.state`): store arrays are over the N = S x K store-SKU
slots (B, N), warehouse arrays over the K SKUs (B, K). No phase loops over stores or SKUs
in Python; with one SKU every phase computes what it computed before SKUs existed, bit for
bit (``tests/test_golden.py``).

A day, in order (the order this code runs):

1. ``receive``: supplier shipments due today reach the warehouse; warehouse shipments due
   today reach the stores.
2. ``sell``: customer demand is met from on-hand stock, ``sales = min(on_hand, demand)``;
   the rest is lost (no backorders).
3. ``replenish_stores``: each slot's order (capped so that the store's on hand plus
   pipeline, summed over its SKUs, stays within its capacity) goes to the warehouse, which
   ships what it has of each SKU, allocating ``floor(order x available / total ordered)``
   to each store when a SKU is short; shipments enter the store pipeline for
   ``warehouse.lead_time`` days (lead time 0: on the shelf tonight).
4. ``replenish_warehouse``: the warehouse's order per SKU (capped by its shared capacity in
   the same way) goes to the supplier, which ships 100% or ``partial_fraction`` of each
   SKU, at most its daily capacity over all SKUs; unshipped units are not backordered. A
   day's shipment (all SKUs together) travels ``supplier.lead_time`` days, plus
   ``delay_days`` if the supplier chose to delay, plus ``delay_days`` more if it is late
   (probability ``1 - reliability``). On a day the supplier is down
   (``[supplier.disruption]``, ``state.supplier_up``) it ships nothing.

Shared capacities: when the orders of several SKUs together exceed the room a capacity
leaves (capacity minus the node's position summed over SKUs, at the start of the day, or
the supplier's daily capacity), each SKU gets ``floor(order x room / total ordered)``
(:func:`cut_to_room`): pro rata, deterministic, never above the room, and with one SKU
exactly ``min(order, room)``.
5. ``learn``: the stores update their demand forecast and recent service level from the
   day's demand (so a forecast only ever holds past demand).

Holding cost (on end-of-day stock) and the plan-versus-actual comparison are the
reconciliation's job (``hmarl_bench.reconciliation``); this module only moves units.

Every phase mutates the :class:`TwinState` in place (no copies on the hot path).
Randomness is exogenous and drawn at reset, so a step is a deterministic function.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hmarl_bench.config import Scenario
from hmarl_bench.twin.state import DayOutcome, TwinState, over_stores, pipeline_total, sku_total

__all__ = ["SUPPLIER_ACTIONS", "TwinParams", "cut_to_room", "step"]

#: The supplier's actions: (fraction of the order shipped, extra delay in units of delay_days).
SUPPLIER_ACTIONS = ("fulfil", "partial", "delay")


@dataclass(frozen=True)
class TwinParams:
    """Static numbers of a scenario as arrays, built once (never inside ``step``)."""

    store_capacity: np.ndarray  # (S,) int64, shared by the store's K SKUs
    n_skus: int  # K
    store_lead_time: int
    store_pipeline_len: int  # Ps = max(lead_time, 1)
    warehouse_capacity: int  # shared by the K SKUs
    supplier_lead_time: int
    supplier_capacity: int  # units per day over all SKUs
    delay_days: int
    warehouse_pipeline_len: int  # Pw = max(lead_time + 2 * delay_days, 1)
    supplier_fraction: np.ndarray  # (3,) float64: share of the order shipped per action
    supplier_extra_delay: np.ndarray  # (3,) int64: extra days per action
    smoothing: float
    disruptions: bool = False  # the supplier can be down (state.supplier_up)

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> TwinParams:
        sup = scenario.supplier
        return cls(
            store_capacity=np.array([s.capacity for s in scenario.stores], dtype=np.int64),
            n_skus=scenario.n_skus,
            store_lead_time=scenario.warehouse.lead_time,
            store_pipeline_len=max(scenario.warehouse.lead_time, 1),
            warehouse_capacity=scenario.warehouse.capacity,
            supplier_lead_time=sup.lead_time,
            supplier_capacity=sup.capacity,
            delay_days=sup.delay_days,
            warehouse_pipeline_len=max(sup.lead_time + 2 * sup.delay_days, 1),
            supplier_fraction=np.array([1.0, sup.partial_fraction, 1.0]),
            supplier_extra_delay=np.array([0, 0, sup.delay_days], dtype=np.int64),
            smoothing=scenario.forecast_smoothing,
            disruptions=sup.disruption.enabled,
        )


def step(
    state: TwinState,
    params: TwinParams,
    store_orders: np.ndarray,
    warehouse_order: np.ndarray,
    supplier_action: np.ndarray,
) -> DayOutcome:
    """Simulate ``state.day`` for every copy; mutate ``state``; return the day's outcome.

    store_orders: (B, N) units each slot requests from the warehouse (>= 0).
    warehouse_order: (B, K) units of each SKU requested from the supplier (>= 0); (B,)
        with one SKU.
    supplier_action: (B,) index into :data:`SUPPLIER_ACTIONS`.
    """
    day = state.day
    n_skus = params.n_skus
    store_start = state.store_on_hand.copy()
    warehouse_start = state.warehouse_on_hand.copy()
    # Units in transit, summed once: they give the start-of-day positions and, updated with
    # the day's receipts and shipments, the end-of-day pipelines (integers: exact).
    store_transit = pipeline_total(state.store_pipeline)
    warehouse_transit = pipeline_total(state.warehouse_pipeline)
    # Capacity caps use the start-of-day position: what the agents saw when they decided.
    store_position = store_start + store_transit
    if n_skus > 1:  # (B, S): the room each store's SKUs share
        store_position = store_position.reshape(state.batch_size, -1, n_skus).sum(axis=2)
    store_room = params.store_capacity - store_position
    warehouse_room = params.warehouse_capacity - sku_total(warehouse_start + warehouse_transit)

    store_received, warehouse_received = _receive(state, params)
    store_transit -= store_received
    warehouse_transit -= warehouse_received
    demand, sales, lost_sales = _sell(state)
    forecast = state.forecast.copy()
    requested, shipped, total_requested, total_shipped = _replenish_stores(
        state, params, store_orders, store_room
    )
    # With a lead time of 0 a shipment lands the same day: it is part of the day's receipts.
    if params.store_lead_time == 0:
        store_received = store_received + shipped
    else:
        store_transit += shipped
    warehouse_order = np.asarray(warehouse_order).reshape(state.batch_size, n_skus)
    ordered, supplier_shipped, on_time, supplier_arrived = _replenish_warehouse(
        state, params, warehouse_order, warehouse_room, supplier_action
    )
    if supplier_arrived is None:  # every shipment is in transit
        warehouse_transit += supplier_shipped
    else:
        warehouse_received = warehouse_received + supplier_arrived
        warehouse_transit += supplier_shipped - supplier_arrived
    _learn(state, params, demand, sales, lost_sales)
    state.day = day + 1
    return DayOutcome(
        day=day,
        store_start=store_start,
        store_received=store_received,
        demand=demand,
        sales=sales,
        lost_sales=lost_sales,
        store_requested=requested,
        store_shipped=shipped,
        store_end=state.store_on_hand.copy(),
        store_pipeline_end=store_transit,
        forecast=forecast,
        warehouse_start=warehouse_start,
        warehouse_received=warehouse_received,
        warehouse_shipped=total_shipped,
        warehouse_requested=total_requested,
        warehouse_ordered=ordered,
        supplier_shipped=supplier_shipped,
        supplier_on_time=on_time,
        warehouse_end=state.warehouse_on_hand.copy(),
        warehouse_pipeline_end=warehouse_transit,
    )


def cut_to_room(order: np.ndarray, room: np.ndarray, n_skus: int) -> np.ndarray:
    """Orders (B, G x K) cut so each group of K SKUs fits its shared room (B, G), as int64.

    Negative orders count as 0 and a negative room as none. When a group's orders exceed
    its room, SKU k gets ``floor(order_k x room / sum of the group's orders)``: pro rata,
    so the group never exceeds the room. With one SKU this is ``min(order, room)`` (the
    same operations as before SKUs, for bit-identical results). Returns a new array;
    mutates ``room`` (clipped at 0).
    """
    np.maximum(room, 0, out=room)
    if n_skus == 1:
        return np.minimum(np.maximum(order, 0), room).astype(np.int64, copy=False)
    batch = order.shape[0]
    grouped = np.maximum(order, 0).astype(np.int64).reshape(batch, -1, n_skus)
    total = grouped.sum(axis=2)
    allowed = np.minimum(total, room)
    cut = grouped * allowed[..., None] // np.maximum(total, 1)[..., None]
    return cut.reshape(order.shape)


def _receive(state: TwinState, params: TwinParams) -> tuple[np.ndarray, np.ndarray]:
    """Phase 1: today's pipeline slots land on the shelves; the slots are emptied."""
    s_slot = state.day % params.store_pipeline_len
    store_received = state.store_pipeline[:, :, s_slot].copy()
    state.store_pipeline[:, :, s_slot] = 0
    state.store_on_hand += store_received
    w_slot = state.day % params.warehouse_pipeline_len
    warehouse_received = state.warehouse_pipeline[:, :, w_slot].copy()
    state.warehouse_pipeline[:, :, w_slot] = 0
    state.warehouse_on_hand += warehouse_received
    return store_received, warehouse_received


def _sell(state: TwinState) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Phase 2: demand is served from stock; what cannot be served is lost."""
    demand = state.demand[:, state.day, :].copy()  # contiguous: used many times below
    sales = np.minimum(state.store_on_hand, demand)
    state.store_on_hand -= sales
    return demand, sales, demand - sales


def _replenish_stores(
    state: TwinState, params: TwinParams, orders: np.ndarray, room: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Phase 3: slots order, the warehouse ships each SKU (pro rata over stores when short).

    Returns (requested, shipped) per slot (B, N) and their totals per SKU (B, K). Shipping
    ``requested x min(available, total) // total`` is the pro-rata allocation when short and
    exactly ``requested`` otherwise.
    """
    n_skus = params.n_skus
    requested = cut_to_room(orders, room, n_skus)
    total = over_stores(requested, n_skus)  # (B, K)
    share = np.minimum(state.warehouse_on_hand, total)
    if n_skus == 1:  # (B, S) against (B, 1) columns
        shipped = requested * share // np.maximum(total, 1)
    else:
        per_store = requested.reshape(state.batch_size, -1, n_skus)
        shipped = (per_store * share[:, None, :] // np.maximum(total, 1)[:, None, :]).reshape(
            requested.shape
        )
    total_shipped = over_stores(shipped, n_skus)
    state.warehouse_on_hand -= total_shipped
    if params.store_lead_time == 0:
        state.store_on_hand += shipped
    else:  # arrives on the morning of day + lead_time: the slot emptied this morning
        slot = (state.day + params.store_lead_time) % params.store_pipeline_len
        state.store_pipeline[:, :, slot] += shipped
    return requested, shipped, total, total_shipped


def _replenish_warehouse(
    state: TwinState,
    params: TwinParams,
    order: np.ndarray,
    room: np.ndarray,
    supplier_action: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Phase 4: the warehouse orders; the supplier ships within capacity and reliability,
    and nothing on a day it is down.

    Returns (ordered, shipped, shipped on time, arrived today), each (B, K); a shipment
    with lead time 0 arrives today. "Arrived today" is None when the supplier's lead time
    is positive (nothing can arrive the same day).
    """
    n_skus = params.n_skus
    ordered = cut_to_room(order, room[:, None], n_skus)
    fraction = params.supplier_fraction[supplier_action]
    shipped = np.floor(ordered * fraction[:, None] + 1e-9).astype(np.int64)
    if n_skus == 1:
        np.minimum(shipped, params.supplier_capacity, out=shipped)
    else:  # the day's capacity is shared by the SKUs
        capacity = np.full((state.batch_size, 1), params.supplier_capacity, dtype=np.int64)
        shipped = cut_to_room(shipped, capacity, n_skus)
    if params.disruptions:  # a supplier that is down ships nothing (not backordered)
        shipped *= state.supplier_up[:, state.day, None]
    late = state.supplier_late[:, state.day]
    lead = params.supplier_extra_delay[supplier_action] + params.supplier_lead_time
    lead += late * params.delay_days
    in_transit, arrived = shipped, None
    if params.supplier_lead_time == 0:  # a shipment may land today
        arrived = shipped * (lead == 0)[:, None]
        state.warehouse_on_hand += arrived
        in_transit = shipped - arrived
    slots = (state.day + lead) % params.warehouse_pipeline_len
    # one slot per copy, so plain fancy-index addition never collides
    state.warehouse_pipeline[np.arange(state.batch_size), :, slots] += in_transit
    on_time = shipped * (lead == params.supplier_lead_time)[:, None]
    state.warehouse_last_order = ordered
    state.supplier_last_shipped = shipped
    any_shipped = sku_total(shipped) > 0
    state.days_to_delivery = np.where(any_shipped, lead, np.maximum(state.days_to_delivery - 1, 0))
    return ordered, shipped, on_time, arrived


def _learn(
    state: TwinState,
    params: TwinParams,
    demand: np.ndarray,
    sales: np.ndarray,
    lost_sales: np.ndarray,
) -> None:
    """Phase 5: exponential smoothing of demand, its squared error, and the fill rate."""
    alpha = params.smoothing
    error = demand - state.forecast
    change = alpha * error
    state.forecast += change
    change *= error  # the forecast variance: (1 - alpha) * (var + alpha * error * error)
    change += state.forecast_var
    change *= 1.0 - alpha
    state.forecast_var = change
    fill = np.divide(sales, demand, out=np.ones(demand.shape), where=demand > 0)  # 1 if none
    state.recent_service += alpha * (fill - state.recent_service)
    state.stockout_yesterday = lost_sales > 0
