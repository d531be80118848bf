"""Scenarios: the shipped files, the DESIGN.md numbers, and clear errors for bad input."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from new_scenarios import NEW_SCENARIOS

import hmarl_bench
from hmarl_bench.config import (
    SCENARIO_DIR,
    Costs,
    Demand,
    DemandRegimes,
    RewardWeights,
    Scenario,
    ScenarioError,
    Store,
    Supplier,
    SupplierDisruption,
    Warehouse,
    list_scenarios,
    load_scenario,
    scenario_from_dict,
)

SCENARIOS = [
    "default",
    "demand_spike",
    "high_variability",
    "lean_start",
    "lost_sales_long_lead",
    "multi_sku",
    "regime_switching",
    "regimes_long_lead_three_stores",
    "six_stores_regimes_outages",
    "stores_100",
    "stores_1000",
    "strong_seasonality",
    "supplier_delay",
    "supplier_outages",
    "three_stores",
]
DEFAULT_TOML = (SCENARIO_DIR / "default.toml").read_text(encoding="utf-8")


def test_list_scenarios_is_exactly_the_suite() -> None:
    assert list_scenarios() == SCENARIOS
    assert hmarl_bench.list_scenarios() == SCENARIOS


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_scenario_loads_by_name_and_by_path(name: str) -> None:
    by_name = load_scenario(name)
    assert isinstance(by_name, Scenario)
    assert by_name.name == name
    assert load_scenario(SCENARIO_DIR / f"{name}.toml") == by_name
    assert load_scenario(str(SCENARIO_DIR / f"{name}.toml")) == by_name
    assert load_scenario(by_name) is by_name
    # plain values round-trip
    assert scenario_from_dict(by_name.to_dict()) == by_name


def test_default_scenario_has_the_design_numbers() -> None:
    sc = load_scenario("default")
    assert (sc.episode_days, sc.warmup_days) == (90, 7)
    assert sc.demand == Demand("normal", 50.0, 15.0, 0.3, 30, ())
    assert (sc.costs.holding_cost, sc.costs.stockout_penalty, sc.costs.ordering_cost) == (
        0.5,
        10.0,
        25.0,
    )
    assert (sc.sku.unit_cost, sc.sku.price) == (12.50, 24.99)
    assert sc.stores == (
        Store("store_1", 1.2, 700, 2000, 300, 800),
        Store("store_2", 1.0, 600, 1500, 250, 700),
    )
    wh = sc.warehouse
    assert (wh.initial_inventory, wh.capacity, wh.reorder_point, wh.order_up_to) == (
        5000,
        15000,
        2000,
        6000,
    )
    assert wh.lead_time == 2
    assert wh.order_quantities == (0, 500, 1000, 1500)
    assert (sc.supplier.lead_time, sc.supplier.reliability) == (7, 0.98)
    assert sc.store_reward == RewardWeights(10.0, 0.1, 5.0, 0.05, 0.0)
    # the dataclass defaults are the same chain (the file gives the supplier its own reward)
    assert sc.supplier_reward == RewardWeights(10.0, 0.0, 0.0, 0.0, 0.0)
    defaults = Scenario()
    assert (
        dataclasses.replace(
            defaults, description=sc.description, supplier_reward=sc.supplier_reward
        )
        == sc
    )


def test_three_stores_adds_the_design_third_store() -> None:
    sc = load_scenario("three_stores")
    assert sc.n_stores == 3
    assert sc.stores[:2] == load_scenario("default").stores
    assert sc.stores[2] == Store("store_3", 1.5, 900, 2500, 400, 1000)


@pytest.mark.parametrize(
    ("name", "check"),
    [
        ("demand_spike", lambda sc: sc.demand.spikes[0].multiplier > 1),
        ("high_variability", lambda sc: sc.demand.distribution == "negative_binomial"),
        ("strong_seasonality", lambda sc: sc.demand.seasonality_amplitude > 0.3),
        ("supplier_delay", lambda sc: sc.supplier.reliability < 0.98),
        ("lean_start", lambda sc: sc.warehouse.initial_inventory <= 11 * 110),
        ("regime_switching", lambda sc: sc.demand.regimes.enabled),
        ("supplier_outages", lambda sc: sc.supplier.disruption.enabled),
        ("lost_sales_long_lead", lambda sc: sc.warehouse.lead_time == 6),
        (
            "regimes_long_lead_three_stores",
            lambda sc: sc.demand.regimes.enabled and sc.warehouse.lead_time == 6,
        ),
        (
            "six_stores_regimes_outages",
            lambda sc: sc.demand.regimes.enabled and sc.supplier.disruption.enabled,
        ),
    ],
)
def test_each_scenario_differs_from_default_where_it_says(name: str, check) -> None:
    sc = load_scenario(name)
    assert check(sc)
    assert dataclasses.replace(sc, name="default", description="") != dataclasses.replace(
        load_scenario("default"), description=""
    )


# --------------------------------------------------------------------------- bad input


def _write(tmp_path: Path, text: str, name: str = "bad.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_scenario_error_is_a_value_error() -> None:
    assert issubclass(hmarl_bench.ScenarioError, ValueError)


@pytest.mark.parametrize(
    ("old", "new", "key", "words"),
    [
        # unknown key
        ("capacity = 2000", "capcity = 2000", "stores[0].capcity", "unknown key"),
        ("lead_time = 7", "lead_tim = 7", "supplier.lead_tim", "unknown key"),
        # wrong type: a string where a number is expected
        ("base_mean = 50.0", 'base_mean = "fifty"', "demand.base_mean", "expected a number"),
        ("capacity = 2000", 'capacity = "2000"', "stores[0].capacity", "whole number"),
        # negative lead time and cost
        ("lead_time = 2 ", "lead_time = -2 ", "warehouse.lead_time", ">= 0"),
        ("lead_time = 7", "lead_time = -1", "supplier.lead_time", ">= 0"),
        ("holding_cost = 0.5 ", "holding_cost = -0.5 ", "costs.holding_cost", ">= 0"),
        ("ordering_cost = 25.0", "ordering_cost = -25.0", "costs.ordering_cost", ">= 0"),
        # capacity below initial inventory
        ("capacity = 1500", "capacity = 500", "stores[1].capacity", "below initial_inventory"),
        ("capacity = 15000", "capacity = 4000", "warehouse.capacity", "below initial_inventory"),
        # reliability outside [0, 1]
        ("reliability = 0.98", "reliability = 1.5", "supplier.reliability", "[0, 1]"),
        ("reliability = 0.98", "reliability = -0.1", "supplier.reliability", "[0, 1]"),
        # other validated values
        ('distribution = "normal"', 'distribution = "gamma"', "demand.distribution", "unknown"),
        ("order_up_to = 800", "order_up_to = 200", "stores[0].order_up_to", "reorder_point"),
        (
            "order_quantities = [0, 500, 1000, 1500]",
            "order_quantities = [0, 500]",
            "warehouse.order_quantities",
            "four",
        ),
    ],
)
def test_bad_value_names_the_file_and_the_key(
    tmp_path: Path, old: str, new: str, key: str, words: str
) -> None:
    assert old in DEFAULT_TOML
    path = _write(tmp_path, DEFAULT_TOML.replace(old, new, 1))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert str(path) in message
    assert words in message
    assert info.value.key == key
    assert f"'{key}'" in message


def test_negative_binomial_needs_over_dispersion(tmp_path: Path) -> None:
    text = DEFAULT_TOML.replace('distribution = "normal"', 'distribution = "negative_binomial"')
    text = text.replace("std = 15.0", "std = 5.0")  # 25 < 50
    with pytest.raises(ScenarioError, match=r"demand\.std.*over-dispersion"):
        load_scenario(_write(tmp_path, text))


def test_missing_scenario_lists_the_known_names(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario("no_such_scenario")
    for name in SCENARIOS:
        assert name in str(info.value)
    missing = tmp_path / "missing.toml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(missing)
    assert str(missing) in str(info.value)
    assert "not found" in str(info.value)
    for name in SCENARIOS:
        assert name in str(info.value)


def test_malformed_toml_names_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, DEFAULT_TOML.replace("[warehouse]", "[warehouse", 1))
    with pytest.raises(ScenarioError, match="malformed TOML") as info:
        load_scenario(path)
    assert str(path) in str(info.value)


def test_a_table_where_a_list_is_expected(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="expected a table") as info:
        scenario_from_dict({"stores": [{"name": "a"}, 5]}, source="inline")
    assert info.value.key == "stores[1]"
    assert str(info.value).startswith("inline: ")
    with pytest.raises(ScenarioError, match="expected a list"):
        scenario_from_dict({"stores": {"name": "a"}})


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"stores": [{"name": "a", "capcity": 3}]}, "stores[0].capcity"),
        ({"episode_days": 0}, "episode_days"),
        ({"episode_days": 10, "warmup_days": 10}, "warmup_days"),
        ({"episode_days": True}, "episode_days"),
        (
            {"demand": {"spikes": [{"start_day": 1, "duration": 0, "multiplier": 2}]}},
            "demand.spikes[0].duration",
        ),
        ({"stores": [{"demand_multiplier": 1.0}]}, "stores[0]"),  # name is required
        ({"stores": [{"name": "a"}, {"name": "a"}]}, "stores"),
        ({"costs": {"stockout_penalty": float("nan")}}, "costs.stockout_penalty"),
        (
            {"demand": {"regimes": {"multipliers": [0.5, 1.5], "mean_durations": [9.0]}}},
            "demand.regimes.mean_durations",
        ),
        (
            {"demand": {"regimes": {"multipliers": [0.5, 1.5], "mean_durations": [9, 0.5]}}},
            "demand.regimes.mean_durations[1]",
        ),
        (
            {"demand": {"regimes": {"multipliers": [-0.5, 1.5], "mean_durations": [9, 9]}}},
            "demand.regimes.multipliers[0]",
        ),
        (
            {"demand": {"regimes": {"multipliers": [1.0], "mean_durations": [9.0]}}},
            "demand.regimes.multipliers",
        ),
        ({"demand": {"regimes": {"multiplier": [1.0]}}}, "demand.regimes.multiplier"),
        ({"demand": {"regimes": [1.0, 2.0]}}, "demand.regimes"),
        (
            {"supplier": {"disruption": {"mean_up_days": 30.0, "mean_down_days": 0.5}}},
            "supplier.disruption.mean_down_days",
        ),
        (
            {"supplier": {"disruption": {"mean_up_days": 0, "mean_down_days": 5.0}}},
            "supplier.disruption.mean_up_days",
        ),
        (
            {"supplier": {"disruption": {"mean_up_days": "long", "mean_down_days": 5.0}}},
            "supplier.disruption.mean_up_days",
        ),
    ],
)
def test_scenario_from_dict_errors_name_the_key(data: dict, key: str) -> None:
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, source="inline.toml")
    assert info.value.key == key
    assert "inline.toml" in str(info.value)


@pytest.mark.parametrize(
    "build",
    [
        lambda: Costs(stockout_penalty=-1.0),
        lambda: Store("s", initial_inventory=10, capacity=5, reorder_point=0, order_up_to=5),
        lambda: Supplier(reliability=1.01),
        lambda: Supplier(lead_time=-1),
        lambda: Warehouse(lead_time=-1),
        lambda: Demand(seasonality_amplitude=1.0),
    ],
)
def test_dataclasses_validate_on_construction(build) -> None:
    with pytest.raises(ScenarioError):
        build()


def test_the_new_tables_are_left_out_of_to_dict_at_their_defaults() -> None:
    """Scenarios without regimes or outages keep the plain values (and fingerprints) they
    had before those tables existed; with them, the values round-trip."""
    plain = load_scenario("default").to_dict()
    assert "regimes" not in plain["demand"] and "disruption" not in plain["supplier"]
    plain["demand"]["regimes"] = {"multipliers": [0.5, 1.5], "mean_durations": [10.0, 10.0]}
    plain["supplier"]["disruption"] = {"mean_up_days": 30.0, "mean_down_days": 5.0}
    sc = scenario_from_dict(plain)
    assert sc.demand.regimes == DemandRegimes((0.5, 1.5), (10.0, 10.0))
    assert sc.supplier.disruption == SupplierDisruption(30.0, 5.0)
    assert scenario_from_dict(sc.to_dict()) == sc
    assert sc.to_dict()["supplier"]["disruption"] == plain["supplier"]["disruption"]


def test_regime_and_outage_shares() -> None:
    regimes = DemandRegimes((0.6, 1.0, 1.5), (15.0, 30.0, 12.0))
    assert regimes.stationary_shares == pytest.approx((15 / 57, 30 / 57, 12 / 57))
    assert regimes.stationary_mean == pytest.approx(1.0)
    assert DemandRegimes().stationary_mean == 1.0 and not DemandRegimes().enabled
    assert SupplierDisruption(40.0, 8.0).down_share == pytest.approx(1 / 6)
    assert SupplierDisruption().down_share == 0.0 and not SupplierDisruption().enabled


@pytest.mark.parametrize("name", NEW_SCENARIOS)
def test_the_new_scenarios_start_lean_and_keep_the_nominal_profile(name: str) -> None:
    """Issue 11's scenarios: single SKU, 2-10 stores, 180 days, at most ~13 days of chain
    demand in stock at the start (so the policy, not the starting stock, decides the
    cost) and in the warehouse rule's order-up-to level, and hidden regimes whose
    stationary mean multiplier is 1 (so the nominal profile a planner knows is the
    expected demand)."""
    sc = load_scenario(name)
    assert sc.n_skus == 1 and 2 <= sc.n_stores <= 10 and sc.episode_days == 180
    chain_demand = sc.demand.base_mean * sum(s.demand_multiplier for s in sc.stores)
    start = sc.warehouse.initial_inventory + sum(s.initial_inventory for s in sc.stores)
    assert start <= 13 * chain_demand
    assert sc.warehouse.order_up_to <= 15 * chain_demand
    assert sc.demand.regimes.stationary_mean == pytest.approx(1.0)
