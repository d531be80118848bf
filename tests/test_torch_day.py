"""The torch twin: the numpy twin's units and costs to the unit, finite gradients, no peeking."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from hmarl_bench.config import load_scenario
from hmarl_bench.evaluation import evaluate
from hmarl_bench.reconciliation import system_cost
from hmarl_bench.twin import DigitalTwin
from hmarl_bench.twin.torch_day import TorchTwin, TorchView, episode_kpis

SCENARIOS = sorted(
    p.stem for p in (Path(__file__).parents[1] / "experiments/scenarios").glob("*.toml")
)
SEQUENCES = 20  # random action sequences per scenario (one copy each)
KPIS = ("total_cost", "holding_cost", "lost_sales_cost", "ordering_cost", "lost_sales", "fill_rate")


class ReplayOrders:
    """A ChainController that returns pre-drawn orders: (B, T, N), (B, T, K), (B, T)."""

    def __init__(self, stores: np.ndarray, warehouse: np.ndarray, supplier: np.ndarray) -> None:
        self.stores, self.warehouse, self.supplier = stores, warehouse, supplier

    def reset(self, scenario, batch_size: int) -> None:
        assert batch_size == self.stores.shape[0]

    def decide(self, view):
        day = view.day
        return self.stores[:, day], self.warehouse[:, day], self.supplier[:, day]


def _random_orders(scenario, copies: int, seed: int):
    """Integer orders on about half the days, large enough to hit every capacity and the
    warehouse's rationing; random supplier actions (fulfil, partial, delay)."""
    rng = np.random.default_rng(seed)
    days, slots, skus = scenario.episode_days, scenario.n_slots, scenario.n_skus
    mean = scenario.demand.base_mean
    stores = rng.integers(0, int(8 * mean) + 1, size=(copies, days, slots))
    stores *= rng.random((copies, days, slots)) < 0.5
    wh_high = int(40 * mean * scenario.n_stores / skus) + 1
    warehouse = rng.integers(0, wh_high, size=(copies, days, skus))
    # each copy its own ordering frequency: rare orders starve the warehouse (rationing)
    warehouse *= rng.random((copies, days, skus)) < rng.uniform(0.0, 0.3, size=(copies, 1, 1))
    supplier = rng.choice(3, size=(copies, days), p=[0.8, 0.1, 0.1])
    return stores, warehouse, supplier


def _torch_days(scenario, seeds, stores, warehouse, supplier):
    twin = TorchTwin(scenario)
    twin.reset(seeds)
    days = []
    while not twin.done:
        d = twin.day
        days.append(
            twin.step(
                torch.as_tensor(stores[:, d]), torch.as_tensor(warehouse[:, d]), supplier[:, d]
            )
        )
    return days


@pytest.mark.parametrize("name", SCENARIOS)
def test_torch_twin_equals_numpy_twin_to_the_unit(name: str) -> None:
    scenario = load_scenario(name)
    copies = 2 if scenario.n_stores >= 1000 else SEQUENCES  # stores_1000 trimmed to 2 copies
    seeds = list(range(100, 100 + copies))
    stores, warehouse, supplier = _random_orders(scenario, copies, seed=len(name))
    frame = evaluate(scenario, ReplayOrders(stores, warehouse, supplier), seeds, keep_reports=True)
    days = _torch_days(
        scenario, seeds, stores.astype(np.float64), warehouse.astype(np.float64), supplier
    )
    for report, day in zip(frame.attrs["reports"], days, strict=True):
        expected = system_cost(report, scenario)
        for term in ("holding_cost", "lost_sales_cost", "ordering_cost", "total_cost"):
            got = getattr(day, term).numpy()
            np.testing.assert_allclose(got, expected[term], rtol=1e-12, atol=1e-6, err_msg=term)
    kpis = episode_kpis(days, scenario.warmup_days)
    for column in KPIS:
        np.testing.assert_allclose(kpis[column].numpy(), frame[column], rtol=1e-12, atol=1e-9)


def test_random_orders_reach_rationing_capacities_and_late_shipments() -> None:
    """The equality above is tested where it is hard: short warehouse, capped orders."""
    scenario = load_scenario("supplier_delay")
    stores, warehouse, supplier = _random_orders(scenario, SEQUENCES, seed=3)
    seeds = list(range(100, 100 + SEQUENCES))
    frame = evaluate(scenario, ReplayOrders(stores, warehouse, supplier), seeds, keep_reports=True)
    reports = frame.attrs["reports"]
    assert sum(int((r.warehouse.lost_sales > 0).sum()) for r in reports) > 0  # rationed
    days = range(scenario.episode_days)
    capped = sum(int((reports[d].warehouse.ordered < warehouse[:, d, 0]).sum()) for d in days)
    assert capped > 0  # the warehouse's capacity cut orders
    twin = DigitalTwin(scenario, SEQUENCES)
    assert twin.draw_exogenous(seeds).supplier_late.any()


def test_integer_mode_gradients_are_finite() -> None:
    scenario = load_scenario("multi_sku")
    twin = TorchTwin(scenario, surrogate_scale=30.0)
    twin.reset([100, 101])
    level = torch.tensor(400.0, dtype=torch.float64, requires_grad=True)
    total = torch.zeros(2, dtype=torch.float64)
    while not twin.done:
        view = twin.view()
        stores = torch.relu(level - view.store_position)
        warehouse = torch.relu(10 * level - view.warehouse_position)
        total = total + twin.step(stores, warehouse).total_cost
    total.sum().backward()
    assert level.grad is not None and torch.isfinite(level.grad)


