"""The new rule families on small hand-computed cases: echelon orders, cut-offs, levels."""

from __future__ import annotations

import numpy as np
import pytest

from hmarl_bench import DigitalTwin, load_scenario
from hmarl_bench.agents.roles import STORE_ORDER_MULTIPLIERS
from hmarl_bench.baselines import (
    EchelonActions,
    EchelonBaseStockFree,
    EchelonFree,
    EchelonSSFree,
    ForecastSSFree,
)
from hmarl_bench.baselines.levels import DemandPlan
from hmarl_bench.evaluation import evaluate
from hmarl_bench.twin.demand import mean_demand


def _view(name: str = "default", day: int = 10, **arrays):
    """A one-copy view of ``name`` on ``day`` with the state's arrays set by hand."""
    twin = DigitalTwin(name, batch_size=1)
    state = twin.reset(0)
    state.day = day
    for field, value in arrays.items():
        getattr(state, field)[...] = value
    return twin.view()


def _decide(controller, view):
    controller.reset(view.scenario, view.batch_size)
    return controller.decide(view)


def test_echelon_ss_orders_on_the_echelon_position() -> None:
    # stores: on hand 10 and 20, 5 units in transit to the first; warehouse: 100 on hand,
    # 50 in transit: echelon position 100 + 50 + (10 + 5) + 20 = 185
    pipeline = np.zeros((1, 1, 13), dtype=np.int64)
    pipeline[0, 0, 4] = 50
    view = _view(
        store_on_hand=[[10, 20]],
        store_pipeline=[[[5, 0], [0, 0]]],
        warehouse_on_hand=[[100]],
        warehouse_pipeline=pipeline,
    )
    assert view.echelon_position.tolist() == [[185]]
    rule = EchelonSSFree(
        store_reorder_point=[20, 15],
        store_order_up_to=[60, 40],
        warehouse_reorder_point=[300],
        warehouse_order_up_to=[500],
    )
    stores, warehouse, supplier = _decide(rule, view)
    assert stores.tolist() == [[60 - 15, 0]]  # 15 <= 20 orders; 20 > 15 does not
    assert warehouse.tolist() == [[500 - 185]]  # on the echelon position, not 150
    assert supplier.tolist() == [0]
    # above its reorder point the warehouse waits
    wait = EchelonSSFree(
        store_reorder_point=[20, 15],
        store_order_up_to=[60, 40],
        warehouse_reorder_point=[150],
        warehouse_order_up_to=[500],
    )
    assert _decide(wait, view)[1].tolist() == [[0]]


def test_echelon_base_stock_orders_up_to_its_level_every_day() -> None:
    view = _view(store_on_hand=[[30, 45]], warehouse_on_hand=[[400]])
    rule = EchelonBaseStockFree(store_order_up_to=[50, 45], warehouse_order_up_to=[600])
    stores, warehouse, _ = _decide(rule, view)
    assert stores.tolist() == [[20, 0]]
    assert warehouse.tolist() == [[600 - 475]]


@pytest.mark.parametrize("cls", [EchelonSSFree, EchelonFree, ForecastSSFree])
def test_nothing_is_ordered_that_lands_after_the_end(cls) -> None:
    sc = load_scenario("default")
    low = {"store_on_hand": [[0, 0]], "warehouse_on_hand": [[500]]}
    lead, supplier = sc.warehouse.lead_time, sc.supplier.lead_time
    last_store_day = sc.episode_days - lead - 1  # its order lands on the last day
    last_warehouse_day = sc.episode_days - supplier - lead - 1
    stores, warehouse, _ = _decide(cls(), _view(day=last_warehouse_day, **low))
    assert stores.sum() > 0 and warehouse.sum() > 0
    stores, warehouse, _ = _decide(cls(), _view(day=last_warehouse_day + 1, **low))
    assert stores.sum() > 0 and warehouse.sum() == 0
    stores, warehouse, _ = _decide(cls(), _view(day=last_store_day + 1, **low))
    assert stores.sum() == 0 and warehouse.sum() == 0
    # tuned cut-offs stop them earlier, a day per day
    rule = cls(store_cutoff_days=3.0, warehouse_cutoff_days=2.0)
    stores, warehouse, _ = _decide(rule, _view(day=last_store_day - 2, **low))
    assert stores.sum() == 0
    stores, _, _ = _decide(rule, _view(day=last_store_day - 3, **low))
    assert stores.sum() > 0
    assert _decide(rule, _view(day=last_warehouse_day - 1, **low))[1].sum() == 0
    assert _decide(rule, _view(day=last_warehouse_day - 2, **low))[1].sum() > 0


@pytest.mark.parametrize("name", ["strong_seasonality", "demand_spike"])
def test_forecast_following_levels_are_window_sums_of_the_profile(name: str) -> None:
    """With no safety stock, a store reorders when its position is at most the nominal
    demand of the next L + 1 days, and orders up to that plus its gap days' demand."""
    sc = load_scenario(name)
    mean = mean_demand(sc)
    lead = sc.warehouse.lead_time
    rule = ForecastSSFree(store_safety=[0.0, 0.0], store_gap_days=[1.5, 0.0])
    for day in (0, 25, 38, 60, sc.episode_days - 2):
        view = _view(name, day=day, store_on_hand=[[0, 0]])
        rule.reset(sc, 1)
        reorder, order_up_to = rule.store_levels(view)
        cover = mean[day : day + lead + 1].sum(axis=0)  # cut at the end of the episode
        np.testing.assert_allclose(reorder[0] if reorder.ndim > 1 else reorder, cover)
        after = np.zeros(2)
        if day + lead + 1 < sc.episode_days:
            after += mean[day + lead + 1]
        if day + lead + 2 < sc.episode_days:
            after += 0.5 * mean[day + lead + 2]
        expected = cover + np.array([after[0], 0.0])
        np.testing.assert_allclose(np.ravel(order_up_to), expected)


