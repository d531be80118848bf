"""Replaying a stored rule cell's policy at report time (time to the reference, paired)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from hmarl_bench.config import load_scenario
from hmarl_bench.evaluation import evaluate
from hmarl_bench.harness.replay import rebuild_rule, validation_costs
from hmarl_bench.harness.tables import time_to_reference

SMOKE = Path(__file__).resolve().parents[1] / "results" / "smoke" / "cells"


def _cell(name: str) -> dict:
    return json.loads((SMOKE / f"default__{name}.json").read_text("utf-8"))


@pytest.mark.parametrize(
    "name", ["seed_ss_actions", "random", "tuned_order_up_to_actions", "tuned_echelon_free"]
)
def test_a_rebuilt_rule_reproduces_its_committed_cell(name: str) -> None:
    """Untuned, grid-tuned, searched and random rules rebuild from what their cell stored
    and score its evaluation episodes to the unit."""
    cell = _cell(name)
    rule = rebuild_rule(name, cell["info"]["tuned_params"], baseline_seed=0)
    assert rule is not None
    seeds = [row["seed"] for row in cell["rows"]]
    frame = evaluate(load_scenario("default"), rule, seeds)
    assert list(frame["total_cost"]) == [row["total_cost"] for row in cell["rows"]]


def test_milp_rules_and_tuned_rules_without_parameters_are_not_rebuilt() -> None:
    assert rebuild_rule("tuned_mpc_free", {"safety": 1.0}, 0) is None
    assert rebuild_rule("tuned_echelon_free", None, 0) is None
    assert rebuild_rule("tuned_ss_actions", None, 0) is None
    assert rebuild_rule("no_such_rule", None, 0) is None


def _per_seed(name: str, cell: dict) -> pd.DataFrame:
    return pd.DataFrame([{"scenario": "default", "policy": name, **row} for row in cell["rows"]])


def test_validation_costs_replay_the_reference_on_the_validation_seeds() -> None:
    name = "tuned_echelon_free"
    cell = _cell(name)
    params = {("default", name): cell["info"]["tuned_params"]}
    got = validation_costs({"default": name}, params, _per_seed(name, cell), [200, 201], 0)
    rule = rebuild_rule(name, cell["info"]["tuned_params"], 0)
    expected = evaluate(load_scenario("default"), rule, [200, 201])["total_cost"].mean()
    assert got == {"default": pytest.approx(expected, rel=0, abs=1e-9)}


def test_a_rule_that_no_longer_reproduces_its_cell_is_not_replayed() -> None:
    """Rows the rebuilt rule does not reproduce (the code changed since the cell ran) mean
    no replay: the table falls back to the tuning cost rather than a wrong pairing."""
    name = "tuned_echelon_free"
    cell = _cell(name)
    rows = _per_seed(name, cell)
    rows.loc[0, "total_cost"] += 1.0
    params = {("default", name): cell["info"]["tuned_params"]}
    assert validation_costs({"default": name}, params, rows, [200, 201], 0) == {}
    assert validation_costs({"default": name}, params, _per_seed(name, cell), [], 0) == {}


def test_time_to_reference_pairs_on_the_validation_episodes_where_it_can() -> None:
    curves = pd.DataFrame(
        {
            "scenario": ["a"] * 3 + ["b"] * 3,
            "policy": ["hdpo"] * 6,
            "training_seed": [0] * 6,
            "seconds": [1.0, 10.0, 20.0] * 2,
            "mean_total_cost": [130.0, 110.0, 100.0] * 2,
        }
    )
    choice = pd.DataFrame(
        {
            "scenario": ["a", "b"],
            "policy": ["rule", "rule"],
            "tuning_cost": [100.0, 100.0],
            "reference": [True, True],
        }
    )
    # a's reference costs 109 on the validation episodes: 110 is within 1% of it;
    # b's is not replayed, so its tuning cost (100) stands in and only 100 is
    table = time_to_reference(curves, choice, {"a": 109.0}).set_index("scenario")
    assert table.loc["a", "seconds_to_within_1pct"] == 10.0 and table.loc["a", "paired"]
    assert table.loc["b", "seconds_to_within_1pct"] == 20.0 and not table.loc["b", "paired"]
    assert math.isnan(table.loc["b", "reference_validation_cost"])
