"""The faster rolling-horizon MILP: the exact rule's problem with fewer binaries and a looser
gap, registered as its own rule; speed.mpc measures it on a fixed number of days."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hmarl_bench.baselines import BASELINES, MILP_BASELINES, RollingHorizonMILP
from hmarl_bench.baselines.chain_milp import build_chain_model
from hmarl_bench.baselines.mpc_fast import FAST_BINARY_DAYS, FAST_GAP, FastRollingHorizonMILP
from hmarl_bench.config import load_scenario
from hmarl_bench.speed import mpc as speed_mpc
from hmarl_bench.twin import DigitalTwin


def first_problems(scenario: str = "lost_sales_long_lead", binary_days: int | None = None):
    sc = load_scenario(scenario)
    twin = DigitalTwin(sc, batch_size=1)
    twin.reset([10000])
    view = twin.view()
    problems = []
    for controller in (RollingHorizonMILP(), FastRollingHorizonMILP(binary_days=binary_days)):
        controller.reset(sc, 1)
        n_days = min(controller.horizon, view.days_left)
        pipes = (view.store_pipeline_by_arrival, view.warehouse_pipeline_by_arrival)
        problems.append(controller.problem(view, 0, n_days, *pipes))
    return problems


def test_fast_rule_solves_the_exact_problem_to_a_looser_gap():
    exact, fast = first_problems()
    assert FAST_BINARY_DAYS is None
    for field in dataclasses.fields(exact):
        mine, theirs = getattr(exact, field.name), getattr(fast, field.name)
        assert np.array_equal(mine, theirs) if isinstance(mine, np.ndarray) else mine == theirs
    assert FastRollingHorizonMILP().mip_rel_gap == FAST_GAP > RollingHorizonMILP().mip_rel_gap


def test_binary_days_keeps_binaries_on_the_first_days_only():
    exact, fast = first_problems(binary_days=3)
    assert exact.binary_days is None and fast.binary_days == 3
    for field in ("demand", "store_safety", "store_order_limit", "warehouse_order_limit"):
        assert (getattr(exact, field) == getattr(fast, field)).all()
    assert build_chain_model(fast).n_binaries < build_chain_model(exact).n_binaries


def test_fast_rule_is_registered_beside_the_exact_one():
    assert {"mpc_fast_free", "tuned_mpc_fast_free"} <= set(MILP_BASELINES)
    assert BASELINES["tuned_mpc_fast_free"].rule_class is FastRollingHorizonMILP
    assert BASELINES["tuned_mpc_free"].rule_class is RollingHorizonMILP
    sc = load_scenario("default")
    assert FastRollingHorizonMILP.tuning_grid(sc) == RollingHorizonMILP.tuning_grid(sc)


def test_binary_days_below_one_is_refused():
    with pytest.raises(ValueError, match="binary_days must be >= 1"):
        FastRollingHorizonMILP(binary_days=0)


@pytest.mark.parametrize("policy", sorted(speed_mpc.POLICIES))
def test_speed_mpc_measures_either_policy_on_a_fixed_number_of_days(policy):
    cost = speed_mpc.measure("default", 600, 10000, 1, 1, policy=policy, days=2)
    assert cost.days_measured == 2 and cost.mean_solve > 0
