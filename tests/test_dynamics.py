"""The twin's day: conservation of units on random valid chains, pipeline timing, and an
analytic fill rate."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from new_scenarios import NEW_SCENARIOS
from scipy import stats

from hmarl_bench.config import (
    DEMAND_DISTRIBUTIONS,
    Costs,
    Demand,
    DemandRegimes,
    Scenario,
    Sku,
    Spike,
    Store,
    Supplier,
    SupplierDisruption,
    Warehouse,
    load_scenario,
)
from hmarl_bench.twin import DayOutcome, DigitalTwin, TwinState

# --------------------------------------------------------------------------- strategies

_fraction = st.floats(0.0, 1.0, allow_nan=False, allow_subnormal=False)


@st.composite
def demands(draw: st.DrawFn, episode_days: int) -> Demand:
    distribution = draw(st.sampled_from(DEMAND_DISTRIBUTIONS))
    base_mean = draw(st.floats(0.0, 80.0, allow_subnormal=False))
    if distribution == "negative_binomial":  # needs std**2 > base_mean
        std = draw(st.floats(np.sqrt(base_mean) + 0.5, 60.0))
    else:
        std = draw(st.floats(0.0, 60.0, allow_subnormal=False))
    spikes = draw(
        st.lists(
            st.builds(
                Spike,
                start_day=st.integers(0, episode_days),
                duration=st.integers(1, 10),
                multiplier=st.floats(0.0, 4.0, allow_subnormal=False),
            ),
            max_size=2,
        )
    )
    n_regimes = draw(st.sampled_from([0, 2, 3]))
    regimes = DemandRegimes(
        multipliers=tuple(draw(st.floats(0.0, 3.0)) for _ in range(n_regimes)),
        mean_durations=tuple(draw(st.floats(1.0, 40.0)) for _ in range(n_regimes)),
    )
    return Demand(
        distribution=distribution,
        base_mean=base_mean,
        std=std,
        seasonality_amplitude=draw(st.floats(0.0, 0.95)),
        seasonality_period=draw(st.integers(1, 60)),
        spikes=tuple(spikes),
        regimes=regimes,
    )


disruptions = st.one_of(
    st.just(SupplierDisruption()),
    st.builds(SupplierDisruption, st.floats(1.0, 60.0), st.floats(1.0, 20.0)),
)


def _scaled_sum(value: int, scales: list[float]) -> int:
    """A quantity scaled to every SKU and summed: what a shared capacity must hold."""
    return sum(round(value * scale) for scale in scales)


@st.composite
def stores(draw: st.DrawFn, index: int, scales: list[float]) -> Store:
    initial = draw(st.integers(0, 500))
    reorder_point = draw(st.integers(0, 600))
    order_up_to = draw(st.integers(reorder_point, reorder_point + 400))
    needed = max(initial, order_up_to, *(_scaled_sum(v, scales) for v in (initial, order_up_to)))
    return Store(
        name=f"store_{index + 1}",
        demand_multiplier=draw(st.floats(0.0, 3.0, allow_subnormal=False)),
        initial_inventory=initial,
        capacity=needed + draw(st.integers(0, 800)),
        reorder_point=reorder_point,
        order_up_to=order_up_to,
    )


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """Random valid chains: 1-4 stores, or 100 or 1,000 stores cycling through up to four
    drawn profiles (as a ``[store_pattern]``), selling one SKU or up to three; with or
    without hidden demand regimes and supplier outages."""
    episode_days = draw(st.integers(5, 30))
    n_skus = draw(st.integers(1, 3))
    scales = [draw(st.floats(0.0, 1.5, allow_subnormal=False)) for _ in range(n_skus)]
    skus = tuple(Sku(name=f"sku_{k + 1}", demand_scale=scale) for k, scale in enumerate(scales))
    n_stores = draw(st.sampled_from([1, 2, 3, 4, 100, 1000]))
    profiles = [draw(stores(i, scales)) for i in range(min(n_stores, 4))]
    chain = tuple(
        dataclasses.replace(profiles[i % len(profiles)], name=f"store_{i + 1}")
        for i in range(n_stores)
    )
    wh_initial = draw(st.integers(0, 3000))
    wh_reorder = draw(st.integers(0, 3000))
    wh_order_up_to = draw(st.integers(wh_reorder, wh_reorder + 3000))
    wh_needed = max(wh_initial, wh_order_up_to, _scaled_sum(wh_initial, scales))
    wh_needed = max(wh_needed, _scaled_sum(wh_order_up_to, scales))
    return Scenario(
        name="random",
        episode_days=episode_days,
        warmup_days=0,
        forecast_smoothing=draw(st.floats(0.01, 1.0)),
        costs=Costs(),
        demand=draw(demands(episode_days)),
        stores=chain,
        skus=skus if n_skus > 1 or draw(st.booleans()) else (),
        warehouse=Warehouse(
            initial_inventory=wh_initial,
            capacity=wh_needed + draw(st.integers(0, 4000)),
            reorder_point=wh_reorder,
            order_up_to=wh_order_up_to,
            lead_time=draw(st.integers(0, 4)),
            order_quantities=tuple(draw(st.lists(st.integers(0, 2000), min_size=4, max_size=4))),
        ),
        supplier=Supplier(
            lead_time=draw(st.integers(0, 8)),
            reliability=draw(_fraction),
            capacity=draw(st.integers(0, 3000)),
            delay_days=draw(st.integers(0, 4)),
            partial_fraction=draw(_fraction),
            disruption=draw(disruptions),
        ),
    )


# --------------------------------------------------------------------------- conservation


def _total_stock(state: TwinState) -> np.ndarray:
    """Units of each SKU anywhere in the chain per copy (B, K): shelves, warehouse, pipelines."""
    b, k = state.warehouse_on_hand.shape
    store = (state.store_on_hand + state.store_pipeline.sum(axis=2)).reshape(b, -1, k)
    return store.sum(axis=1) + state.warehouse_on_hand + state.warehouse_pipeline.sum(axis=2)


def _per_store(slots: np.ndarray, n_skus: int) -> np.ndarray:
    """(B, N) slot values summed over each store's SKUs: (B, S)."""
    return slots.reshape(slots.shape[0], -1, n_skus).sum(axis=2)


