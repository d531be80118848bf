"""Compiled kernels of one simulated day for :class:`~hmarl_bench.envs.HMARLEnvironment`.

Why: with one copy, the numpy reference (:mod:`hmarl_bench.twin.dynamics`,
:mod:`hmarl_bench.reconciliation`, :mod:`hmarl_bench.agents.roles`) makes about 250 numpy
calls on arrays of a few elements per day, each 0.3-1 µs of call overhead: ~190 µs a step.
:func:`day` runs the same day (dynamics, reconciliation terms, rewards, the system cost,
then the next observations and masks) as one compiled loop nest over copies and slots.

The numpy code stays the reference: every value here is computed with the reference's
operations in the reference's order (no fastmath, no reassociation, sums in numpy's
order, see :func:`_np_sum`), so the two agree bit for bit
(``tests/test_fused.py`` and ``tests/test_golden.py``). Integer quantities are exact in
any order. A change to the reference must be mirrored here; the equality tests fail
otherwise.

All njit functions of the kernel live in this one file: numba's on-disk cache
(``cache=True``) is invalidated by changes to this file only.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["day", "observe"]

# Layout of ``params`` (built by :class:`~hmarl_bench.envs.fused.FusedDay`): (ip, fp,
# store_capacity (S,) int64, slot_consts (4, N) float64, warehouse demand_scale (K,),
# sku_quantities (K, 4) int64). ``ip`` (int64): the twin's lead times, pipeline lengths,
# capacities and delay days, then the supplier's extra delay per action (3). ``fp``
# (float64): smoothing, 1 - smoothing, the costs, the roles' scales, then the store order
# multipliers (4), the supplier's fractions (3) and the reward weights of stores, warehouse
# and supplier (3 x 5, in :func:`_reward`'s order). ``slot_consts`` rows: on-hand scale,
# demand scale, warehouse-side store capacity, the slot's store capacity.
_LS, _PS, _WCAP, _LSUP, _SCAP, _DELAY, _PW, _EXTRA = range(8)
_ALPHA, _ONE_MINUS, _HOLD, _ORDER, _ECD, _WCOVER, _WHOLD, _PENALTY = range(8)
_WCAP_F, _SCAP_F, _MAX_LEAD, _MAX_COVER, _MULT = range(8, 13)
_FRACTION, _WEIGHTS = _MULT + 4, _MULT + 7
_BLOCK = 128  # numpy's PW_BLOCKSIZE


@njit(cache=True)
def _block_sum(a, lo, n):  # pragma: no cover - compiled
    """numpy's ``pairwise_sum`` of ``a[lo:lo + n]`` for n <= 128: 8 accumulators."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r = a[lo : lo + 8].copy()
    i = 8
    while i < n - n % 8:
        for j in range(8):
            r[j] += a[lo + i + j]
        i += 8
    res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit(cache=True)
def _np_sum(a):  # pragma: no cover - compiled
    """``np.add.reduce`` of a contiguous float64 row, bit for bit: the identity 0.0 plus
    numpy's pairwise sum (blocks of 128 halved at multiples of 8), iteratively (numba's
    cache cannot hold a recursive function)."""
    n = a.shape[0]
    if n <= _BLOCK:
        return 0.0 + _block_sum(a, 0, n)
    frame_lo = np.empty(128, np.int64)
    frame_n = np.empty(128, np.int64)
    frame_phase = np.zeros(128, np.int64)
    values = np.empty(128)
    frame_lo[0], frame_n[0] = 0, n
    top, stacked = 0, 0
    while top >= 0:
        lo, size = frame_lo[top], frame_n[top]
        if size <= _BLOCK:
            values[stacked] = _block_sum(a, lo, size)
            stacked += 1
            top -= 1
            continue
        half = size // 2
        half -= half % 8
        phase = frame_phase[top]
        if phase == 2:  # both halves summed: left + right
            stacked -= 1
            values[stacked - 1] = values[stacked - 1] + values[stacked]
            top -= 1
            continue
        frame_phase[top] = phase + 1
        top += 1
        frame_lo[top] = lo if phase == 0 else lo + half
        frame_n[top] = half if phase == 0 else size - half
        frame_phase[top] = 0
    return 0.0 + values[0]


