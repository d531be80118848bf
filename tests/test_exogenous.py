"""The hidden exogenous processes: their stated statistics, their seeding, their effect on
the day, and that no agent can see the demand regime.

``[demand.regimes]`` and ``[supplier.disruption]`` are Markov chains with geometric
sojourns (``hmarl_bench.twin.exogenous``); these tests check them against the law the
config documents, over many draws.
"""

from __future__ import annotations

import dataclasses

import golden
import numpy as np
import pytest
from new_scenarios import NEW_SCENARIOS

from hmarl_bench import DigitalTwin, HMARLEnvironment
from hmarl_bench.config import (
    Demand,
    DemandRegimes,
    Scenario,
    Store,
    Supplier,
    SupplierDisruption,
    Warehouse,
    load_scenario,
)
from hmarl_bench.twin.demand import sample_demand
from hmarl_bench.twin.exogenous import markov_path, regime_mean

REGIMES = DemandRegimes(multipliers=(0.6, 1.0, 1.5), mean_durations=(15.0, 30.0, 12.0))
OUTAGES = SupplierDisruption(mean_up_days=40.0, mean_down_days=8.0)
NO_REGIMES, NEVER_DOWN = DemandRegimes(), SupplierDisruption()


def _sojourns(path: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(state, length) of every complete run of a path (the first and last are cut off)."""
    change = np.flatnonzero(np.diff(path)) + 1
    starts = np.concatenate([[0], change])
    lengths = np.diff(np.concatenate([starts, [path.size]]))
    return path[starts][1:-1], lengths[1:-1]


def _scenario(
    days: int,
    regimes: DemandRegimes = NO_REGIMES,
    outages: SupplierDisruption = NEVER_DOWN,
    **demand: float,
) -> Scenario:
    base = load_scenario("default")
    return dataclasses.replace(
        base,
        name="exogenous",
        episode_days=days,
        warmup_days=0,
        demand=dataclasses.replace(base.demand, regimes=regimes, **demand),
        supplier=dataclasses.replace(base.supplier, disruption=outages),
    )


# --------------------------------------------------------------------------- statistics


@pytest.mark.parametrize(
    "durations", [(20.0, 20.0), (40.0, 8.0), (15.0, 30.0, 12.0), (1.0, 3.0, 2.0, 6.0)]
)
def test_markov_path_has_the_stated_durations_shares_and_jumps(durations: tuple) -> None:
    path = markov_path(np.random.default_rng(0), durations, 300_000)
    states, lengths = _sojourns(path)
    durations_ = np.array(durations)
    for i, mean in enumerate(durations):
        assert lengths[states == i].mean() == pytest.approx(mean, rel=0.04), i
        share = (path == i).mean()
        assert share == pytest.approx(mean / durations_.sum(), abs=0.012), i
    # sojourns are geometric: P(length = 1) = 1 / mean
    for i, mean in enumerate(durations):
        assert (lengths[states == i] == 1).mean() == pytest.approx(1 / mean, abs=0.02), i
    # jumps go to each other state alike, never to the same one
    n = len(durations)
    if n > 2:
        counts = np.zeros((n, n))
        np.add.at(counts, (states[:-1], states[1:]), 1)
        assert np.diag(counts).sum() == 0
        rows = counts / counts.sum(axis=1, keepdims=True)
        off = rows[~np.eye(n, dtype=bool)]
        np.testing.assert_allclose(off, 1 / (n - 1), atol=0.03)


def test_the_twin_draws_regimes_and_outages_with_their_stated_statistics() -> None:
    """Pooled over 40 copies of 3,000 days: regime durations and shares, how often the
    supplier goes down (per day up), how long it stays down, and the share of days down."""
    twin = DigitalTwin(_scenario(3000, REGIMES, OUTAGES), batch_size=40)
    state = twin.reset(11)
    assert state.demand_regime.shape == (40, 3000) and state.demand_regime.dtype == np.int64
    assert state.supplier_up.shape == (40, 3000) and state.supplier_up.dtype == bool
    regime_runs = [_sojourns(path) for path in state.demand_regime]
    states = np.concatenate([r[0] for r in regime_runs])
    lengths = np.concatenate([r[1] for r in regime_runs])
    for i, (mean, share) in enumerate(
        zip(REGIMES.mean_durations, REGIMES.stationary_shares, strict=True)
    ):
        assert lengths[states == i].mean() == pytest.approx(mean, rel=0.06)
        assert (state.demand_regime == i).mean() == pytest.approx(share, abs=0.02)
    up = state.supplier_up
    outages = (up[:, :-1] & ~up[:, 1:]).sum()  # up today, down tomorrow
    assert outages / up[:, :-1].sum() == pytest.approx(1 / OUTAGES.mean_up_days, rel=0.06)
    down_runs = [_sojourns(path.astype(np.int64)) for path in up]
    down_lengths = np.concatenate([lengths[s == 0] for s, lengths in down_runs])
    assert down_lengths.mean() == pytest.approx(OUTAGES.mean_down_days, rel=0.06)
    assert (~up).mean() == pytest.approx(OUTAGES.down_share, abs=0.02)
    assert OUTAGES.down_share == pytest.approx(8 / 48)


def test_day_zero_is_drawn_from_the_stationary_shares() -> None:
    state = DigitalTwin(_scenario(2, REGIMES, OUTAGES), batch_size=3000).reset(5)
    for i, share in enumerate(REGIMES.stationary_shares):
        assert (state.demand_regime[:, 0] == i).mean() == pytest.approx(share, abs=0.03)
    assert (~state.supplier_up[:, 0]).mean() == pytest.approx(OUTAGES.down_share, abs=0.03)


def test_demand_is_the_nominal_profile_times_the_regime() -> None:
    """Noise-free normal demand shows the multiplier exactly, day by day, at every store."""
    sc = _scenario(400, REGIMES, std=0.0, seasonality_amplitude=0.0)
    state = DigitalTwin(sc, batch_size=3).reset(2)
    multipliers = np.array(REGIMES.multipliers)[state.demand_regime]  # (B, T)
    store = np.array([s.demand_multiplier for s in sc.stores])
    expected = np.rint(50.0 * multipliers[..., None] * store).astype(np.int64)
    np.testing.assert_array_equal(state.demand, expected)
    assert len(np.unique(state.demand_regime)) == 3
    assert REGIMES.stationary_mean == pytest.approx(1.0)


# --------------------------------------------------------------------------- seeding


def test_without_the_processes_the_arrays_are_neutral() -> None:
    state = DigitalTwin("default", batch_size=2).reset(0)
    assert state.demand_regime.shape == (2, 90) and not state.demand_regime.any()
    assert state.supplier_up.shape == (2, 90) and state.supplier_up.all()


def test_each_process_has_its_own_stream() -> None:
    """Adding a process never changes the demand noise, the late days or the other
    process's path: each draws from its own child of the copy's seed."""
    days, seeds = 200, [3, 4, 5]
    plain = DigitalTwin(_scenario(days), 3).reset(seeds)
    regimes = DigitalTwin(_scenario(days, REGIMES), 3).reset(seeds)
    outages = DigitalTwin(_scenario(days, outages=OUTAGES), 3).reset(seeds)
    both = DigitalTwin(_scenario(days, REGIMES, OUTAGES), 3).reset(seeds)
    for state in (regimes, outages, both):
        np.testing.assert_array_equal(state.supplier_late, plain.supplier_late)
    np.testing.assert_array_equal(outages.demand, plain.demand)
    np.testing.assert_array_equal(both.demand, regimes.demand)
    np.testing.assert_array_equal(both.demand_regime, regimes.demand_regime)
    np.testing.assert_array_equal(both.supplier_up, outages.supplier_up)
    assert regimes.supplier_up.all()  # regimes alone: never down
    assert not outages.demand_regime.any()
    # a copy of a seed list is the single copy of that seed
    single = DigitalTwin(_scenario(days, REGIMES, OUTAGES), 1).reset([4])
    np.testing.assert_array_equal(single.demand_regime[0], both.demand_regime[1])
    np.testing.assert_array_equal(single.supplier_up[0], both.supplier_up[1])
    np.testing.assert_array_equal(single.demand[0], both.demand[1])


# --------------------------------------------------------------------------- the day


def _one_store_chain(outages: SupplierDisruption) -> Scenario:
    return Scenario(
        episode_days=30,
        warmup_days=0,
        demand=Demand(distribution="poisson", base_mean=0.0, seasonality_amplitude=0.0),
        stores=(Store("store_1", 1.0, 0, 1000, 0, 100),),
        warehouse=Warehouse(0, 10_000, 0, 1000, lead_time=1),
        supplier=Supplier(lead_time=2, reliability=1.0, capacity=10_000, disruption=outages),
    )


@pytest.mark.parametrize("compiled", [True, False])
def test_a_down_supplier_ships_nothing_and_in_transit_units_still_land(compiled: bool) -> None:
    env = HMARLEnvironment(_one_store_chain(OUTAGES), compiled=compiled)
    env.reset(seed=0)
    state = env.twin_state
    state.supplier_up[0, :] = True
    state.supplier_up[0, 1:4] = False  # down on days 1, 2 and 3
    order = {"store_1": 0, "warehouse_1": 2, "supplier_1": 0}  # 1,000 units a day
    shipped, on_hand = [], []
    for _ in range(6):
        env.step(order)
        shipped.append(int(env.last_report.supplier.received[0]))  # what the supplier shipped
        on_hand.append(int(state.warehouse_on_hand[0, 0]))  # no store orders: all arrivals
    assert shipped == [1000, 0, 0, 0, 1000, 1000]
    # day 0's shipment lands on day 2, during the outage; nothing more before day 6
    assert on_hand == [0, 0, 1000, 1000, 1000, 1000]


# --------------------------------------------------------------------------- hidden


def _rule_episode(env: HMARLEnvironment, days: int | None = None) -> list:
    """Every observation, reward and info of a rule-driven episode (from the reset's)."""
    rows = []
    while env.agents and (days is None or env.day < days):
        obs, rewards, _, _, infos = env.step(env.rule_actions())
        rows.append((obs, rewards, {a: i["report"] for a, i in infos.items()}, env.state()))
    return rows


def _same(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.tobytes() == b.tobytes()
    if dataclasses.is_dataclass(a):
        return _same(dataclasses.asdict(a), dataclasses.asdict(b))
    return a == b


@pytest.mark.parametrize("compiled", [True, False])
def test_the_regime_path_itself_is_invisible(compiled: bool) -> None:
    """Same realized demand, another regime path: every observation, reward, report and
    global state is identical."""
    sc = _scenario(60, REGIMES)
    first, second = HMARLEnvironment(sc, compiled=compiled), HMARLEnvironment(sc, compiled=compiled)
    obs_a, _ = first.reset(seed=4)
    obs_b, _ = second.reset(seed=4)
    regime = second.twin_state.demand_regime
    regime[:] = (regime + 1) % 3
    assert _same(obs_a, obs_b)
    assert _same(_rule_episode(first), _rule_episode(second))


@pytest.mark.parametrize("compiled", [True, False])
def test_observations_up_to_day_t_ignore_the_regime_after_day_t(compiled: bool) -> None:
    """Two regime paths that agree up to day t give demand that agrees up to day t (the
    same noise draws); every observation up to the start of day t + 1 is the same, and the
    later ones differ (so the regime does move demand)."""
    sc, day = _scenario(60, REGIMES), 25
    path = np.zeros(60, dtype=np.int64)
    other = path.copy()
    other[day + 1 :] = 2  # a boom from day t + 1 on
    envs = []
    for regime in (path, other):
        env = HMARLEnvironment(sc, compiled=compiled)
        env.reset(seed=9)
        demand = sample_demand(
            np.random.default_rng(1), sc.demand, regime_mean(env.twin.mean_demand, REGIMES, regime)
        )
        env.twin_state.demand[0] = demand
        env.twin_state.demand_regime[0] = regime
        envs.append(env)
    a, b = _rule_episode(envs[0]), _rule_episode(envs[1])
    # rows[d] holds what the agents see at the start of day d + 1
    assert _same(a[: day + 1], b[: day + 1])
    assert not _same([row[0] for row in a[day + 1 :]], [row[0] for row in b[day + 1 :]])


# --------------------------------------------------------------------------- scenarios


@pytest.mark.parametrize("name", NEW_SCENARIOS)
def test_the_new_scenarios_are_deterministic(name: str) -> None:
    """A seed fixes an episode (regime and outage paths included); another seed differs."""
    first = golden.env_episode(name, 3, "random")
    assert golden.env_episode(name, 3, "random") == first
    assert golden.env_episode(name, 4, "random") != first
    a, b = (DigitalTwin(name, 2).reset([3, 4]) for _ in range(2))
    for field in ("demand", "supplier_late", "demand_regime", "supplier_up"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
