"""The chain's deterministic ordering problem over a window of days, as one MILP.

Shared by the clairvoyant bound (:mod:`hmarl_bench.harness.clairvoyant`: the whole episode,
the realized demand and late days read in advance) and the rolling-horizon controller
(:mod:`hmarl_bench.baselines.mpc`: the next H days, the nominal demand, what is in transit).
The model is the twin's day (``hmarl_bench.twin.dynamics``), for window days t = 0 .. H-1:

- morning: store s receives ``q[t - L, s]`` (L = warehouse-to-store lead time) and what was
  already in transit for that day; the warehouse receives every supplier shipment ``w[k]``
  with ``k + lead[k] = t``, plus what was already in transit for t;
- sales ``x[t, s] <= demand`` and ``<=`` the on hand after the morning's receipts; the rest
  is lost;
- store orders are shipped in full, so their sum is at most the warehouse's on hand after
  the morning's receipts; with L = 0 they are on the shelf tonight;
- the warehouse orders ``w[t] <= supplier.capacity``, and nothing on a day the supplier is
  down (``supplier_up``); with a lead of 0 it lands tonight;
- capacities as the twin enforces them: an order is at most the node's capacity minus its
  inventory position (on hand + in transit) at the *start* of the day;
- end-of-day on hand ``I[t, s] >= 0`` and ``W[t] >= 0`` by conservation of units.

Costs: holding on end-of-day on hand and ``stockout_penalty`` per lost sale on the
``counted`` days; ``ordering_cost`` per order of a positive quantity from day
``charged_from`` on, through binary indicators (``q <= M y``, M the node's largest possible
order). Optionally (the controller's safety stock) a soft floor under each node's end-of-day
on hand, each missing unit-day costing ``safety_penalty``. A supplier order that lands
after the window is fixed at 0 (it only costs); so is a store order that lands after it,
unless ``ship_beyond_window`` (the twin lets such a shipment leave the warehouse, which
ends the warehouse's holding cost of those units: the clairvoyant bound allows it, so it
is a relaxation of every trajectory).

Quantities are continuous (integrality only on the binaries, which HiGHS solves far
faster); ``integer_quantities`` asks for whole units.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, OptimizeResult, milp

from hmarl_bench.config import Costs

__all__ = ["ChainModel", "ChainProblem", "build_chain_model"]


@dataclass(frozen=True)
class ChainProblem:
    """One window of the chain's ordering problem (single SKU), in units and days.

    ``demand`` (H, S) per window day and store; ``supplier_lead`` (H,) the lead time of a
    shipment ordered on each day; ``store_on_hand`` (S,) and ``warehouse_on_hand`` at the
    start of day 0; ``store_pipeline`` (S, Ps) and ``warehouse_pipeline`` (Pw,) what is in
    transit, by arrival day from day 0 (entry j lands on the morning of day j); ``counted``
    (H,) the days whose holding and lost sales cost; orders cost from ``charged_from`` on;
    on days before ``exact_sales_days`` sales are forced to ``min(demand, on hand)`` (lost
    sales there are free, so the model would otherwise withhold stock); ``store_safety``
    (S,) or (H, S) / ``warehouse_safety`` (a number or (H,)): soft floors under end-of-day
    on hand (None: none). ``binary_days``: the order indicators are binary on the first
    ``binary_days`` charged days only and relaxed to [0, 1] after (a faster, looser model for
    days whose orders are re-planned anyway); None: binary on every charged day.
    ``supplier_up`` (H,): the days the supplier can ship at all (None: every day).
    ``store_order_limit`` / ``warehouse_order_limit``: the largest order worth placing on
    each day (e.g. the demand left in the window after it lands); they bound the orders and
    serve as the big-M of the fixed-cost indicators, a much tighter relaxation than the
    capacities (None: the capacities).
    """

    demand: np.ndarray
    supplier_lead: np.ndarray
    store_on_hand: np.ndarray
    warehouse_on_hand: float
    store_pipeline: np.ndarray
    warehouse_pipeline: np.ndarray
    store_capacity: np.ndarray
    warehouse_capacity: float
    supplier_capacity: float
    store_lead: int
    costs: Costs
    counted: np.ndarray
    charged_from: int = 0
    exact_sales_days: int = 0
    ship_beyond_window: bool = False
    supplier_up: np.ndarray | None = None  # (H,) bool: days the supplier can ship
    binary_days: int | None = None  # order indicators binary on the first days only
    store_order_limit: np.ndarray | None = None  # (H, S) largest useful store order
    warehouse_order_limit: np.ndarray | None = None  # (H,) largest useful supplier order
    store_safety: np.ndarray | None = None  # (S,) or (H, S)
    warehouse_safety: float | np.ndarray = 0.0  # or (H,)
    safety_penalty: float = 0.0


class _Model:
    """Variables and sparse constraint rows of a MILP, added in vectorized blocks."""

    def __init__(self) -> None:
        self.n_vars = 0
        self.n_rows = 0
        self.lower: list[np.ndarray] = []
        self.upper: list[np.ndarray] = []
        self.integer: list[np.ndarray] = []
        self.cost: list[np.ndarray] = []
        self.entries: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.row_lower: list[np.ndarray] = []
        self.row_upper: list[np.ndarray] = []

    def variables(self, shape, lower=0.0, upper=np.inf, cost=0.0, binary=False) -> np.ndarray:
        """A block of variables; returns their column indices, with ``shape``. ``binary``:
        one flag for the block, or one per variable (broadcast to ``shape``)."""
        index = np.arange(self.n_vars, self.n_vars + int(np.prod(shape))).reshape(shape)
        for store, value in ((self.lower, lower), (self.upper, upper), (self.cost, cost)):
            store.append(np.broadcast_to(np.asarray(value, dtype=float), shape).ravel())
        self.integer.append(np.broadcast_to(np.asarray(binary, dtype=int), shape).ravel().copy())
        self.n_vars += index.size
        return index

    def rows(self, terms, lower=-np.inf, upper=np.inf) -> None:
        """Rows ``lower <= sum of coef x var <= upper``, one per element of the index arrays.

        ``terms`` are ``(index array, coefficient)`` pairs, all of the rows' shape; an index
        of -1 leaves that term out of that row.
        """
        shape = np.shape(terms[0][0])
        row_ids = np.arange(self.n_rows, self.n_rows + int(np.prod(shape)))
        for index, coef in terms:
            index = np.broadcast_to(index, shape).ravel()
            coef = np.broadcast_to(np.asarray(coef, dtype=float), shape).ravel()
            keep = index >= 0
            self.entries.append((row_ids[keep], index[keep], coef[keep]))
        self.row_lower.append(np.broadcast_to(np.asarray(lower, dtype=float), shape).ravel())
        self.row_upper.append(np.broadcast_to(np.asarray(upper, dtype=float), shape).ravel())
        self.n_rows += row_ids.size

    def solve(self, time_limit: float, mip_rel_gap: float) -> OptimizeResult:
        rows, cols, vals = (np.concatenate(part) for part in zip(*self.entries, strict=True))
        matrix = sparse.csr_array((vals, (rows, cols)), shape=(self.n_rows, self.n_vars))
        with _native_stdout_silenced():
            return milp(
                c=np.concatenate(self.cost),
                integrality=np.concatenate(self.integer),
                bounds=Bounds(np.concatenate(self.lower), np.concatenate(self.upper)),
                constraints=LinearConstraint(
                    matrix, np.concatenate(self.row_lower), np.concatenate(self.row_upper)
                ),
                options={"time_limit": time_limit, "mip_rel_gap": mip_rel_gap, "disp": False},
            )


@contextlib.contextmanager
def _native_stdout_silenced() -> Iterator[None]:
    """Silence what native code writes to file descriptor 1 while solving.

    Some HiGHS builds print a leftover debug line
    (``HighsMipSolverData::transformNewIntegerFeasibleSolution tmpSolver.run();``, HiGHS
    issue 2783) even with ``disp=False``; it would break progress bars and tables. The
    solver's status and messages come back in the result, so nothing is lost. Python's own
    ``sys.stdout`` is flushed first and left alone.
    """
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # no real stdout (e.g. captured): nothing
        yield
        return
    sys.stdout.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), fd)
            yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def _lagged(index: np.ndarray, lag: int | np.ndarray) -> np.ndarray:
    """``index[t - lag]`` along the first (day) axis, and -1 (no term) where ``t < lag``."""
    days = np.arange(index.shape[0])
    source = days - np.broadcast_to(lag, days.shape)
    valid = (source >= 0).reshape((-1,) + (1,) * (index.ndim - 1))
    return np.where(valid, index[np.clip(source, 0, None)], -1)


def _window_arrivals(pipeline: np.ndarray, n_days: int) -> tuple[np.ndarray, np.ndarray]:
    """From a pipeline by arrival day (..., P): arrivals per window day (n_days, ...) and
    the units in transit at the start of each window day (arriving that day or later)."""
    pipeline = np.asarray(pipeline, dtype=float)
    slots = pipeline.shape[-1]
    arrivals = np.zeros((n_days, *pipeline.shape[:-1]))
    within = min(slots, n_days)
    arrivals[:within] = np.moveaxis(pipeline[..., :within], -1, 0)
    later = np.cumsum(np.moveaxis(pipeline, -1, 0)[::-1], axis=0)[::-1]  # sum over j >= t
    in_transit = np.zeros_like(arrivals)
    in_transit[:within] = later[:within]
    return arrivals, in_transit


@dataclass
class ChainModel:
    """A built model and the column indices of its decision blocks ((H, S) or (H,))."""

    model: _Model
    store_orders: np.ndarray
    warehouse_orders: np.ndarray
    store_on_hand: np.ndarray
    warehouse_on_hand: np.ndarray
    sales: np.ndarray
    store_ordered: np.ndarray  # binaries of the charged days
    warehouse_ordered: np.ndarray
    lost_if_no_sales: float
    n_binaries: int

    def solve(self, time_limit: float, mip_rel_gap: float) -> OptimizeResult:
        return self.model.solve(time_limit, mip_rel_gap)


def build_chain_model(problem: ChainProblem) -> ChainModel:
    """The MILP of ``problem`` (see the module docstring), ready to solve."""
    p, costs = problem, problem.costs
    demand = np.asarray(p.demand, dtype=float)
    supplier_lead = np.asarray(p.supplier_lead)
    n_days, n_stores = demand.shape
    days = np.arange(n_days)
    counted = np.asarray(p.counted, dtype=bool)
    warm = p.charged_from
    store_lead = p.store_lead
    store_cap = np.asarray(p.store_capacity, dtype=float)
    wh_cap = float(p.warehouse_capacity)
    wh_max_order = float(min(wh_cap, p.supplier_capacity))
    store_arrivals, store_transit0 = _window_arrivals(p.store_pipeline, n_days)
    wh_arrivals, wh_transit0 = _window_arrivals(p.warehouse_pipeline, n_days)

    m = _Model()
    # orders; those that cannot arrive before the window ends only cost, so they are 0
    store_open = np.ones(n_days, dtype=bool) if p.ship_beyond_window else days + store_lead < n_days
    store_big = store_cap if p.store_order_limit is None else p.store_order_limit
    wh_big = wh_max_order if p.warehouse_order_limit is None else p.warehouse_order_limit
    q = m.variables((n_days, n_stores), upper=np.where(store_open[:, None], store_big, 0.0))
    w_open = days + supplier_lead < n_days
    if p.supplier_up is not None:  # a supplier that is down ships nothing
        w_open = w_open & np.asarray(p.supplier_up, dtype=bool)
    w = m.variables(n_days, upper=np.where(w_open, wh_big, 0.0))
    # end-of-day on hand, sales (lost sales cost the penalty x (demand - sales)) and the
    # fixed-cost indicators, all costed on counted days only
    on_hand = m.variables(
        (n_days, n_stores), cost=np.where(counted, costs.holding_cost, 0)[:, None]
    )
    wh_on_hand = m.variables(n_days, cost=np.where(counted, costs.warehouse_holding_cost, 0))
    sales = m.variables(
        (n_days, n_stores),
        upper=demand,
        cost=np.where(counted, -costs.stockout_penalty, 0)[:, None],
    )
    lost_if_no_sales = costs.stockout_penalty * demand[counted].sum()
    m.variables(1, lower=1.0, upper=1.0, cost=lost_if_no_sales)  # the objective's constant
    binary = np.arange(n_days - warm) < (n_days if p.binary_days is None else p.binary_days)
    y = m.variables(
        (n_days - warm, n_stores), upper=1.0, cost=costs.ordering_cost, binary=binary[:, None]
    )
    y_wh = m.variables(n_days - warm, upper=1.0, cost=costs.ordering_cost, binary=binary)
    store_m = np.broadcast_to(store_big, (n_days, n_stores))[warm:]
    m.rows([(q[warm:], 1.0), (y, -store_m)], upper=0.0)
    m.rows([(w[warm:], 1.0), (y_wh, -np.broadcast_to(wh_big, (n_days,))[warm:])], upper=0.0)

    # ---- stores. Yesterday's on hand: on day 0 the initial stock, a constant on the right,
    # as are the morning's arrivals of what was already in transit.
    prev = _lagged(on_hand, 1)
    prev_stock = np.where((days == 0)[:, None], p.store_on_hand, 0.0) + store_arrivals
    received = _lagged(q, store_lead) if store_lead > 0 else np.full_like(q, -1)
    shelved_tonight = q if store_lead == 0 else np.full_like(q, -1)
    m.rows(  # on_hand = prev + received - sales (+ today's shipment when L = 0)
        [(on_hand, 1.0), (prev, -1.0), (received, -1.0), (sales, 1.0), (shelved_tonight, -1.0)],
        lower=prev_stock,
        upper=prev_stock,
    )
    # sales come from the shelf after the morning's receipts
    m.rows([(sales, 1.0), (prev, -1.0), (received, -1.0)], upper=prev_stock)
    # order + start-of-day position (yesterday's on hand + in transit) <= capacity
    in_transit = [(_lagged(q, lag), 1.0) for lag in range(1, store_lead + 1)]
    start_position = prev_stock - store_arrivals + store_transit0
    m.rows([(q, 1.0), (prev, 1.0), *in_transit], upper=store_cap - start_position)
    exact = p.exact_sales_days
    if exact > 0:  # sales = min(demand, on hand); sold_out = 1 when on hand binds
        sold_out = m.variables((exact, n_stores), upper=1.0, binary=True)
        head = slice(0, exact)
        m.rows([(sales[head], 1.0), (sold_out, demand[head])], lower=demand[head])
        m.rows(
            [
                (sales[head], 1.0),
                (prev[head], -1.0),
                (received[head], -1.0),
                (sold_out, -store_cap),
            ],
            lower=prev_stock[head] - store_cap,
        )

    # ---- warehouse. Supplier shipments of day k land on day k + lead[k].
    wh_prev = _lagged(wh_on_hand, 1)
    wh_prev_stock = np.where(days == 0, float(p.warehouse_on_hand), 0.0) + wh_arrivals
    arrivals = []  # one term per possible lead: w[t - lead] if day t - lead had that lead
    for lead in np.unique(supplier_lead[supplier_lead > 0]):
        source = _lagged(days, lead)
        arrivals.append((np.where(supplier_lead[source] == lead, _lagged(w, lead), -1), -1.0))
    landed_tonight = np.where(supplier_lead == 0, w, -1)
    shipped = [(q[:, s], 1.0) for s in range(n_stores)]
    m.rows(  # wh_on_hand = prev + arrivals - shipments to stores (+ a lead-0 delivery)
        [(wh_on_hand, 1.0), (wh_prev, -1.0), *arrivals, *shipped, (landed_tonight, -1.0)],
        lower=wh_prev_stock,
        upper=wh_prev_stock,
    )
    # the warehouse ships from what it has after the morning's receipts
    m.rows([*shipped, (wh_prev, -1.0), *arrivals], upper=wh_prev_stock)
    # order + start-of-day position <= capacity; w[k] is in transit on days k < t <= k + lead[k]
    wh_transit = []
    for lag in range(1, int(supplier_lead.max()) + 1):
        source = _lagged(days, lag)
        wh_transit.append((np.where(supplier_lead[source] >= lag, _lagged(w, lag), -1), 1.0))
    wh_start_position = wh_prev_stock - wh_arrivals + wh_transit0
    m.rows([(w, 1.0), (wh_prev, 1.0), *wh_transit], upper=wh_cap - wh_start_position)

    n_binaries = int(sum(block.sum() for block in m.integer))
    if p.store_safety is not None and p.safety_penalty > 0:  # soft safety-stock floors
        short = m.variables((n_days, n_stores), cost=p.safety_penalty)
        m.rows([(on_hand, 1.0), (short, 1.0)], lower=np.broadcast_to(p.store_safety, short.shape))
        wh_short = m.variables(n_days, cost=p.safety_penalty)
        floor = np.broadcast_to(np.asarray(p.warehouse_safety, dtype=float), wh_short.shape)
        m.rows([(wh_on_hand, 1.0), (wh_short, 1.0)], lower=floor)
    return ChainModel(
        model=m,
        store_orders=q,
        warehouse_orders=w,
        store_on_hand=on_hand,
        warehouse_on_hand=wh_on_hand,
        sales=sales,
        store_ordered=y,
        warehouse_ordered=y_wh,
        lost_if_no_sales=float(lost_if_no_sales),
        n_binaries=n_binaries,
    )
