"""Table notes: what the headline says about the clairvoyant MILPs."""

from __future__ import annotations

import pandas as pd
import pytest

from hmarl_bench.harness.tables import _bound_note


def test_bound_note_reports_solve_times_and_optimality():
    solves = pd.DataFrame(
        {"status": ["optimal", "optimal", "optimal"], "solve_seconds": [0.5, 2.0, 4.25]}
    )
    note = _bound_note(solves)
    assert "every MILP solved to optimality" in note
    assert "median 2.0 s" in note and "max 4.2 s" in note and "over 3 episodes" in note


def test_bound_note_says_when_a_solve_stopped_at_the_time_limit():
    solves = pd.DataFrame(
        {
            "status": ["optimal", "stopped: Time limit reached"],
            "solve_seconds": [1.0, 60.0],
            "mip_gap": [0.0, 0.012],
        }
    )
    note = _bound_note(solves)
    assert "1 of 2 MILPs stopped at the time limit" in note
    assert "largest relative MIP gap 1.2%" in note and "max 60.0 s" in note


def test_bound_note_is_empty_without_solves():
    assert _bound_note(None) == "" and _bound_note(pd.DataFrame()) == ""


def test_fingerprint_follows_hyperparameter_values_not_comments(tmp_path, monkeypatch):
    import shutil

    from hmarl_bench.harness import cells
    from hmarl_bench.harness.spec import load_benchmark

    shutil.copy(cells.HYPERPARAM_DIR / "ppo.toml", tmp_path / "ppo.toml")
    monkeypatch.setattr(cells, "HYPERPARAM_DIR", tmp_path)
    spec = load_benchmark("smoke")

    def learner_fingerprint() -> str:
        return next(c.fingerprint for c in cells.build_cells(spec) if c.kind == cells.LEARNER)

    before = learner_fingerprint()
    path = tmp_path / "ppo.toml"
    path.write_text(path.read_text() + "\n# a new comment\n")
    assert learner_fingerprint() == before
    path.write_text(path.read_text().replace("n_epochs = 10", "n_epochs = 11"))
    assert learner_fingerprint() != before


def test_only_tables_refuses_stale_cells_or_marks_tables_partial(tmp_path, capsys):
    import dataclasses

    from hmarl_bench import benchmark
    from hmarl_bench.harness.report import IncompleteResults
    from hmarl_bench.harness.spec import benchmark_from_dict

    spec = benchmark_from_dict(
        {
            "name": "stale",
            "scenarios": ["default"],
            "baselines": ["seed_ss_actions", "random"],
            "training_seeds": [0],
            "tuning_seeds": [100],
            "evaluation_seeds": [10000, 10001],
            "clairvoyant": {"enabled": False},
        }
    )
    benchmark.run_benchmark(spec, tmp_path, progress=False, figures=False)
    capsys.readouterr()
    changed = dataclasses.replace(spec, tuning_seeds=(101,))
    with pytest.raises(IncompleteResults, match="cell default__seed_ss_actions is stale"):
        benchmark.write_report(changed, tmp_path / "stale", figures=False)
    with pytest.raises(IncompleteResults, match="reference of scenario 'default'"):
        benchmark.write_report(changed, tmp_path / "stale", figures=False, allow_missing=True)


def test_headline_compares_with_the_best_baseline_overall_and_on_store_actions():
    from hmarl_bench.harness import stats

    seeds = [1, 2, 3, 4]
    costs = {
        "ppo": [10.0, 20.0, 30.0, 40.0],
        "tuned_ss_actions": [15.0, 15.0, 35.0, 35.0],  # the best on the store actions
        "seed_ss_actions": [50.0, 50.0, 50.0, 50.0],
        "tuned_ss_free": [5.0, 5.0, 5.0, 50.0],  # the best overall
    }
    rows = [
        {
            "scenario": "default",
            "policy": policy,
            "kind": "learner" if policy == "ppo" else "baseline",
            "training_seed": 0 if policy == "ppo" else pd.NA,
            "seed": seed,
            "total_cost": cost,
        }
        for policy, values in costs.items()
        for seed, cost in zip(seeds, values, strict=True)
    ]
    episodes = pd.DataFrame(rows)
    episodes["training_seed"] = episodes["training_seed"].astype("Int64")
    tuning = pd.DataFrame(
        [
            {"scenario": "default", "policy": policy, "seed": 100, "total_cost": cost}
            for policy, cost in (
                ("tuned_ss_actions", 20.0),
                ("seed_ss_actions", 50.0),
                ("tuned_ss_free", 10.0),
            )
        ]
    )
    summary = stats.summarize(episodes, metrics=["total_cost"], n_resamples=200)
    table = stats.headline(episodes, summary, n_resamples=200, tuning=tuning)
    table = table.set_index("policy")
    assert table.loc["ppo", "best_baseline"] == "tuned_ss_free"
    assert table.loc["ppo", "best_actions_baseline"] == "tuned_ss_actions"
    assert table.loc["ppo", "p_improvement"] == 0.25  # wins only episode 4
    assert table.loc["ppo", "p_improvement_actions"] == 0.5  # wins episodes 1 and 3
    assert table.loc["tuned_ss_actions", "p_improvement_actions"] == 0.5  # ties count 1/2
    assert stats.is_free_quantity("tuned_ss_free") and not stats.is_free_quantity("random")


def test_time_to_reference_reads_the_first_point_within_1pct_of_the_reference() -> None:
    import math

    import pandas as pd

    from hmarl_bench.harness.tables import time_to_reference

    curves = pd.DataFrame(
        {
            "scenario": ["s"] * 4 + ["s"] * 2,
            "policy": ["hdpo"] * 4 + ["slow"] * 2,
            "training_seed": [0] * 4 + [0] * 2,
            "seconds": [0.1, 10.0, 20.0, 30.0, 0.1, 50.0],
            "mean_total_cost": [150.0, 102.0, 100.5, 99.0, 150.0, 120.0],
        }
    )
    choice = pd.DataFrame(
        {
            "scenario": ["s", "s"],
            "policy": ["rule", "other"],
            "tuning_cost": [100.0, 90.0],
            "reference": [True, False],
        }
    )
    table = time_to_reference(curves, choice).set_index("policy")
    assert table.loc["hdpo", "seconds_to_within_1pct"] == 20.0  # 100.5 <= 101, 102 is not
    assert table.loc["hdpo", "train_seconds"] == 30.0
    assert table.loc["hdpo", "best_validation_cost"] == 99.0
    assert table.loc["hdpo", "reference"] == "rule"
    assert math.isnan(table.loc["slow", "seconds_to_within_1pct"])
    assert time_to_reference(curves.drop(columns="seconds"), choice).empty  # SB3 curves