def _check_day(
    out: DayOutcome,
    state: TwinState,
    twin: DigitalTwin,
    store_orders: np.ndarray,
    warehouse_order: np.ndarray,
) -> None:
    sc = twin.scenario
    k = sc.n_skus
    store_capacity = np.array([s.capacity for s in sc.stores])
    # stores, to the unit: start + received = sales + end (shipments go to the pipeline)
    np.testing.assert_array_equal(out.store_start + out.store_received, out.sales + out.store_end)
    np.testing.assert_array_equal(out.sales + out.lost_sales, out.demand)
    assert (out.sales <= out.store_start + out.store_received).all()
    # warehouse, to the unit
    np.testing.assert_array_equal(
        out.warehouse_start + out.warehouse_received, out.warehouse_shipped + out.warehouse_end
    )
    b = out.store_shipped.shape[0]  # each SKU's shipments, summed over stores
    np.testing.assert_array_equal(
        out.warehouse_shipped, out.store_shipped.reshape(b, -1, k).sum(axis=1)
    )
    # nobody ships more than was asked for, and orders are never raised
    assert (out.store_shipped <= out.store_requested).all()
    assert (out.store_requested <= np.maximum(store_orders, 0)).all()
    assert (out.warehouse_ordered <= np.maximum(warehouse_order, 0)).all()
    assert (out.supplier_shipped <= out.warehouse_ordered).all()
    assert (out.supplier_shipped.sum(axis=1) <= sc.supplier.capacity).all()  # shared
    assert (out.supplier_on_time <= out.supplier_shipped).all()
    assert not out.supplier_shipped[~state.supplier_up[:, out.day]].any()  # down: ships nothing
    # nothing negative, anywhere
    for name in ("store_on_hand", "store_pipeline", "warehouse_on_hand", "warehouse_pipeline"):
        assert (getattr(state, name) >= 0).all(), name
    for name in ("sales", "lost_sales", "store_shipped", "supplier_shipped", "store_received"):
        assert (getattr(out, name) >= 0).all(), name
    # capacities, shared by the SKUs: on hand and position (on hand + pipeline)
    assert (_per_store(state.store_on_hand, k) <= store_capacity).all()
    assert (_per_store(state.store_position, k) <= store_capacity).all()
    assert (state.warehouse_on_hand.sum(axis=1) <= sc.warehouse.capacity).all()
    assert (state.warehouse_position.sum(axis=1) <= sc.warehouse.capacity).all()
    # the outcome's end-of-day view is the state's
    np.testing.assert_array_equal(out.store_end, state.store_on_hand)
    np.testing.assert_array_equal(out.store_pipeline_end, state.store_pipeline.sum(axis=2))
    np.testing.assert_array_equal(out.warehouse_end, state.warehouse_on_hand)
    np.testing.assert_array_equal(out.warehouse_pipeline_end, state.warehouse_pipeline.sum(axis=2))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    scenario=scenarios(),
    batch_size=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
    action_seed=st.integers(0, 2**32 - 1),
)
def test_units_are_conserved_every_day(
    scenario: Scenario, batch_size: int, seed: int, action_seed: int
) -> None:
    _conserves_units(scenario, batch_size, seed, action_seed)


