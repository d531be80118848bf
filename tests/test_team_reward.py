"""Team rewards: each role's reward mixed with the chain's cost, from the reports alone."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hmarl_bench import HMARLEnvironment, SharedPolicyVecEnv, load_scenario
from hmarl_bench.envs.upper_vec import SupplierVecEnv, WarehouseVecEnv
from hmarl_bench.evaluation import RoleController, evaluate
from hmarl_bench.reconciliation import (
    ReconciliationReport,
    RoleReport,
    reward,
    system_cost,
    team_rewards,
)

WEIGHTS = [0.0, 0.3, 1.0]


def _reports(scenario: str = "default", seeds=(0, 1)):
    frame = evaluate(scenario, RoleController(), list(seeds), keep_reports=True)
    return frame.attrs["reports"]


@pytest.mark.parametrize("weight", WEIGHTS)
def test_team_rewards_are_computed_from_the_report_alone(weight):
    sc = load_scenario("default")
    report = _reports()[20]
    stores, warehouse, supplier = team_rewards(report, sc, weight)
    cost = system_cost(report, sc)["total_cost"]
    np.testing.assert_allclose(
        stores, (1 - weight) * reward(report.stores, sc.store_reward) - weight * cost[:, None]
    )
    np.testing.assert_allclose(
        warehouse, (1 - weight) * reward(report.warehouse, sc.warehouse_reward) - weight * cost
    )
    np.testing.assert_allclose(
        supplier, (1 - weight) * reward(report.supplier, sc.supplier_reward) - weight * cost
    )
    # a copy of the report with only its numbers (no state, no outcome) gives the same
    copied = ReconciliationReport(
        report.day,
        *(RoleReport(**{k: np.array(v) for k, v in dataclasses.asdict(r).items()})
          for r in (report.stores, report.warehouse, report.supplier)),
    )  # fmt: skip
    for a, b in zip(team_rewards(copied, sc, weight), (stores, warehouse, supplier), strict=True):
        np.testing.assert_array_equal(a, b)
    # and a changed cost term changes the team reward of every role
    copied.warehouse.holding_cost = copied.warehouse.holding_cost + 100.0
    changed = team_rewards(copied, sc, weight)
    assert (weight == 0) == np.array_equal(changed[0], stores)


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("weight", WEIGHTS)
def test_env_team_rewards_match_the_reports(compiled, weight):
    env = HMARLEnvironment("default", compiled=compiled, team_weight=weight)
    seed_env = HMARLEnvironment("default", compiled=compiled)
    env.reset(seed=4)
    seed_env.reset(seed=4)
    sc = env.scenario
    for _ in range(12):
        actions = env.rule_actions()
        _, rewards, _, _, _ = env.step(actions)
        _, seed_rewards, _, _, _ = seed_env.step(actions)
        stores, warehouse, supplier = team_rewards(env.last_report, sc, weight)
        expected = [*stores[0], warehouse[0], supplier[0]]
        np.testing.assert_allclose(list(rewards.values()), expected, rtol=1e-12)
        if weight == 0:
            assert rewards == seed_rewards


@pytest.mark.parametrize("weight", WEIGHTS)
def test_vec_envs_train_on_team_rewards(weight):
    sc = load_scenario("default")
    vec = SharedPolicyVecEnv(sc, n_envs=2, fixed_seeds=[5, 6], team_weight=weight)
    upper = WarehouseVecEnv(sc, n_envs=2, fixed_seeds=[5, 6], team_weight=weight)
    supplier = SupplierVecEnv(sc, n_envs=2, fixed_seeds=[5, 6], team_weight=weight)
    vec.reset(), upper.reset(), supplier.reset()
    reports = _reports(seeds=(5, 6))
    for day in range(6):
        stores, warehouse, sup = team_rewards(reports[day], sc, weight)
        _, r_store, _, _ = vec.step(vec.store_role.rule_actions(vec.twin.state).reshape(-1))
        _, r_wh, _, _ = upper.step(upper.role.rule_actions(upper.twin.state))
        _, r_sup, _, _ = supplier.step(np.zeros(2, dtype=np.int64))
        np.testing.assert_allclose(r_store, stores.reshape(-1).astype(np.float32), rtol=1e-6)
        np.testing.assert_allclose(r_wh, warehouse.astype(np.float32), rtol=1e-6)
        np.testing.assert_allclose(r_sup, sup.astype(np.float32), rtol=1e-6)


@pytest.mark.parametrize("bad", [-0.1, 1.5, "half", True])
def test_bad_team_weight_is_refused(bad):
    with pytest.raises(ValueError, match="team_weight"):
        HMARLEnvironment("default", team_weight=bad)
