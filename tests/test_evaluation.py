"""evaluate(): batched KPIs equal stepping the multi-agent env with the rule policies."""

from __future__ import annotations

import numpy as np
import pytest

from hmarl_bench import HMARLEnvironment, load_scenario
from hmarl_bench.evaluation import KPI_COLUMNS, RoleController, evaluate, total_costs


def _env_kpis(name: str, seed: int) -> dict[str, float]:
    """The KPIs of one rule-policy episode, recomputed from the env's rewards and infos."""
    env = HMARLEnvironment(name)
    sc = env.scenario
    env.reset(seed=seed)
    totals = dict.fromkeys(("total_cost", "holding_cost", "lost_sales_cost", "ordering_cost"), 0.0)
    sold = demanded = lost = 0.0
    store_inventory, warehouse_inventory, store_reward = [], [], 0.0
    store_holding = warehouse_holding = 0.0
    while env.agents:
        day = env.day
        _, rewards, _, _, infos = env.step(env.rule_actions())
        if day < sc.warmup_days:
            continue
        for key in totals:
            totals[key] += infos["warehouse_1"]["system"][key]
        reports = [infos[a]["report"] for a in env.store_ids]
        sold += sum(r["sales"] for r in reports)
        demanded += sum(r["demand"] for r in reports)
        lost += sum(r["lost_sales"] for r in reports)
        store_holding += sum(r["holding_cost"] for r in reports)
        warehouse_holding += infos["warehouse_1"]["report"]["holding_cost"]
        store_inventory.append(sum(r["on_hand"] for r in reports))
        warehouse_inventory.append(infos["warehouse_1"]["report"]["on_hand"])
        store_reward += np.mean([rewards[a] for a in env.store_ids])
    return {
        **totals,
        "fill_rate": sold / demanded,
        "lost_sales": lost,
        "mean_store_inventory": float(np.mean(store_inventory)),
        "mean_warehouse_inventory": float(np.mean(warehouse_inventory)),
        "store_reward": store_reward,
        "store_holding_cost": store_holding,
        "warehouse_holding_cost": warehouse_holding,
    }


@pytest.mark.parametrize("name", ["default", "supplier_delay", "three_stores"])
def test_evaluate_equals_the_env_on_the_same_seeds(name: str) -> None:
    seeds = [4, 19]
    frame = evaluate(name, seeds=seeds)
    assert list(frame.columns) == ["seed", *KPI_COLUMNS]
    assert frame["seed"].tolist() == seeds
    for row, seed in zip(frame.itertuples(index=False), seeds, strict=True):
        expected = _env_kpis(name, seed)
        for column in KPI_COLUMNS:
            assert getattr(row, column) == pytest.approx(expected[column], rel=1e-9), column
    assert frame.loc[0, "total_cost"] != frame.loc[1, "total_cost"]


def test_evaluate_is_deterministic_and_keeps_reports() -> None:
    first = evaluate("default", seeds=[1, 2, 3], keep_reports=True)
    again = evaluate(load_scenario("default"), RoleController(), seeds=[1, 2, 3])
    np.testing.assert_array_equal(first.to_numpy(), again.to_numpy())
    reports = first.attrs["reports"]
    assert len(reports) == 90 and reports[0].day == 0
    assert 0.0 < first["fill_rate"].min() <= first["fill_rate"].max() <= 1.0
    total = first[["holding_cost", "lost_sales_cost", "ordering_cost"]].sum(axis=1)
    np.testing.assert_allclose(first["total_cost"], total)
    by_node = first[["store_holding_cost", "warehouse_holding_cost"]].sum(axis=1)
    np.testing.assert_allclose(first["holding_cost"], by_node)
    assert (first["warehouse_holding_cost"] > first["store_holding_cost"]).all()


def test_warmup_days_are_excluded() -> None:
    sc = load_scenario("default")
    frame = evaluate(sc, seeds=[0], keep_reports=True)
    reports = frame.attrs["reports"]

    def holding(days) -> float:
        return sum(
            float(r.stores.holding_cost.sum() + r.warehouse.holding_cost.sum())
            for r in reports
            if r.day in days
        )

    assert frame.loc[0, "holding_cost"] == pytest.approx(holding(range(sc.warmup_days, 90)))
    assert holding(range(sc.warmup_days)) > 0


@pytest.mark.parametrize("name", ["default", "three_stores", "high_variability", "multi_sku"])
@pytest.mark.parametrize("seeds", [[3, 8, 21], [5]])
def test_total_costs_equal_evaluates_total_cost_exactly(name: str, seeds: list[int]) -> None:
    """The lean accumulator for tuning is evaluate()'s total cost, bit for bit, also when
    the seeds are repeated for several candidates in one pass."""
    from hmarl_bench.baselines import RandomPolicy, SeedSSFree

    for make in (RoleController, SeedSSFree, lambda: RandomPolicy(4)):
        expected = evaluate(name, make(), seeds)["total_cost"].to_numpy()
        np.testing.assert_array_equal(total_costs(name, make(), seeds), expected)
        if not isinstance(make(), RandomPolicy):  # its draws depend on the batch size
            tiled = total_costs(name, make(), seeds, repeats=3)
            np.testing.assert_array_equal(tiled, np.tile(expected, 3))