@pytest.mark.parametrize("name", NEW_SCENARIOS)
def test_units_are_conserved_on_the_regime_and_outage_scenarios(name: str) -> None:
    _conserves_units(load_scenario(name), 3, 10_000, 1)


def _conserves_units(scenario: Scenario, batch_size: int, seed: int, action_seed: int) -> None:
    twin = DigitalTwin(scenario, batch_size=batch_size)
    state = twin.reset(seed)
    rng = np.random.default_rng(action_seed)
    b, n, k = batch_size, scenario.n_slots, scenario.n_skus
    initial_stock = _total_stock(state)
    supplied = np.zeros((b, k), dtype=np.int64)
    sold = np.zeros((b, k), dtype=np.int64)
    for day in range(scenario.episode_days):
        # random orders: often zero, sometimes far beyond any capacity
        store_orders = rng.integers(0, 1200, (b, n)) * (rng.random((b, n)) < 0.7)
        warehouse_order = rng.choice([0, 300, 2500, 20000], size=(b, k))
        supplier_action = rng.integers(0, 3, b)
        out = twin.step(store_orders, warehouse_order, supplier_action)
        assert out.day == day and state.day == day + 1
        _check_day(out, state, twin, store_orders, warehouse_order)
        supplied += out.supplier_shipped
        sold += out.sales.reshape(b, -1, k).sum(axis=1)
    assert twin.done
    # global, per SKU: initial stock + all the supplier shipped = final stock + all sales
    np.testing.assert_array_equal(initial_stock + supplied, _total_stock(state) + sold)


# --------------------------------------------------------------------------- timing


def _one_store(
    store_lead: int, supplier_lead: int, delay_days: int = 0, reliability: float = 1.0
) -> Scenario:
    return Scenario(
        episode_days=20,
        warmup_days=0,
        demand=Demand(distribution="poisson", base_mean=0.0, seasonality_amplitude=0.0),
        stores=(Store("store_1", 1.0, 0, 1000, 0, 100),),
        warehouse=Warehouse(500, 10_000, 0, 1000, lead_time=store_lead),
        supplier=Supplier(
            lead_time=supplier_lead, reliability=reliability, capacity=10_000, delay_days=delay_days
        ),
    )


@pytest.mark.parametrize("store_lead", [0, 1, 2, 4])
def test_store_shipment_arrives_after_the_warehouse_lead_time(store_lead: int) -> None:
    twin = DigitalTwin(_one_store(store_lead, 3))
    state = twin.reset(0)
    zero = np.zeros(1, dtype=np.int64)
    twin.step(np.array([[40]]), zero, zero)  # day 0: ship 40
    arrival_day = store_lead if store_lead > 0 else 0
    on_hand = [int(state.store_on_hand[0, 0])]
    while state.day < 8:
        twin.step(np.array([[0]]), zero, zero)
        on_hand.append(int(state.store_on_hand[0, 0]))
    # on_hand[d] is the end of day d; no demand, so the 40 units appear on day `arrival_day`
    expected = [40 if d >= arrival_day else 0 for d in range(len(on_hand))]
    assert on_hand == expected


