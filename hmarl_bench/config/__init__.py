"""Scenario configuration: frozen, validated dataclasses and the TOML loader.

A scenario is plain values in ``experiments/scenarios/<name>.toml``. :func:`load_scenario`
turns it into a frozen :class:`Scenario`; every field is type-checked and every value is
validated on construction, and any problem raises one :class:`ScenarioError` that names the
file and the dotted key (``stores[1].capacity``) that is wrong. A file gives every table
and key, or declares the scenario it ``extends`` (:mod:`hmarl_bench.config.files`).

Modules, each at one level: :mod:`~hmarl_bench.config.scenario` (the dataclasses),
:mod:`~hmarl_bench.config.build` (plain values -> dataclasses, ``[store_pattern]``),
:mod:`~hmarl_bench.config.files` (files, ``extends``, completeness). This package gathers
their public names.
"""

from __future__ import annotations

from hmarl_bench.config.build import StorePattern, scenario_from_dict
from hmarl_bench.config.files import (
    SCENARIO_DIR,
    ScenarioFile,
    list_scenarios,
    load_scenario,
    read_scenario_file,
    scenario_path,
)
from hmarl_bench.config.scenario import (
    DEMAND_DISTRIBUTIONS,
    OMIT_DEFAULT,
    Costs,
    Demand,
    DemandRegimes,
    RewardWeights,
    Scenario,
    ScenarioError,
    Sku,
    Spike,
    Store,
    Supplier,
    SupplierDisruption,
    Warehouse,
)

__all__ = [
    "DEMAND_DISTRIBUTIONS",
    "OMIT_DEFAULT",
    "SCENARIO_DIR",
    "Costs",
    "Demand",
    "DemandRegimes",
    "RewardWeights",
    "Scenario",
    "ScenarioError",
    "ScenarioFile",
    "Sku",
    "Spike",
    "Store",
    "StorePattern",
    "Supplier",
    "SupplierDisruption",
    "Warehouse",
    "list_scenarios",
    "load_scenario",
    "read_scenario_file",
    "scenario_from_dict",
    "scenario_path",
]