@njit(cache=True)
def _over_stores(slots, out):  # pragma: no cover - compiled
    """``over_stores`` of one copy's (N,) float row into ``out`` (K,): numpy's pairwise
    sum with one SKU, a sequential sum over stores per SKU with several."""
    n_skus = out.shape[0]
    if n_skus == 1:
        out[0] = _np_sum(slots)
        return
    for k in range(n_skus):
        out[k] = 0.0
    for n in range(slots.shape[0]):
        out[n % n_skus] += slots[n]


@njit(cache=True)
def _max0(x):  # pragma: no cover - compiled
    """``np.maximum(x, 0.0)``: x when x >= 0 or NaN (so -0.0 stays -0.0), else 0.0."""
    return x if (x >= 0.0 or x != x) else 0.0


@njit(cache=True)
def _unit32(x):  # pragma: no cover - compiled
    """float32 cast, then ``_clip_unit``'s np.minimum(., 1) and np.maximum(., 0)."""
    y = np.float32(x)
    if y > 1.0:
        y = np.float32(1.0)
    if y < 0.0:
        y = np.float32(0.0)
    return y


@njit(cache=True)
def _cut(order, room, out):  # pragma: no cover - compiled
    """``cut_to_room`` of one group of K orders sharing ``room`` (room >= 0), into ``out``."""
    k = order.shape[0]
    if k == 1:
        o = order[0] if order[0] > 0 else 0
        out[0] = o if o < room else room
        return
    total = 0
    for i in range(k):
        total += order[i] if order[i] > 0 else 0
    allowed = total if total < room else room
    denominator = total if total > 1 else 1
    for i in range(k):
        o = order[i] if order[i] > 0 else 0
        out[i] = o * allowed // denominator


@njit(cache=True)
def _observe_copy(b, state, params, obs, masks):  # pragma: no cover - compiled
    """Copy b's observations (the roles' ``observe``) and masks (``action_masks``)."""
    on_hand, pipeline, warehouse_on_hand, warehouse_pipeline, forecast, forecast_var = state[:6]
    recent_service, stockout_yesterday, warehouse_last_order, supplier_last_shipped = state[6:10]
    days_to_delivery = state[10]
    fp, slot_consts, warehouse_demand_scale, sku_quantities = params[1], *params[3:]
    on_hand_scale, slot_demand_scale = slot_consts[0], slot_consts[1]
    warehouse_store_capacity, store_capacity_f = slot_consts[2], slot_consts[3]
    n_slots, n_skus = on_hand.shape[1], warehouse_on_hand.shape[1]
    n_stores = n_slots // n_skus
    # stores: 7 entries per slot, then masks from the room under the shared capacity
    for s in range(n_stores):
        store_position = 0
        for k in range(n_skus):
            n = s * n_skus + k
            position = on_hand[b, n] + pipeline[b, n].sum()
            store_position += position
            f = forecast[b, n]
            o = 7 * n
            obs[b, o] = _unit32(on_hand[b, n] / on_hand_scale[n])
            obs[b, o + 1] = _unit32(f / slot_demand_scale[n])
            obs[b, o + 2] = _unit32(np.sqrt(forecast_var[b, n]) / slot_demand_scale[n])
            cover_base = f if (f >= 1.0 or f != f) else 1.0
            obs[b, o + 3] = _unit32(position / cover_base / fp[_MAX_COVER])
            obs[b, o + 4] = _unit32(1.0 if stockout_yesterday[b, n] else 0.0)
            obs[b, o + 5] = _unit32(warehouse_on_hand[b, k] / fp[_WCAP_F])
            obs[b, o + 6] = _unit32(recent_service[b, n])
        room = store_capacity_f[s * n_skus] - np.float64(store_position)
        for k in range(n_skus):
            n = s * n_skus + k
            masks[b, 4 * n] = True
            for a in range(1, 4):
                masks[b, 4 * n + a] = np.rint(fp[_MULT + a] * forecast[b, n]) <= room
    # warehouse: 6 entries per SKU (SKU-major), 4 masks per SKU
    ratio = np.empty(n_slots)
    for n in range(n_slots):
        ratio[n] = on_hand[b, n] / warehouse_store_capacity[n]
    forecast_sum, ratio_sum, service_sum = np.empty(n_skus), np.empty(n_skus), np.empty(n_skus)
    _over_stores(forecast[b], forecast_sum)
    _over_stores(ratio, ratio_sum)
    _over_stores(recent_service[b], service_sum)
    w_obs = 7 * n_slots
    w_position = 0
    for k in range(n_skus):
        in_transit = warehouse_pipeline[b, k].sum()
        w_position += warehouse_on_hand[b, k] + in_transit
        lowest = ratio[k]
        for s in range(1, n_stores):
            if ratio[s * n_skus + k] < lowest:
                lowest = ratio[s * n_skus + k]
        o = w_obs + 6 * k
        obs[b, o] = _unit32(forecast_sum[k] / warehouse_demand_scale[k])
        obs[b, o + 1] = _unit32(warehouse_on_hand[b, k] / fp[_WCAP_F])
        obs[b, o + 2] = _unit32(in_transit / fp[_WCAP_F])
        obs[b, o + 3] = _unit32(ratio_sum[k] / np.float64(n_stores))
        obs[b, o + 4] = _unit32(lowest)
        obs[b, o + 5] = _unit32(service_sum[k] / np.float64(n_stores))
    w_room = fp[_WCAP_F] - np.float64(w_position)
    w_mask = 4 * n_slots
    for k in range(n_skus):
        masks[b, w_mask + 4 * k] = True
        for a in range(1, 4):
            masks[b, w_mask + 4 * k + a] = np.float64(sku_quantities[k, a]) <= w_room
    # supplier: 3 entries, every action feasible
    o = w_obs + 6 * n_skus
    obs[b, o] = _unit32(warehouse_last_order[b].sum() / fp[_SCAP_F])
    obs[b, o + 1] = _unit32(supplier_last_shipped[b].sum() / fp[_SCAP_F])
    obs[b, o + 2] = _unit32(days_to_delivery[b] / fp[_MAX_LEAD])
    for a in range(3):
        masks[b, w_mask + 4 * n_skus + a] = True


