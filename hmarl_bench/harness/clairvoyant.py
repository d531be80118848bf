"""The clairvoyant bound: the least total cost any ordering plan could reach on one episode.

For one evaluation episode (a scenario and a seed) the whole demand (T, S) and the
supplier's late flags (T,) are read in advance from ``DigitalTwin(scenario, 1).reset([seed])``
(the episode :func:`~hmarl_bench.evaluation.evaluate` runs for that seed) and the cheapest
ordering plan is found as a mixed-integer program by scipy's ``milp`` (HiGHS branch and
bound). The cost is the benchmark's KPI (:func:`~hmarl_bench.evaluation.kpis_from_reports`):
over days ``>= warmup_days``, holding on end-of-day on hand at stores and warehouse, plus
``stockout_penalty`` per lost sale, plus ``ordering_cost`` per order of a positive quantity
placed by a store or the warehouse.

The model is the twin's day (``hmarl_bench.twin.dynamics``), for t = 0 .. T-1:

- morning: store s receives ``q[t - L, s]`` (L = warehouse-to-store lead time); the warehouse
  receives every supplier shipment ``w[k]`` with ``k + lead[k] = t``, where ``lead[k] =
  supplier.lead_time + delay_days x late[k]``: the supplier fulfils 100% (the action that
  ships the most, soonest), and its late days are known in advance;
- sales ``x[t, s] <= demand`` and ``<=`` the on hand after the morning's receipts; the rest is
  lost;
- store orders are shipped in full, so their sum is at most the warehouse's on hand after the
  morning's receipts (the twin's pro-rata cut never binds); with L = 0 they are on the shelf
  tonight;
- the warehouse orders ``w[t] <= supplier.capacity``, and nothing on a day the supplier is
  down (``supplier_up``, known in advance like the late days); with a lead of 0 it lands
  tonight;
- capacities as the twin enforces them: an order is at most the node's capacity minus its
  inventory position (on hand + in transit) at the *start* of the day;
- end-of-day on hand ``I[t, s] >= 0`` and ``W[t] >= 0`` by conservation of units.

Binary order indicators carry the fixed cost (``q <= M y`` with M the node's largest
possible order: its capacity, and for the warehouse also the supplier's capacity), on counted
days only: orders in the warm-up are free, as in the KPI. So the bound is tight, not the
near-zero cost of a relaxation. Selling less than possible never pays on a counted day (a
withheld unit costs a lost sale now and saves at most one later, plus holding), but lost
sales in the warm-up are free, so on warm-up days binaries force ``x = min(demand, on hand)``
exactly as the twin sells. Orders that cannot arrive before the end are fixed at 0.

Quantities are continuous by default (integrality only on the binaries, which HiGHS solves
far faster): the feasible set only grows, so the optimum is a valid *lower* bound on every
integer plan too. With integer demand and stock the continuous optimum is usually integral
anyway (given the binaries the rest is a flow problem), and then it replays in the twin to
the same cost.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, OptimizeResult, milp

from hmarl_bench.config import Scenario, load_scenario
from hmarl_bench.twin import DigitalTwin

__all__ = ["ClairvoyantResult", "clairvoyant_bound"]


@dataclass(frozen=True)
class ClairvoyantResult:
    """The clairvoyant bound of one episode; costs in currency over days >= warmup_days.

    ``total_cost``: HiGHS's dual bound, a valid lower bound on the KPI total cost of any
    plan; it is the optimum up to ``mip_gap`` (relative) when ``status`` is ``"optimal"``,
    and the best bound reached when ``status`` says the solver stopped at its time limit.
    ``plan_cost`` is the cost of the best plan found, split into ``holding_cost`` (itself
    split into ``store_holding_cost`` and ``warehouse_holding_cost``), ``lost_sales_cost``
    and ``ordering_cost``; the plan is ``store_orders`` (T, S) and
    ``warehouse_orders`` (T,) in units (rounded), ordered each day with supplier action 0.
    ``plan_is_integral`` says the solver's quantities were whole units (then replaying the
    plan in the twin gives ``plan_cost``). ``n_variables``, ``n_binaries`` and
    ``n_constraints`` give the problem's size.
    """

    total_cost: float
    holding_cost: float
    lost_sales_cost: float
    ordering_cost: float
    solve_seconds: float
    store_holding_cost: float
    warehouse_holding_cost: float
    status: str
    mip_gap: float
    plan_cost: float
    store_orders: np.ndarray
    warehouse_orders: np.ndarray
    plan_is_integral: bool
    n_variables: int
    n_binaries: int
    n_constraints: int


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
        """A block of variables; returns their column indices, with ``shape``."""
        index = np.arange(self.n_vars, self.n_vars + int(np.prod(shape))).reshape(shape)
        for store, value in ((self.lower, lower), (self.upper, upper), (self.cost, cost)):
            store.append(np.broadcast_to(np.asarray(value, dtype=float), shape).ravel())
        self.integer.append(np.full(index.size, int(binary)))
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


def clairvoyant_bound(
    scenario: Scenario | str,
    seed: int,
    time_limit: float = 60.0,
    mip_rel_gap: float = 1e-4,
    integer_quantities: bool = False,
) -> ClairvoyantResult:
    """The least KPI total cost any ordering plan reaches on episode ``seed``, as a MILP.

    Demand and the supplier's late and down days are known in advance; every node orders free
    non-negative quantities within the twin's rules (module docstring). Continuous
    quantities (the default) make the result a valid lower bound on integer plans too;
    ``integer_quantities=True`` asks for whole units (much slower to prove). HiGHS stops at
    ``mip_rel_gap`` (relative) or after ``time_limit`` seconds; ``total_cost`` is always
    its dual bound, a valid lower bound, and ``status`` says whether it stopped at the
    time limit. Prints nothing. Single-SKU scenarios only (``ValueError`` otherwise).
    """
    sc = load_scenario(scenario)
    if sc.n_skus > 1:
        raise ValueError(
            f"the clairvoyant bound models one SKU; scenario {sc.name!r} has {sc.n_skus} SKUs "
            "(shared capacities across SKUs are not in the MILP)"
        )
    state = DigitalTwin(sc, 1).reset([seed])
    demand = state.demand[0].astype(float)  # (T, S)
    late = state.supplier_late[0]  # (T,)
    supplier_up = state.supplier_up[0]  # (T,) a supplier that is down ships nothing
    n_days, n_stores = demand.shape
    warm, costs = sc.warmup_days, sc.costs
    days = np.arange(n_days)
    counted = days >= warm
    store_lead = sc.warehouse.lead_time
    supplier_lead = sc.supplier.lead_time + np.where(late, sc.supplier.delay_days, 0)  # (T,)
    store_cap = np.array([s.capacity for s in sc.stores], dtype=float)  # (S,)
    store_init = np.array([s.initial_inventory for s in sc.stores], dtype=float)
    wh_cap = float(sc.warehouse.capacity)
    wh_max_order = float(min(wh_cap, sc.supplier.capacity))

    m = _Model()
    # orders; those that cannot arrive before the episode ends only cost, so they are 0
    q = m.variables(
        (n_days, n_stores), upper=np.where((days + store_lead < n_days)[:, None], store_cap, 0.0)
    )
    w_open = (days + supplier_lead < n_days) & supplier_up
    w = m.variables(n_days, upper=np.where(w_open, wh_max_order, 0.0))
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
    y = m.variables((n_days - warm, n_stores), upper=1.0, cost=costs.ordering_cost, binary=True)
    y_wh = m.variables(n_days - warm, upper=1.0, cost=costs.ordering_cost, binary=True)
    m.rows([(q[warm:], 1.0), (y, -store_cap)], upper=0.0)
    m.rows([(w[warm:], 1.0), (y_wh, -wh_max_order)], upper=0.0)

    # ---- stores. Yesterday's on hand: on day 0 the initial stock, a constant on the right.
    prev = _lagged(on_hand, 1)
    prev_stock = np.where((days == 0)[:, None], store_init, 0.0)
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
    m.rows([(q, 1.0), (prev, 1.0), *in_transit], upper=store_cap - prev_stock)
    if warm > 0:  # warm-up: sales = min(demand, on hand); sold_out = 1 when on hand binds
        sold_out = m.variables((warm, n_stores), upper=1.0, binary=True)
        head = slice(0, warm)
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
    wh_prev_stock = np.where(days == 0, float(sc.warehouse.initial_inventory), 0.0)
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
    m.rows([(w, 1.0), (wh_prev, 1.0), *wh_transit], upper=wh_cap - wh_prev_stock)

    n_binaries = int(sum(block.sum() for block in m.integer))
    if integer_quantities:
        m.integer[0][:] = 1  # q
        m.integer[1][:] = 1  # w
    start = time.perf_counter()
    res = m.solve(time_limit, mip_rel_gap)
    seconds = time.perf_counter() - start
    if res.x is None:  # infeasible cannot happen (ordering nothing is a plan): a time limit
        if res.mip_dual_bound is None:
            raise RuntimeError(f"HiGHS gave no bound for seed {seed}: {res.message}")
        x = np.full(m.n_vars, np.nan)
        res.fun = np.nan
    else:
        x = res.x
    store_holding = costs.holding_cost * x[on_hand][counted].sum()
    warehouse_holding = costs.warehouse_holding_cost * x[wh_on_hand][counted].sum()
    holding = store_holding + warehouse_holding
    lost = lost_if_no_sales - costs.stockout_penalty * x[sales][counted].sum()
    ordering = costs.ordering_cost * (np.rint(x[y]).sum() + np.rint(x[y_wh]).sum())
    quantities = np.concatenate([x[q].ravel(), x[w]])
    if res.status == 0:
        status = "optimal"
    else:
        found = "" if res.x is not None else "; no plan found"
        status = f"stopped: {res.message.strip()} (total_cost is the dual bound{found})"
    return ClairvoyantResult(
        total_cost=float(res.mip_dual_bound),
        holding_cost=float(holding),
        lost_sales_cost=float(lost),
        ordering_cost=float(ordering),
        solve_seconds=seconds,
        store_holding_cost=float(store_holding),
        warehouse_holding_cost=float(warehouse_holding),
        status=status,
        mip_gap=float(res.mip_gap),
        plan_cost=float(res.fun),
        store_orders=np.rint(np.nan_to_num(x[q])).astype(np.int64),
        warehouse_orders=np.rint(np.nan_to_num(x[w])).astype(np.int64),
        plan_is_integral=bool(np.all(np.abs(quantities - np.rint(quantities)) < 1e-6)),
        n_variables=m.n_vars,
        n_binaries=n_binaries,
        n_constraints=m.n_rows,
    )
