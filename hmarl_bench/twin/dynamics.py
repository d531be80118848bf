"""The day's named phases, vectorized over copies and stores.

A day, in order (the order this code runs):

1. ``receive``: supplier shipments due today reach the warehouse; warehouse shipments due
   today reach the stores.
2. ``sell``: customer demand is met from on-hand stock, ``sales = min(on_hand, demand)``;
   the rest is lost (no backorders).
3. ``replenish_stores``: each store's order (capped so that on hand plus pipeline stays
   within its capacity) goes to the warehouse, which ships what it has, allocating
   ``floor(order x available / total ordered)`` to each store when short; shipments enter
   the store pipeline for ``warehouse.lead_time`` days (lead time 0: on the shelf tonight).
4. ``replenish_warehouse``: the warehouse's order (capped by its capacity in the same way)
   goes to the supplier, which ships 100% or ``partial_fraction`` of it, at most its daily
   capacity; unshipped units are not backordered. A shipment travels ``supplier.lead_time``
   days, plus ``delay_days`` if the supplier chose to delay, plus ``delay_days`` more if it
   is late (probability ``1 - reliability``).
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
from hmarl_bench.twin.state import DayOutcome, TwinState, pipeline_total

__all__ = ["SUPPLIER_ACTIONS", "TwinParams", "step"]

#: The supplier's actions: (fraction of the order shipped, extra delay in units of delay_days).
SUPPLIER_ACTIONS = ("fulfil", "partial", "delay")


@dataclass(frozen=True)
class TwinParams:
    """Static numbers of a scenario as arrays, built once (never inside ``step``)."""

    store_capacity: np.ndarray  # (S,) int64
    store_lead_time: int
    store_pipeline_len: int  # Ps = max(lead_time, 1)
    warehouse_capacity: int
    supplier_lead_time: int
    supplier_capacity: int
    delay_days: int
    warehouse_pipeline_len: int  # Pw = max(lead_time + 2 * delay_days, 1)
    supplier_fraction: np.ndarray  # (3,) float64: share of the order shipped per action
    supplier_extra_delay: np.ndarray  # (3,) int64: extra days per action
    smoothing: float

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> TwinParams:
        sup = scenario.supplier
        return cls(
            store_capacity=np.array([s.capacity for s in scenario.stores], dtype=np.int64),
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
        )


def step(
    state: TwinState,
    params: TwinParams,
    store_orders: np.ndarray,
    warehouse_order: np.ndarray,
    supplier_action: np.ndarray,
) -> DayOutcome:
    """Simulate ``state.day`` for every copy; mutate ``state``; return the day's outcome.

    store_orders: (B, S) units requested from the warehouse (>= 0).
    warehouse_order: (B,) units requested from the supplier (>= 0).
    supplier_action: (B,) index into :data:`SUPPLIER_ACTIONS`.
    """
    day = state.day
    store_start = state.store_on_hand.copy()
    warehouse_start = state.warehouse_on_hand.copy()
    # Units in transit, summed once: they give the start-of-day positions and, updated with
    # the day's receipts and shipments, the end-of-day pipelines (integers: exact).
    store_transit = pipeline_total(state.store_pipeline)
    warehouse_transit = pipeline_total(state.warehouse_pipeline)
    # Capacity caps use the start-of-day position: what the agents saw when they decided.
    store_room = params.store_capacity - (store_start + store_transit)
    warehouse_room = params.warehouse_capacity - (warehouse_start + warehouse_transit)

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


def _clip_order(order: np.ndarray, room: np.ndarray) -> np.ndarray:
    """``order`` clipped to ``[0, max(room, 0)]`` as int64 (a new array; mutates ``room``)."""
    np.maximum(room, 0, out=room)
    return np.minimum(np.maximum(order, 0), room).astype(np.int64, copy=False)


def _receive(state: TwinState, params: TwinParams) -> tuple[np.ndarray, np.ndarray]:
    """Phase 1: today's pipeline slots land on the shelves; the slots are emptied."""
    s_slot = state.day % params.store_pipeline_len
    store_received = state.store_pipeline[:, :, s_slot].copy()
    state.store_pipeline[:, :, s_slot] = 0
    state.store_on_hand += store_received
    w_slot = state.day % params.warehouse_pipeline_len
    warehouse_received = state.warehouse_pipeline[:, w_slot].copy()
    state.warehouse_pipeline[:, w_slot] = 0
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
    """Phase 3: stores order, the warehouse ships (pro rata when short).

    Returns (requested, shipped) per store and their totals per copy. Shipping
    ``requested x min(available, total) // total`` is the pro-rata allocation when short and
    exactly ``requested`` otherwise.
    """
    requested = _clip_order(orders, room)
    total = requested.sum(axis=1)
    available = state.warehouse_on_hand
    shipped = requested * np.minimum(available, total)[:, None] // np.maximum(total, 1)[:, None]
    total_shipped = shipped.sum(axis=1)
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
    """Phase 4: the warehouse orders; the supplier ships within capacity and reliability.

    Returns (ordered, shipped, shipped on time, arrived today), each (B,); a shipment with
    lead time 0 arrives today. "Arrived today" is None when the supplier's lead time is
    positive (nothing can arrive the same day).
    """
    ordered = _clip_order(order, room)
    fraction = params.supplier_fraction[supplier_action]
    shipped = np.floor(ordered * fraction + 1e-9).astype(np.int64)
    np.minimum(shipped, params.supplier_capacity, out=shipped)
    late = state.supplier_late[:, state.day]
    lead = params.supplier_extra_delay[supplier_action] + params.supplier_lead_time
    lead += late * params.delay_days
    in_transit, arrived = shipped, None
    if params.supplier_lead_time == 0:  # a shipment may land today
        arrived = shipped * (lead == 0)
        state.warehouse_on_hand += arrived
        in_transit = shipped - arrived
    slots = (state.day + lead) % params.warehouse_pipeline_len
    # one slot per copy, so plain fancy-index addition never collides
    state.warehouse_pipeline[np.arange(state.batch_size), slots] += in_transit
    on_time = shipped * (lead == params.supplier_lead_time)
    state.warehouse_last_order = ordered
    state.supplier_last_shipped = shipped
    state.days_to_delivery = np.where(shipped > 0, lead, np.maximum(state.days_to_delivery - 1, 0))
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