def test_safety_stock_scales_with_the_window_std_and_forecasts_scale_the_levels() -> None:
    sc = load_scenario("default")
    plan = DemandPlan(sc)
    view = _view(day=20, store_on_hand=[[0, 0]])
    spread = np.sqrt(plan.slot_var.window(20, sc.warehouse.lead_time + 1.0))
    base = ForecastSSFree(store_safety=[0.0, 0.0])
    base.reset(sc, 1)
    safe = ForecastSSFree(store_safety=[2.0, 1.0])
    safe.reset(sc, 1)
    difference = np.ravel(safe.store_levels(view)[0]) - np.ravel(base.store_levels(view)[0])
    np.testing.assert_allclose(difference, [2.0 * spread[0], 1.0 * spread[1]])
    # demand running at twice the plan (the stores' forecasts say so) doubles the levels
    hot = _view(day=20, store_on_hand=[[0, 0]], forecast=2.0 * plan.expected_forecast[20])
    follow = ForecastSSFree(store_safety=[0.0, 0.0], forecast_weight=1.0)
    follow.reset(sc, 1)
    np.testing.assert_allclose(
        np.ravel(follow.store_levels(hot)[0]), 2.0 * np.ravel(base.store_levels(view)[0])
    )


def test_no_store_orders_what_the_warehouse_cannot_ship() -> None:
    """An order the warehouse cannot fill costs the fixed cost for nothing: none is placed;
    with store_min_fill, neither is one it would fill to less than that fraction."""
    sc = load_scenario("default")
    arrival = np.zeros((1, 1, 13), dtype=np.int64)
    empty = _view(day=30, store_on_hand=[[0, 0]], warehouse_on_hand=[[0]])
    assert _decide(EchelonFree(), empty)[0].sum() == 0
    # this morning's delivery can be shipped today: 40 units for the two stores' orders
    arrival[0, 0, 30 % 13] = 40
    some = _view(
        day=30, store_on_hand=[[0, 0]], warehouse_on_hand=[[0]], warehouse_pipeline=arrival
    )
    orders = _decide(EchelonFree(), some)[0]
    assert (orders > 0).all()
    requested = orders[0]
    shipped = requested * 40 // requested.sum()  # the twin's pro-rata share
    fill = shipped / requested
    strict = EchelonFree(store_min_fill=float(fill.max()) + 0.01)
    assert _decide(strict, some)[0].sum() == 0
    assert sc.n_slots == 2


def test_through_actions_orders_one_of_the_four_sizes() -> None:
    sc = load_scenario("default")
    view = _view(day=30, store_on_hand=[[20, 400]])
    stores, _, _ = _decide(EchelonActions(), view)
    options = np.rint(STORE_ORDER_MULTIPLIERS * view.forecast[..., None])
    assert all(stores[0, n] in options[0, n] for n in range(sc.n_slots))
    assert stores[0, 0] > 0 and stores[0, 1] == 0  # the empty store orders, the full waits


def test_push_sends_the_excess_down_within_its_share() -> None:
    sc = load_scenario("default")
    view = _view(day=20, store_on_hand=[[0, 0]], warehouse_on_hand=[[3000]])
    plain = EchelonFree(store_push_days=[0.0, 0.0])
    plain.reset(sc, 1)
    pushed = EchelonFree(store_push_days=[5.0, 0.0])
    pushed.reset(sc, 1)
    extra = pushed.decide(view)[0] - plain.decide(view)[0]
    plan = DemandPlan(sc)
    wanted = plan.slot_mean.window(20 + sc.warehouse.lead_time + 1.0, 5.0)[0]
    assert extra[0, 0] == pytest.approx(wanted, abs=1.0) and extra[0, 1] == 0
    # without excess stock at the warehouse, nothing is pushed
    short = _view(day=20, store_on_hand=[[0, 0]], warehouse_on_hand=[[0]])
    plain.reset(sc, 1)
    pushed.reset(sc, 1)
    np.testing.assert_array_equal(pushed.decide(short)[0], plain.decide(short)[0])


@pytest.mark.parametrize("cls", [EchelonFree, EchelonActions, ForecastSSFree, EchelonSSFree])
def test_per_copy_parameters_equal_one_controller_per_copy(cls) -> None:
    sc = load_scenario("three_stores")
    specs = cls.parameters(sc)
    rng = np.random.default_rng(1)
    candidates = []
    for _ in range(3):
        params = {}
        for spec in specs:
            low, high = spec.bounds(sc)
            params[spec.name] = spec.initial(sc) + 0.2 * rng.uniform(-1, 1) * (high - low)
        candidates.append(params)
    seeds = [4, 5]
    stacked = {
        name: np.repeat(np.stack([c[name] for c in candidates]), len(seeds), axis=0)
        for name in candidates[0]
    }
    from hmarl_bench.evaluation import total_costs

    together = total_costs(sc, cls(**stacked), seeds, repeats=3).reshape(3, 2)
    for row, params in zip(together, candidates, strict=True):
        alone = evaluate(sc, cls(**params), seeds)["total_cost"].to_numpy()
        np.testing.assert_array_equal(row, alone)


def test_unknown_parameters_are_refused() -> None:
    with pytest.raises(TypeError, match="unknown parameters.*store_safty"):
        evaluate("default", EchelonFree(store_safty=[1.0, 1.0]), [0])
