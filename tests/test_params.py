"""The per-scenario parameter object: derived once, shared read-only, equal to the config."""

from __future__ import annotations

import numpy as np
import pytest

import hmarl_bench.twin.demand as demand_module
import hmarl_bench.twin.params as params_module
from hmarl_bench.agents.interfaces import ChainState, make_roles
from hmarl_bench.config import load_scenario
from hmarl_bench.evaluation import evaluate
from hmarl_bench.twin import DigitalTwin
from hmarl_bench.twin.demand import mean_demand
from hmarl_bench.twin.params import chain_params

SCENARIOS = ("default", "multi_sku", "lean_start")


@pytest.mark.parametrize("name", SCENARIOS)
def test_params_equal_what_the_config_gives(name: str) -> None:
    sc = load_scenario(name)
    p = chain_params(sc)
    k = sc.n_skus
    profile = mean_demand(sc)
    np.testing.assert_array_equal(p.profile, profile)
    np.testing.assert_array_equal(p.chain_profile, profile.reshape(len(profile), -1, k).sum(axis=1))
    assert p.profile.shape == (sc.episode_days, sc.n_slots)
    assert p.slot_demand_scale.shape == (sc.n_slots,)
    assert p.sku_demand_scale.shape == (k,)
    assert p.total_demand_scale == pytest.approx(p.slot_demand_scale.sum(), rel=1e-12)
    assert p.store_capacity.tolist() == [s.capacity for s in sc.stores]
    assert p.slot_capacity.shape == (sc.n_slots,)
    assert p.warehouse_capacity == max(sc.warehouse.capacity, 1)
    assert p.supplier_capacity == max(sc.supplier.capacity, 1)
    assert p.warehouse_quantities.shape == (k, len(sc.warehouse.order_quantities))
    assert p.store_order_up_to.shape == (sc.n_slots,)
    assert p.warehouse_reorder_point.shape == (k,)


def test_params_arrays_are_read_only_and_shared() -> None:
    sc = load_scenario("default")
    p = chain_params(sc)
    assert chain_params(load_scenario("default")) is p  # an equal scenario shares them
    store, warehouse, _ = make_roles(sc, "planner")
    assert store.profile is p.profile and warehouse.chain_profile is p.chain_profile
    with pytest.raises(ValueError):
        store.order_up_to[0] = 0  # a role cannot change what another role reads
    with pytest.raises(ValueError):
        p.profile[0, 0] = 0.0


def test_a_scenario_derives_its_demand_profile_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every track's roles, the critic's state, the twin and an evaluation read the one
    object: the demand profile is derived once per scenario, not once per role."""
    calls = []
    multipliers = demand_module.slot_multipliers

    def counting(scenario):  # every mean_demand call, whoever makes it, calls this
        calls.append(scenario.name)
        return multipliers(scenario)

    monkeypatch.setattr(demand_module, "slot_multipliers", counting)
    params_module._chain_params.cache_clear()
    sc = load_scenario("lean_start")
    for interface in ("seed", "planner", "view"):
        make_roles(sc, interface)
    ChainState(sc)
    DigitalTwin(sc, 2)
    evaluate(sc, seeds=[0])  # the seed rule of every role
    assert calls == [sc.name]
    params_module._chain_params.cache_clear()
