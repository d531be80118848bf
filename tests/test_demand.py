"""Demand: the mean profile and the moments of each distribution."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hmarl_bench.config import Demand, Scenario, Spike, Store, load_scenario
from hmarl_bench.twin.demand import DEMAND_SAMPLERS, mean_demand, sample_demand


def test_mean_profile_has_season_spike_and_store_multipliers() -> None:
    sc = Scenario(
        episode_days=60,
        warmup_days=0,
        demand=Demand(
            base_mean=50.0,
            seasonality_amplitude=0.3,
            seasonality_period=30,
            spikes=(Spike(start_day=40, duration=7, multiplier=2.5),),
        ),
        stores=(Store("a", 1.2), Store("b", 1.0)),
    )
    mean = mean_demand(sc)
    assert mean.shape == (60, 2)
    days = np.arange(60)
    season = 1 + 0.3 * np.sin(2 * np.pi * days / 30)
    season[40:47] *= 2.5
    np.testing.assert_allclose(mean[:, 1], 50 * season)
    np.testing.assert_allclose(mean[:, 0], 1.2 * 50 * season)
    assert mean[7, 1] == pytest.approx(50 * (1 + 0.3 * np.sin(2 * np.pi * 7 / 30)))


def test_demand_spike_scenario_raises_demand_on_the_promotion_days() -> None:
    base = mean_demand(load_scenario("default"))
    spike = mean_demand(load_scenario("demand_spike"))
    np.testing.assert_allclose(spike[40:47], 2.5 * base[40:47])
    np.testing.assert_allclose(spike[:40], base[:40])
    np.testing.assert_allclose(spike[47:], base[47:])


@pytest.mark.parametrize(
    ("distribution", "std", "expected_var"),
    [
        ("normal", 12.0, 12.0**2),
        ("poisson", 12.0, 40.0),  # std ignored: variance = mean
        ("negative_binomial", 12.0, 12.0**2),
    ],
)
def test_sample_moments(distribution: str, std: float, expected_var: float) -> None:
    demand = Demand(distribution=distribution, base_mean=40.0, std=std)
    mean = np.full(200_000, 40.0)
    draws = sample_demand(np.random.default_rng(0), demand, mean)
    assert draws.dtype == np.int64 and (draws >= 0).all()
    assert draws.mean() == pytest.approx(40.0, rel=0.01)
    assert draws.var() == pytest.approx(expected_var, rel=0.03)


@pytest.mark.parametrize("distribution", sorted(DEMAND_SAMPLERS))
def test_zero_and_tiny_means_give_no_demand(distribution: str) -> None:
    demand = Demand(distribution=distribution, base_mean=50.0, std=15.0)
    mean = np.array([0.0, 1e-200, 0.0])
    draws = sample_demand(np.random.default_rng(1), demand, mean)
    assert draws.tolist() == [0, 0, 0]


def test_same_generator_state_same_draws() -> None:
    sc = load_scenario("high_variability")
    mean = mean_demand(sc)
    a = sample_demand(np.random.default_rng(5), sc.demand, mean)
    b = sample_demand(np.random.default_rng(5), sc.demand, mean)
    np.testing.assert_array_equal(a, b)
    c = sample_demand(
        np.random.default_rng(5), dataclasses.replace(sc.demand, distribution="normal"), mean
    )
    assert not np.array_equal(a, c)
