"""Levels from the plan: window sums of the nominal profile, cut at the horizon; parameters."""

from __future__ import annotations

import numpy as np
import pytest

from hmarl_bench import load_scenario
from hmarl_bench.baselines.levels import (
    DemandPlan,
    critical_ratio_z,
    eoq_days,
    nominal_demand,
    per_copy,
)
from hmarl_bench.twin.demand import mean_demand


@pytest.mark.parametrize("name", ["default", "demand_spike", "three_stores"])
def test_windows_sum_the_nominal_profile_and_stop_at_the_end(name: str) -> None:
    sc = load_scenario(name)
    plan, mean = DemandPlan(sc), mean_demand(sc)
    np.testing.assert_allclose(plan.slot_mean.window(10, 3.0), mean[10:13].sum(axis=0))
    # a fractional window counts part of its last day
    np.testing.assert_allclose(
        plan.slot_mean.window(10, 2.5), mean[10:12].sum(axis=0) + 0.5 * mean[12]
    )
    # days after the episode's end bring no demand: the window is cut at the horizon
    np.testing.assert_allclose(plan.slot_mean.window(88, 5.0), mean[88:].sum(axis=0))
    assert (plan.slot_mean.window(sc.episode_days, 4.0) == 0).all()
    np.testing.assert_allclose(plan.chain_mean.window(10, 3.0)[0], mean[10:13].sum())
    # one window per copy and slot
    lengths = np.array([[1.0] * sc.n_slots, [2.0] * sc.n_slots])
    np.testing.assert_allclose(plan.slot_mean.window(5, lengths), [mean[5], mean[5] + mean[6]])


def test_the_spike_raises_the_levels_before_it_comes() -> None:
    spike = DemandPlan(load_scenario("demand_spike"))
    plain = DemandPlan(load_scenario("default"))
    before = spike.slot_mean.window(38, 3.0) / plain.slot_mean.window(38, 3.0)
    assert (before > 1.2).all()  # days 40 and 41 of the window are promoted (x 2.5)
    np.testing.assert_allclose(spike.slot_mean.window(30, 3.0), plain.slot_mean.window(30, 3.0))


@pytest.mark.parametrize(
    ("distribution", "std", "variance"),
    [("normal", 15.0, lambda m: (0.3 * m) ** 2), ("poisson", 15.0, lambda m: m)],
)
def test_window_variance_by_distribution(distribution: str, std: float, variance) -> None:
    import dataclasses

    sc = load_scenario("default")
    sc = dataclasses.replace(
        sc, demand=dataclasses.replace(sc.demand, distribution=distribution, std=std)
    )
    plan, mean = DemandPlan(sc), mean_demand(sc)
    np.testing.assert_allclose(plan.slot_var.window(0, 3.0), variance(mean[:3]).sum(axis=0))


def test_expected_forecast_is_the_twins_smoothing_of_the_plan() -> None:
    sc = load_scenario("strong_seasonality")
    plan, mean = DemandPlan(sc), mean_demand(sc)
    forecast = mean[0].copy()
    for day in range(5):
        np.testing.assert_allclose(plan.expected_forecast[day], forecast)
        forecast = forecast + sc.forecast_smoothing * (mean[day] - forecast)


def test_cost_based_defaults() -> None:
    sc = load_scenario("default")
    # p / (p + h) = 10 / 10.5: z = Phi^-1(0.952...)
    assert critical_ratio_z(sc) == pytest.approx(1.6684, abs=1e-3)
    mu, _ = nominal_demand(sc)
    # sqrt(2 K / (h mu)) days: sqrt(2 x 25 / (0.5 x 60))
    assert eoq_days(sc, mu, 0.5)[0] == pytest.approx(np.sqrt(50 / 30))


def test_per_copy_parameters() -> None:
    assert per_copy(1.5, (), 4, "x").shape == ()
    assert per_copy([1.0, 2.0, 3.0, 4.0], (), 4, "x").shape == (4, 1)
    assert per_copy([1.0, 2.0], (2,), 4, "x").shape == (2,)
    assert per_copy(np.ones((4, 2)), (2,), 4, "x").shape == (4, 2)
    with pytest.raises(ValueError, match="x: expected shape"):
        per_copy(np.ones((3, 2)), (2,), 4, "x")