@njit(cache=True)
def _fill(served, wanted):  # pragma: no cover - compiled
    """``reconciliation._fill``: served / wanted, 1 when nothing was wanted."""
    return np.float64(served) / np.float64(wanted) if wanted > 0 else 1.0


@njit(cache=True)
def _reward(terms, w):  # pragma: no cover - compiled
    """``reconciliation.reward`` of one agent's term row (ROLE_TERMS order), left to right."""
    return w[0] * terms[3] - w[1] * terms[4] - w[2] * terms[5] - w[3] * terms[7] - w[4] * terms[6]


@njit(cache=True)
def _role_row(row, units, costs):  # pragma: no cover - compiled
    """One agent's terms in ROLE_TERMS order from its units (demand, sales, ordered,
    received, on_hand: integers) and (service_level, holding, ordering, excess) floats;
    lost sales and stockout are demand - sales."""
    demand, sales, ordered, received, on_hand = units
    lost = demand - sales
    row[0], row[1], row[2], row[3] = demand, sales, lost, costs[0]
    row[4], row[5], row[6], row[7] = costs[1], lost, costs[2], costs[3]
    row[8], row[9], row[10] = ordered, received, on_hand


@njit(cache=True)
def day(day_index, actions, state, params, out):  # pragma: no cover - compiled
    """Simulate ``day_index`` for every copy: mutate the state arrays, write the outcome.

    actions (B, N + K + 1): each slot's action, the warehouse's per SKU, the supplier's.
    ``out``: slot_out (9, B, N) and sku_out (9, B, K), the DayOutcome's int fields in its
    order (store_start .. store_pipeline_end; warehouse_start .. warehouse_pipeline_end);
    forecast_out (B, N) the forecast of the orders; terms (B, N + 2, 11) every agent's
    report (ROLE_TERMS order), rewards (B, N + 2), system (B, 4) holding, lost sales,
    ordering and total cost; obs and masks of the next day (see :func:`_observe_copy`).
    """
    on_hand, pipeline, warehouse_on_hand, warehouse_pipeline, forecast, forecast_var = state[:6]
    recent_service, stockout_yesterday, warehouse_last_order, supplier_last_shipped = state[6:10]
    days_to_delivery, demand, supplier_late, supplier_up = state[10:]
    ip, fp, store_capacity, sku_quantities = params[0], params[1], params[2], params[5]
    slot_out, forecast_out, sku_out, terms, rewards, system, obs, masks = out
    n_slots, n_skus = on_hand.shape[1], warehouse_on_hand.shape[1]
    n_stores = n_slots // n_skus
    store_lead, store_len, supplier_lead, w_len = ip[_LS], ip[_PS], ip[_LSUP], ip[_PW]
    order = np.empty(n_slots, np.int64)
    w_order, uncut = np.empty(n_skus, np.int64), np.empty(n_skus, np.int64)
    per_sku, column = np.empty(n_skus), np.empty(n_slots)
    for b in range(on_hand.shape[0]):
        start, received, sold_demand = slot_out[0, b], slot_out[1, b], slot_out[2, b]
        sales, lost, requested = slot_out[3, b], slot_out[4, b], slot_out[5, b]
        shipped, store_end, transit = slot_out[6, b], slot_out[7, b], slot_out[8, b]
        w_start, w_received, w_shipped = sku_out[0, b], sku_out[1, b], sku_out[2, b]
        w_requested, w_ordered, s_shipped = sku_out[3, b], sku_out[4, b], sku_out[5, b]
        on_time, w_end, w_transit = sku_out[6, b], sku_out[7, b], sku_out[8, b]
        # start-of-day positions (what the agents saw) cap the orders; 1. receive; 2. sell;
        # the orders from the forecast the agents saw (StoreRole.order_quantities)
        slot, room = day_index % store_len, store_capacity.copy()  # room under capacity
        for n in range(n_slots):
            start[n], transit[n] = on_hand[b, n], pipeline[b, n].sum()
            room[n // n_skus] -= start[n] + transit[n]
            received[n] = pipeline[b, n, slot]
            pipeline[b, n, slot] = 0
            transit[n] -= received[n]
            sold_demand[n] = demand[b, day_index, n]
            sales[n] = min(on_hand[b, n] + received[n], sold_demand[n])
            on_hand[b, n] += received[n] - sales[n]
            lost[n] = sold_demand[n] - sales[n]
            forecast_out[b, n] = forecast[b, n]
            order[n] = np.int64(np.rint(fp[_MULT + actions[b, n]] * forecast[b, n]))
        w_position, slot = 0, day_index % w_len
        for k in range(n_skus):
            w_start[k], w_transit[k] = warehouse_on_hand[b, k], warehouse_pipeline[b, k].sum()
            w_position += w_start[k] + w_transit[k]
            w_received[k] = warehouse_pipeline[b, k, slot]
            warehouse_pipeline[b, k, slot] = 0
            warehouse_on_hand[b, k] += w_received[k]
            w_transit[k] -= w_received[k]
        # 3. replenish stores: cut to the shared rooms, ship each SKU pro rata when short
        for s in range(n_stores):
            lo, hi = s * n_skus, (s + 1) * n_skus
            _cut(order[lo:hi], max(room[s], 0), requested[lo:hi])
        slot = (day_index + store_lead) % store_len
        for k in range(n_skus):
            w_requested[k] = requested[k::n_skus].sum()
            share = min(warehouse_on_hand[b, k], w_requested[k])
            for n in range(k, n_slots, n_skus):
                shipped[n] = requested[n] * share // max(w_requested[k], 1)
                if store_lead == 0:  # on the shelf tonight: part of the day's receipts
                    on_hand[b, n] += shipped[n]
                    received[n] += shipped[n]
                else:
                    pipeline[b, n, slot] += shipped[n]
                    transit[n] += shipped[n]
            w_shipped[k] = shipped[k::n_skus].sum()
            warehouse_on_hand[b, k] -= w_shipped[k]
        # 4. replenish the warehouse through the supplier (capacity shared by the SKUs)
        action = actions[b, n_slots + n_skus]
        for k in range(n_skus):
            w_order[k] = sku_quantities[k, actions[b, n_slots + k]]
        _cut(w_order, max(ip[_WCAP] - w_position, 0), w_ordered)
        for k in range(n_skus):
            uncut[k] = np.int64(np.floor(w_ordered[k] * fp[_FRACTION + action] + 1e-9))
        if n_skus == 1:
            s_shipped[0] = min(uncut[0], ip[_SCAP])
        else:
            _cut(uncut, max(ip[_SCAP], 0), s_shipped)
        if not supplier_up[b, day_index]:  # a supplier that is down ships nothing
            for k in range(n_skus):
                s_shipped[k] = 0
        lead = (
            ip[_EXTRA + action] + supplier_lead + (ip[_DELAY] if supplier_late[b, day_index] else 0)
        )
        slot = (day_index + lead) % w_len
        for k in range(n_skus):
            arrived = s_shipped[k] if (supplier_lead == 0 and lead == 0) else 0
            warehouse_on_hand[b, k] += arrived
            warehouse_pipeline[b, k, slot] += s_shipped[k] - arrived
            on_time[k] = s_shipped[k] if lead == supplier_lead else 0
            warehouse_last_order[b, k], supplier_last_shipped[b, k] = w_ordered[k], s_shipped[k]
            w_received[k] += arrived
            w_transit[k] += s_shipped[k] - arrived
            w_end[k] = warehouse_on_hand[b, k]
        if s_shipped.sum() > 0:
            days_to_delivery[b] = lead
        else:
            days_to_delivery[b] = max(days_to_delivery[b] - 1, 0)
        # 5. learn (forecast, its error variance, the fill rate); each store-SKU's report
        for n in range(n_slots):
            error = sold_demand[n] - forecast[b, n]
            change = fp[_ALPHA] * error
            forecast[b, n] += change
            change *= error
            change += forecast_var[b, n]
            change *= fp[_ONE_MINUS]
            forecast_var[b, n] = change
            fill = _fill(sales[n], sold_demand[n])
            recent_service[b, n] += fp[_ALPHA] * (fill - recent_service[b, n])
            stockout_yesterday[b, n] = lost[n] > 0
            end = store_end[n] = on_hand[b, n]
            ordering = fp[_ORDER] * (1.0 if requested[n] > 0 else 0.0)
            excess = _max0(end - fp[_ECD] * forecast_out[b, n])
            units = (sold_demand[n], sales[n], requested[n], shipped[n], end)
            _role_row(terms[b, n], units, (fill, fp[_HOLD] * end, ordering, excess))
            rewards[b, n] = _reward(terms[b, n], fp[_WEIGHTS : _WEIGHTS + 5])
        # the warehouse's and supplier's reports (summed over SKUs), the system cost
        _over_stores(forecast_out[b], per_sku)
        for k in range(n_skus):
            per_sku[k] = _max0(w_end[k] - fp[_WCOVER] * per_sku[k])
        w_excess = per_sku[0] if n_skus == 1 else _np_sum(per_sku)
        t_ordered, t_supplied, t_end = w_ordered.sum(), s_shipped.sum(), w_end.sum()
        units = (w_requested.sum(), w_shipped.sum(), t_ordered, t_supplied, t_end)
        w_ordering = fp[_ORDER] * np.float64((w_ordered > 0).sum())
        w_holding = fp[_WHOLD] * t_end
        costs = (_fill(units[1], units[0]), w_holding, w_ordering, w_excess)
        _role_row(terms[b, n_slots], units, costs)
        rewards[b, n_slots] = _reward(terms[b, n_slots], fp[_WEIGHTS + 5 : _WEIGHTS + 10])
        units = (t_ordered, on_time.sum(), t_ordered, t_supplied, 0)
        costs = (_fill(units[1], t_ordered), 0.0, 0.0, 0.0)
        _role_row(terms[b, n_slots + 1], units, costs)
        rewards[b, n_slots + 1] = _reward(terms[b, n_slots + 1], fp[_WEIGHTS + 10 :])
        column[:] = terms[b, :n_slots, 4]
        holding_total = _np_sum(column) + w_holding
        column[:] = terms[b, :n_slots, 6]
        ordering_total = _np_sum(column) + w_ordering
        lost_cost = fp[_PENALTY] * lost.sum()
        system[b, 0], system[b, 1], system[b, 2] = holding_total, lost_cost, ordering_total
        system[b, 3] = holding_total + lost_cost + ordering_total
        _observe_copy(b, state, params, obs, masks)


@njit(cache=True)
def observe(state, params, obs, masks):  # pragma: no cover - compiled
    """Every copy's observations and masks of the current day (after a reset)."""
    for b in range(state[0].shape[0]):
        _observe_copy(b, state, params, obs, masks)
