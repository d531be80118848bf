"""ChainView: what a controller sees equals the state's start-of-day fields, and no more."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hmarl_bench import DigitalTwin, load_scenario
from hmarl_bench.agents.roles import StoreRole, SupplierRole, WarehouseRole
from hmarl_bench.evaluation import RoleController, evaluate
from hmarl_bench.twin import ChainView, TwinState
from hmarl_bench.twin.demand import mean_demand
from hmarl_bench.twin.view import VIEW_FIELDS

EXOGENOUS = ("demand", "supplier_late", "demand_regime", "supplier_up")


def _rule_day(twin: DigitalTwin) -> None:
    controller = RoleController()
    controller.reset(twin.scenario, twin.batch_size)
    twin.step(*controller.decide(twin.view()))


@pytest.mark.parametrize("name", ["default", "supplier_delay", "multi_sku"])
def test_the_view_equals_the_states_fields_every_day(name: str) -> None:
    twin = DigitalTwin(name, batch_size=3)
    state = twin.reset([4, 5, 6])
    while not twin.done:
        view = twin.view()
        assert view.day == state.day and view.days_left == twin.horizon - state.day
        assert view.episode_days == twin.horizon and view.batch_size == 3
        for field in VIEW_FIELDS:
            np.testing.assert_array_equal(getattr(view, field), getattr(state, field))
        np.testing.assert_array_equal(view.store_position, state.store_position)
        np.testing.assert_array_equal(view.warehouse_position, state.warehouse_position)
        np.testing.assert_array_equal(view.nominal_demand, mean_demand(twin.scenario))
        _rule_day(twin)


def test_every_endogenous_field_is_in_the_view_and_no_exogenous_one() -> None:
    endogenous = {f.name for f in dataclasses.fields(TwinState)} - set(EXOGENOUS) - {"day"}
    assert set(VIEW_FIELDS) == endogenous


def test_the_view_exposes_no_future_demand_or_lateness() -> None:
    twin = DigitalTwin("default", batch_size=2)
    twin.reset(0)
    view = twin.view()
    for name in (*EXOGENOUS, "state", "twin"):
        with pytest.raises(AttributeError):
            getattr(view, name)
    with pytest.raises(TypeError):  # no instance dict to hide a reference in
        vars(view)
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.day = 5  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        view.store_on_hand[0, 0] = 10**6
    with pytest.raises(ValueError, match="read-only"):
        view.nominal_demand[0, 0] = 0.0
    # no field of the view shares memory with the pre-drawn exogenous arrays
    for field in VIEW_FIELDS:
        for exogenous in EXOGENOUS:
            assert not np.shares_memory(getattr(view, field), getattr(twin.state, exogenous))


def test_a_state_field_added_later_is_left_out_automatically() -> None:
    """The view copies a whitelist: an exogenous array a later twin adds never shows."""

    @dataclasses.dataclass
    class LaterState(TwinState):
        hidden_regime: np.ndarray = dataclasses.field(default_factory=lambda: np.ones((2, 90)))

    twin = DigitalTwin("default", batch_size=2)
    state = twin.reset(0)
    later = LaterState(**{f.name: getattr(state, f.name) for f in dataclasses.fields(TwinState)})
    view = ChainView.of(later, twin.scenario, twin.mean_demand)
    with pytest.raises(AttributeError):
        view.hidden_regime  # noqa: B018


class _Peeker:
    """A controller that tries to read tomorrow's demand and the supplier's late days."""

    def __init__(self, field: str) -> None:
        self.field = field

    def reset(self, scenario, batch_size: int) -> None:
        self.inner = RoleController()
        self.inner.reset(scenario, batch_size)

    def decide(self, view):
        getattr(view, self.field)  # raises: the view has no such field
        return self.inner.decide(view)


@pytest.mark.parametrize("field", EXOGENOUS)
def test_a_controller_reading_the_future_cannot(field: str) -> None:
    with pytest.raises(AttributeError, match=field):
        evaluate("default", _Peeker(field), seeds=[0])


@pytest.mark.parametrize("name", ["default", "supplier_delay"])
def test_pipelines_by_arrival_day_land_on_that_day(name: str) -> None:
    """Entry j of a pipeline by arrival day is what the node receives on day t + j."""
    twin = DigitalTwin(name, batch_size=2)
    twin.reset([1, 2])
    controller = RoleController()
    controller.reset(twin.scenario, 2)
    due: dict[tuple[str, int], np.ndarray] = {}  # (node, day) -> units announced for it
    while not twin.done:
        view = twin.view()
        for node, pipeline in (
            ("store", view.store_pipeline_by_arrival),
            ("warehouse", view.warehouse_pipeline_by_arrival),
        ):
            for j in range(pipeline.shape[-1]):
                announced = due.setdefault((node, view.day + j), pipeline[..., j].copy())
                # units in transit only gain later shipments: never less than first announced
                assert (pipeline[..., j] >= announced).all()
        store_due = view.store_pipeline_by_arrival[..., 0]  # a copy: the view is today's
        warehouse_due = view.warehouse_pipeline_by_arrival[..., 0]
        outcome = twin.step(*controller.decide(view))
        np.testing.assert_array_equal(outcome.store_received, store_due)
        np.testing.assert_array_equal(outcome.warehouse_received, warehouse_due)
    assert any(v.any() for v in due.values())


@pytest.mark.parametrize("name", ["default", "multi_sku"])
def test_echelon_position_is_the_warehouse_plus_every_store_downstream(name: str) -> None:
    sc = load_scenario(name)
    twin = DigitalTwin(sc, batch_size=2)
    state = twin.reset(3)
    for _ in range(12):
        _rule_day(twin)
    view = twin.view()
    k = sc.n_skus
    stores = (state.store_on_hand + state.store_pipeline.sum(axis=2)).reshape(2, -1, k).sum(1)
    expected = state.warehouse_on_hand + state.warehouse_pipeline.sum(axis=2) + stores
    np.testing.assert_array_equal(view.echelon_position, expected)
    assert view.echelon_position.shape == (2, k)


def test_the_roles_read_a_view_as_they_read_the_state() -> None:
    sc = load_scenario("three_stores")
    twin = DigitalTwin(sc, batch_size=3)
    state = twin.reset(9)
    for _ in range(20):
        _rule_day(twin)
    view = twin.view()
    for role in (StoreRole(sc), WarehouseRole(sc), SupplierRole(sc)):
        for method in ("observe", "action_masks", "rule_actions"):
            np.testing.assert_array_equal(getattr(role, method)(view), getattr(role, method)(state))
