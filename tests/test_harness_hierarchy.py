"""The harness's hierarchical learners: config, cells, round logs, generalization table."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from hmarl_bench import benchmark
from hmarl_bench.harness.cells import build_cells
from hmarl_bench.harness.spec import BenchmarkError, load_benchmark

TINY_HIER = """
name = "tiny_hier"
scenarios = ["default", "three_stores"]
baselines = ["seed_ss_actions"]
training_seeds = [0]
tuning_seeds = [100]
validation_seeds = [200]
evaluation_seeds = [10000, 10001]
[[algos]]
name = "ppo"
learners = "stores"
timesteps = 128
{algo}
[generalization]
train_scenario = "default"
[clairvoyant]
enabled = false
[statistics]
n_resamples = 200
"""
COMMON = """n_envs = 2
eval_freq = 64
hyperparams = { n_steps = 32, batch_size = 64, n_epochs = 1 }"""
HIER_ALGOS = f"""{COMMON}
[[algos]]
name = "ppo"
learners = "warehouse"
timesteps = 128
{COMMON}
[[algos]]
name = "ppo"
learners = "stores+warehouse"
rounds = 2
timesteps = {{ stores = 128, warehouse = 64 }}
{COMMON}
"""


def _spec(tmp_path: Path, algo: str = HIER_ALGOS):
    path = tmp_path / "tiny_hier.toml"
    path.write_text(TINY_HIER.format(algo=algo), encoding="utf-8")
    return load_benchmark(path)


def test_learner_kinds_become_labelled_cells(tmp_path) -> None:
    spec = _spec(tmp_path)
    assert spec.policies == (
        "ppo-stores", "ppo-warehouse", "ppo-stores+warehouse-r2", "seed_ss_actions"
    )  # fmt: skip
    both = spec.algos[2]
    assert both.learners == ("stores", "warehouse") and both.rounds == 2
    assert dict(both.role_timesteps) == {"stores": 128, "warehouse": 64}
    cells = {c.cell_id: c for c in build_cells(spec)}
    assert cells["default__ppo-warehouse__seed0"].transfer_scenarios == ("three_stores",)
    assert cells["three_stores__ppo-warehouse__seed0"].transfer_scenarios == ()
    assert cells["default__ppo-stores__seed0"].algo_name == "ppo"


@pytest.mark.parametrize(
    ("algo", "match"),
    [
        ('learners = "retailer"', "unknown learner"),
        ('learners = "stores+stores"', "repeat"),
        ('learners = "stores+warehouse"\ntimesteps = { stores = 5 }', "missing a budget"),
        ("rounds = 0", "must be >= 1"),
    ],
)
def test_bad_learner_entries_name_the_key(tmp_path, algo: str, match: str) -> None:
    text = f'[[algos]]\nname = "maskable_ppo"\ntimesteps = 64\n{algo}'
    if "timesteps = {" in algo:
        text = f'[[algos]]\nname = "maskable_ppo"\n{algo}'
    with pytest.raises(BenchmarkError, match=match):
        _spec(tmp_path, COMMON + "\n" + text)


def test_generalization_scenario_must_be_in_the_benchmark(tmp_path) -> None:
    path = tmp_path / "bad.toml"
    text = TINY_HIER.format(algo=COMMON).replace(
        'train_scenario = "default"', 'train_scenario = "demand_spike"'
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BenchmarkError, match="generalization.train_scenario"):
        load_benchmark(path)


def test_hierarchy_benchmark_runs_with_rounds_and_generalization(tmp_path) -> None:
    spec = _spec(tmp_path)
    summary = benchmark.run_benchmark(spec, tmp_path, progress=False)
    assert not summary.failed, summary.failed
    root = tmp_path / "tiny_hier"
    both = json.loads((root / "cells" / "default__ppo-stores+warehouse-r2__seed0.json").read_text())
    rounds = both["info"]["rounds"]
    assert [r["round"] for r in rounds] == [1, 2]
    assert all("system_reward" in r and "total_cost" in r for r in rounds)
    curve = pd.DataFrame(both["learning_curve"])
    assert curve["timesteps"].is_monotonic_increasing
    assert list(dict.fromkeys(zip(curve["round"], curve["learner"], strict=True))) == [
        (1, "stores"), (1, "warehouse"), (2, "stores"), (2, "warehouse")
    ]  # fmt: skip
    models = {p.name for p in (root / "models").iterdir()}
    assert "default__ppo-stores+warehouse-r2__seed0.warehouse.zip" in models
    assert "default__ppo-stores__seed0.zip" in models
    transfer = pd.DataFrame(both["transfer"])
    assert set(transfer["target_scenario"]) == {"three_stores"}
    table = pd.read_csv(root / "tables" / "generalization.csv")
    assert set(table["policy"]) == {"ppo-stores", "ppo-warehouse", "ppo-stores+warehouse-r2"}
    assert table["transferred_cost"].gt(0).all() and table["trained_here_cost"].gt(0).all()
    assert (table["best_baseline"] == "seed_ss_actions").all()
    assert (root / "tables" / "generalization.md").read_text().count("three_stores") == 3
    assert (root / "figures" / "generalization.png").stat().st_size > 1000
    headline = pd.read_csv(root / "tables" / "headline.csv")
    assert len(headline) == 2 * 4


def test_generalization_table_by_hand() -> None:
    from hmarl_bench.harness.generalization import generalization_table

    transfers = pd.DataFrame(
        {
            "train_scenario": "default",
            "target_scenario": "spike",
            "policy": "ppo-warehouse",
            "training_seed": [0, 0, 1, 1],
            "seed": [1, 2, 1, 2],
            "total_cost": [110.0, 130.0, 90.0, 110.0],
            "fill_rate": [1.0, 0.9, 0.8, 0.9],
        }
    )
    per_seed = pd.DataFrame(
        {"scenario": "spike", "policy": "ppo-warehouse", "total_cost": [90.0, 110.0]}
    )
    headline = pd.DataFrame(
        {
            "scenario": ["spike", "spike"],
            "policy": ["ppo-warehouse", "rule"],
            "best_baseline": ["rule", "rule"],
            "total_cost_mean": [100.0, 95.0],
        }
    )
    row = generalization_table(transfers, per_seed, headline, n_resamples=200).iloc[0]
    assert row["transferred_cost"] == 110.0 and row["trained_here_cost"] == 100.0
    assert row["transfer_gap_pct"] == pytest.approx(10.0)
    assert row["best_baseline"] == "rule" and row["best_baseline_cost"] == 95.0
    assert row["n_training_seeds"] == 2
    assert row["transferred_ci_low"] <= 110.0 <= row["transferred_ci_high"]
    assert row["transferred_fill_rate"] == pytest.approx(0.9)