@pytest.mark.parametrize(
    ("supplier_action", "late", "expected_lead"),
    [(0, False, 3), (1, False, 3), (2, False, 5), (0, True, 5), (2, True, 7)],
)
def test_supplier_lead_time_partial_and_delays(
    supplier_action: int, late: bool, expected_lead: int
) -> None:
    twin = DigitalTwin(_one_store(1, supplier_lead=3, delay_days=2, reliability=0.0 if late else 1))
    state = twin.reset(0)
    start = int(state.warehouse_on_hand[0, 0])
    out = twin.step(np.zeros((1, 1), np.int64), np.array([1000]), np.array([supplier_action]))
    shipped = 800 if supplier_action == 1 else 1000
    assert int(out.supplier_shipped[0, 0]) == shipped
    assert int(out.supplier_on_time[0, 0]) == (shipped if expected_lead == 3 else 0)
    assert int(state.days_to_delivery[0]) == expected_lead
    zero = np.zeros(1, dtype=np.int64)
    history = []
    while not twin.done:
        twin.step(np.zeros((1, 1), np.int64), zero, zero)
        history.append(int(state.warehouse_on_hand[0, 0]))
    arrived_on = 1 + history.index(start + shipped)  # end-of-day index
    assert arrived_on == expected_lead


def test_step_after_the_horizon_raises() -> None:
    twin = DigitalTwin(_one_store(1, 1))
    with pytest.raises(RuntimeError, match="reset"):
        twin.step(np.zeros((1, 1)), np.zeros(1), np.zeros(1, np.int64))
    twin.reset(0)
    zero = np.zeros(1, dtype=np.int64)
    for _ in range(twin.horizon):
        twin.step(np.zeros((1, 1), np.int64), zero, zero)
    with pytest.raises(RuntimeError, match="episode ended"):
        twin.step(np.zeros((1, 1), np.int64), zero, zero)


def test_pro_rata_allocation_when_the_warehouse_is_short() -> None:
    sc = Scenario(
        episode_days=5,
        warmup_days=0,
        demand=Demand(distribution="poisson", base_mean=0.0, seasonality_amplitude=0.0),
        stores=(Store("store_1", 1, 0, 1000, 0, 10), Store("store_2", 1, 0, 1000, 0, 10)),
        warehouse=Warehouse(100, 1000, 0, 100, lead_time=1),
    )
    twin = DigitalTwin(sc)
    twin.reset(0)
    out = twin.step(np.array([[300, 100]]), np.zeros(1, np.int64), np.zeros(1, np.int64))
    # short: floor(300 * 100 / 400) = 75 and floor(100 * 100 / 400) = 25
    assert out.store_shipped.tolist() == [[75, 25]]
    assert out.warehouse_end.tolist() == [[0]]


# --------------------------------------------------------------------------- analytic


@pytest.mark.parametrize("order_up_to", [20, 22])
def test_fill_rate_of_order_up_to_matches_poisson_formula(order_up_to: int) -> None:
    """One store, Poisson(mu) demand, lead time 0, an endless warehouse, order-up-to S.

    The order is placed after the day's sales (phase 3 of the day), so ordering
    S - (on_hand + pipeline) at that moment puts the shelf back at S every night: each morning
    on_hand = S and the day sells min(D, S). The long-run fill rate is therefore

        fill = E[min(D, S)] / E[D],   E[min(D, S)] = sum_{k=0}^{S-1} P(D > k).

    ``DigitalTwin.step`` takes the quantities before it runs the day, so the test computes
    that post-sale position from the day's demand, drawn at reset (``state.demand``).
    """
    mu, days, copies = 20.0, 365, 200
    sc = Scenario(
        episode_days=days,
        warmup_days=0,
        demand=Demand(distribution="poisson", base_mean=mu, std=0.0, seasonality_amplitude=0.0),
        stores=(Store("store_1", 1.0, order_up_to, 1000, 0, order_up_to),),
        warehouse=Warehouse(
            initial_inventory=10_000_000, capacity=10_000_000, reorder_point=0, lead_time=0
        ),
    )
    twin = DigitalTwin(sc, batch_size=copies)
    state = twin.reset(2024)
    zero = np.zeros(copies, dtype=np.int64)
    sold = demanded = 0
    while not twin.done:
        assert (state.store_on_hand == order_up_to).all()  # every morning
        sales_today = np.minimum(state.store_on_hand, state.demand[:, state.day, :])
        post_sale_position = state.store_position - sales_today
        out = twin.step(order_up_to - post_sale_position, zero, zero)
        sold += int(out.sales.sum())
        demanded += int(out.demand.sum())
    expected_sales = sum(stats.poisson.sf(k, mu) for k in range(order_up_to))  # P(D > k)
    expected_fill = expected_sales / mu
    assert expected_fill < 0.97  # the check has teeth: stock-outs are common
    assert sold / demanded == pytest.approx(expected_fill, rel=0.01)