def _smooth_cost(level: torch.Tensor, scenario, seeds) -> torch.Tensor:
    """Holding + lost sales of an order-up-to level (stores) and 12 x level (echelon)."""
    twin = TorchTwin(scenario, integer=False)
    twin.reset(seeds)
    total = torch.zeros(len(seeds), dtype=torch.float64)
    while not twin.done:
        view = twin.view()
        stores = torch.relu(level - view.store_position)
        echelon = view.warehouse_position + view.store_position.sum(dim=1, keepdim=True)
        warehouse = torch.relu(12 * level - echelon)
        day = twin.step(stores, warehouse)
        if day.day >= scenario.warmup_days:
            total = total + day.holding_cost + day.lost_sales_cost
    return total.sum()


@pytest.mark.parametrize("name", ["default", "lost_sales_long_lead"])
def test_gradient_matches_finite_differences(name: str) -> None:
    scenario, seeds = load_scenario(name), [100, 101, 102]
    level = torch.tensor(263.37, dtype=torch.float64, requires_grad=True)
    _smooth_cost(level, scenario, seeds).backward()
    step = 1e-4
    with torch.no_grad():
        up = _smooth_cost(level + step, scenario, seeds)
        down = _smooth_cost(level - step, scenario, seeds)
    numeric = float((up - down) / (2 * step))
    assert abs(float(level.grad)) > 1.0  # the level matters
    assert float(level.grad) == pytest.approx(numeric, rel=1e-5)


def test_surrogate_gives_the_fixed_cost_a_gradient_and_keeps_its_value() -> None:
    scenario = load_scenario("default")
    values, grads = [], []
    for scale in (None, 30.0):
        twin = TorchTwin(scenario, surrogate_scale=scale)
        twin.reset([100])
        orders = torch.full((1, 2), 5.0, dtype=torch.float64, requires_grad=True)
        day = twin.step(orders, torch.zeros(1, 1, dtype=torch.float64))
        cost = day.ordering_cost.sum()
        if cost.requires_grad:  # the exact indicator is cut off from the orders' graph
            cost.backward()
        values.append(float(cost.detach()))
        grads.append(0.0 if orders.grad is None else float(orders.grad.abs().sum()))
    assert values[0] == values[1] == 2 * scenario.costs.ordering_cost
    assert grads[0] == 0.0 and grads[1] > 0.0


def _views_after(name: str, days: int, perturb: bool) -> list[TorchView]:
    scenario = load_scenario(name)
    exo = DigitalTwin(scenario, 3).draw_exogenous([100, 101, 102])
    if perturb:  # change the future and the hidden state, keep the past
        demand = exo.demand.copy()
        demand[:, days:] = demand[:, days:] * 3 + 7
        late, up = exo.supplier_late.copy(), exo.supplier_up.copy()
        late[:, days:], up[:, days:] = ~late[:, days:], ~up[:, days:]
        regime = exo.demand_regime + 1
        exo = type(exo)(demand, late, regime, up)
    twin = TorchTwin(scenario)
    twin.reset_exogenous(exo)
    views = [twin.view()]
    for _ in range(days):
        stores = torch.relu(300.0 - twin.view().store_position)
        twin.step(stores, torch.full((3, 1), 900.0, dtype=torch.float64))
        views.append(twin.view())
    return views


@pytest.mark.parametrize("name", ["six_stores_regimes_outages", "supplier_delay"])
def test_views_hold_no_future_or_hidden_information(name: str) -> None:
    days = 12
    plain, changed = _views_after(name, days, False), _views_after(name, days, True)
    for a, b in zip(plain, changed, strict=True):
        for field in TorchView.__dataclass_fields__:
            if field != "day":
                torch.testing.assert_close(getattr(a, field), getattr(b, field), rtol=0, atol=0)
    assert not hasattr(plain[-1], "demand") and not hasattr(plain[-1], "demand_regime")


def test_a_torch_view_of_a_chain_view_matches_the_torch_twin() -> None:
    scenario = load_scenario("multi_sku")
    numpy_twin, twin = DigitalTwin(scenario, 2), TorchTwin(scenario)
    numpy_twin.reset([100, 101])
    twin.reset([100, 101])
    orders = np.full((2, scenario.n_slots), 40, dtype=np.int64)
    warehouse = np.full((2, scenario.n_skus), 500, dtype=np.int64)
    for _ in range(9):
        numpy_twin.step(orders, warehouse, np.zeros(2, dtype=np.int64))
        twin.step(
            torch.as_tensor(orders, dtype=torch.float64),
            torch.as_tensor(warehouse, dtype=torch.float64),
        )
    from_numpy, from_torch = TorchView.of_chain_view(numpy_twin.view()), twin.view()
    for field in TorchView.__dataclass_fields__:
        if field != "day":
            torch.testing.assert_close(getattr(from_numpy, field), getattr(from_torch, field))


def test_bad_surrogate_scale_is_refused() -> None:
    with pytest.raises(ValueError, match="surrogate_scale"):
        TorchTwin("default", surrogate_scale=0.0)
