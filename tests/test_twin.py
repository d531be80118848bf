"""DigitalTwin: seeding of copies, reset, and the batch axis."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hmarl_bench import DigitalTwin, load_scenario
from hmarl_bench.agents import StoreRole, SupplierRole, WarehouseRole
from hmarl_bench.twin import DayOutcome, copy_seed_sequences


def _run(twin: DigitalTwin, seed, days: int | None = None) -> list[DayOutcome]:
    """Rule policies for every node; the outcome of each day."""
    sc = twin.scenario
    stores, warehouse, supplier = StoreRole(sc), WarehouseRole(sc), SupplierRole(sc)
    state = twin.reset(seed)
    outcomes = []
    while not twin.done and (days is None or state.day < days):
        outcomes.append(
            twin.step(
                stores.order_quantities(stores.rule_actions(state), state),
                warehouse.order_quantities(warehouse.rule_actions(state)),
                supplier.rule_actions(state),
            )
        )
    return outcomes


def _stacked(outcomes: list[DayOutcome]) -> dict[str, np.ndarray]:
    """Each outcome field over the episode, (T, B, ...)."""
    names = [f.name for f in dataclasses.fields(DayOutcome)]
    return {n: np.stack([getattr(o, n) for o in outcomes]) for n in names if n != "day"}


def test_reset_starts_from_the_scenario() -> None:
    sc = load_scenario("three_stores")
    state = DigitalTwin(sc, batch_size=3).reset(0)
    assert state.day == 0
    assert state.store_on_hand.tolist() == [[700, 600, 900]] * 3
    assert state.warehouse_on_hand.tolist() == [[5000]] * 3  # (B, K)
    assert state.store_pipeline.shape == (3, 3, 2) and not state.store_pipeline.any()
    assert (
        state.warehouse_pipeline.shape == (3, 1, 7 + 2 * 3) and not state.warehouse_pipeline.any()
    )
    assert state.demand.shape == (3, 90, 3) and state.demand.dtype == np.int64
    assert state.supplier_late.shape == (3, 90)
    np.testing.assert_allclose(state.forecast[0], [60.0, 50.0, 75.0])  # nominal day-0 means


def test_copies_of_one_batch_differ() -> None:
    twin = DigitalTwin("supplier_delay", batch_size=4)
    state = twin.reset(17)
    for a in range(4):
        for b in range(a + 1, 4):
            assert not np.array_equal(state.demand[a], state.demand[b])
            assert not np.array_equal(state.supplier_late[a], state.supplier_late[b])
    outcomes = _run(twin, 17)
    sales = np.array([o.sales for o in outcomes])  # (T, B, S)
    assert len({sales[:, b].tobytes() for b in range(4)}) == 4


def test_same_seed_same_batch_and_different_seed_differs() -> None:
    first = DigitalTwin("default", batch_size=2).reset(5)
    again = DigitalTwin("default", batch_size=2).reset(5)
    other = DigitalTwin("default", batch_size=2).reset(6)
    np.testing.assert_array_equal(first.demand, again.demand)
    np.testing.assert_array_equal(first.supplier_late, again.supplier_late)
    assert not np.array_equal(first.demand, other.demand)


@pytest.mark.parametrize("name", ["default", "supplier_delay", "high_variability"])
def test_copy_b_of_a_seed_list_equals_a_single_copy(name: str) -> None:
    seeds = [3, 1000, 3, 42]
    batch = _stacked(_run(DigitalTwin(name, batch_size=len(seeds)), seeds))
    for b, seed in enumerate(seeds):
        single = _stacked(_run(DigitalTwin(name, batch_size=1), seed))
        for field, values in single.items():
            assert values.shape[0] == 90
            np.testing.assert_array_equal(batch[field][:, b], values[:, 0], err_msg=field)
    # the repeated seed gives the same copy twice; the others differ
    for field in ("demand", "sales", "warehouse_end"):
        np.testing.assert_array_equal(batch[field][:, 0], batch[field][:, 2])
        assert not np.array_equal(batch[field][:, 0], batch[field][:, 1])


def test_copy_zero_of_an_int_seed_is_the_single_copy() -> None:
    batch = DigitalTwin("default", batch_size=3).reset(9)
    single = DigitalTwin("default", batch_size=1).reset(9)
    np.testing.assert_array_equal(batch.demand[:1], single.demand)
    np.testing.assert_array_equal(batch.supplier_late[:1], single.supplier_late)


def test_seed_sequences_need_one_seed_per_copy() -> None:
    assert len(copy_seed_sequences(0, 5)) == 5
    with pytest.raises(ValueError, match="2 seeds for 3 copies"):
        DigitalTwin("default", batch_size=3).reset([1, 2])
    with pytest.raises(ValueError, match="batch_size"):
        DigitalTwin("default", batch_size=0)


def test_reset_restores_the_start() -> None:
    twin = DigitalTwin("default", batch_size=2)
    first = _run(twin, 1, days=20)
    assert twin.state.day == 20 and not twin.done
    again = _run(twin, 1, days=20)
    np.testing.assert_equal(
        [dataclasses.asdict(o) for o in first], [dataclasses.asdict(o) for o in again]
    )


def test_state_copy_is_deep() -> None:
    state = DigitalTwin("default").reset(0)
    snapshot = state.copy()
    state.store_on_hand += 5
    assert (snapshot.store_on_hand + 5 == state.store_on_hand).all()


@pytest.mark.parametrize("name", ["default", "supplier_delay", "multi_sku"])
def test_reset_tiled_repeats_each_seeds_episode(name: str) -> None:
    seeds = [3, 11]
    single = DigitalTwin(name, batch_size=2).reset(seeds)
    tiled = DigitalTwin(name, batch_size=6).reset_tiled(seeds)
    for field in dataclasses.fields(single):
        value = getattr(single, field.name)
        if isinstance(value, np.ndarray):
            reps = (3,) + (1,) * (value.ndim - 1)
            np.testing.assert_array_equal(getattr(tiled, field.name), np.tile(value, reps))
    with pytest.raises(ValueError, match="not a multiple"):
        DigitalTwin(name, batch_size=5).reset_tiled(seeds)
