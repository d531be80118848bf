"""The clairvoyant bound: the least total cost any ordering plan could reach on one episode.

For one evaluation episode (a scenario and a seed) the whole demand (T, S) and the
supplier's late flags (T,) are read in advance from ``DigitalTwin(scenario, 1).reset([seed])``
(the episode :func:`~hmarl_bench.evaluation.evaluate` runs for that seed) and the cheapest
ordering plan is found as a mixed-integer program by scipy's ``milp`` (HiGHS branch and
bound). The cost is the benchmark's KPI (:func:`~hmarl_bench.evaluation.kpis_from_reports`):
over days ``>= warmup_days``, holding on end-of-day on hand at stores and warehouse, plus
``stockout_penalty`` per lost sale, plus ``ordering_cost`` per order of a positive quantity
placed by a store or the warehouse.

The model is the twin's day (``hmarl_bench.twin.dynamics``), for t = 0 .. T-1, built by
:func:`~hmarl_bench.baselines.chain_milp.build_chain_model` (which the rolling-horizon
controller shares):

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
exactly as the twin sells. Supplier orders that cannot land before the end are fixed at 0
(they only cost). Store orders in the last L days stay free, as in the twin: such a
shipment never reaches the shelf, but it leaves the warehouse, which then stops paying its
holding cost (units in transit cost nothing). So the bound is a relaxation of every twin
trajectory in which the supplier fulfils in full or in part (``tests/test_clairvoyant.py``):
any such trajectory's orders, shipments and sales are a feasible point of the model, at no
lower cost. (The supplier's ``delay`` action could, in rare cases of shared supplier
capacity or late days, land a shipment on a day no order of the model can.)

Quantities are continuous by default (integrality only on the binaries, which HiGHS solves
far faster): the feasible set only grows, so the optimum is a valid *lower* bound on every
integer plan too. With integer demand and stock the continuous optimum is usually integral
anyway (given the binaries the rest is a flow problem), and then it replays in the twin to
the same cost.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from hmarl_bench.baselines.chain_milp import ChainProblem, build_chain_model
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
    counted = np.arange(n_days) >= warm
    problem = ChainProblem(
        demand=demand,
        supplier_lead=sc.supplier.lead_time + np.where(late, sc.supplier.delay_days, 0),
        store_on_hand=np.array([s.initial_inventory for s in sc.stores], dtype=float),
        warehouse_on_hand=float(sc.warehouse.initial_inventory),
        store_pipeline=np.zeros((n_stores, 1)),
        warehouse_pipeline=np.zeros(1),
        store_capacity=np.array([s.capacity for s in sc.stores], dtype=float),
        warehouse_capacity=float(sc.warehouse.capacity),
        supplier_capacity=float(sc.supplier.capacity),
        store_lead=sc.warehouse.lead_time,
        costs=costs,
        counted=counted,
        charged_from=warm,
        exact_sales_days=warm,
        ship_beyond_window=True,
        supplier_up=supplier_up,
    )
    built = build_chain_model(problem)
    m, q, w = built.model, built.store_orders, built.warehouse_orders
    on_hand, wh_on_hand, sales = built.store_on_hand, built.warehouse_on_hand, built.sales
    y, y_wh, lost_if_no_sales = built.store_ordered, built.warehouse_ordered, built.lost_if_no_sales
    n_binaries = built.n_binaries
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
