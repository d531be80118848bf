"""The 'frontier' benchmark (issue 11): what its config promises, and the whole pipeline on one
new scenario at a tiny budget (the real run is hours; this one is seconds)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import tomllib
from new_scenarios import NEW_SCENARIOS

from hmarl_bench import benchmark
from hmarl_bench.harness.cells import build_cells
from hmarl_bench.harness.spec import benchmark_from_dict, load_benchmark

BENCHMARKS = Path(__file__).resolve().parents[1] / "experiments" / "benchmarks"
SEED_SCENARIOS = load_benchmark("hierarchy").scenarios  # the seed's six


def test_frontier_runs_the_new_and_the_seed_scenarios_with_both_tracks() -> None:
    spec = load_benchmark("frontier")
    assert spec.scenarios[:6] == NEW_SCENARIOS  # the new ones first: they run first
    assert set(spec.scenarios[6:]) == set(SEED_SCENARIOS)
    assert len(spec.training_seeds) >= 5 and spec.episodes == 20
    assert spec.clairvoyant
    assert not set(spec.evaluation_seeds) & set(spec.tuning_seeds)
    tracks = {(a.learners, a.hyperparam_overrides.get("interface", "seed")) for a in spec.algos}
    for learners in (("stores",), ("warehouse",)):
        assert (learners, "seed") in tracks
    assert (("warehouse",), "planner") in tracks
    assert (("stores", "warehouse"), "planner") in tracks
    joint = [a for a in spec.algos if a.hyperparam_overrides.get("schedule") == "joint"]
    critics = {a.hyperparam_overrides.get("central_critic", True) for a in joint}
    assert critics == {True, False}  # with and without the centralized critic
    assert ("residual",) in {a.learners for a in spec.algos}  # corrections to the best rule
    for rule in ("tuned_echelon_free", "tuned_echelon_actions", "tuned_forecast_ss_free"):
        assert rule in spec.baselines and rule in spec.searched_baselines


def test_frontier_shares_the_seed_scenarios_cells_with_hierarchy() -> None:
    """--reuse-from results/hierarchy copies a cell only under the same id and fingerprint."""
    frontier = {c.cell_id: c for c in build_cells(load_benchmark("frontier"))}
    hierarchy = {c.cell_id: c for c in build_cells(load_benchmark("hierarchy"))}
    # 'default' is the hierarchy benchmark's generalization source: its learners run elsewhere too
    others = tuple(s for s in SEED_SCENARIOS if s != "default")
    shared = [i for i in frontier if i in hierarchy and i.split("__")[0] in others]
    learners = [i for i in shared if frontier[i].kind == "learner"]
    seeds = len(load_benchmark("frontier").training_seeds)
    assert len(learners) == seeds * 5 * len(others)
    assert any(i.endswith("tuned_echelon_free") for i in shared)
    different = [i for i in shared if frontier[i].fingerprint != hierarchy[i].fingerprint]
    assert not different


def _tiny_frontier() -> dict:
    data = tomllib.loads((BENCHMARKS / "frontier.toml").read_text(encoding="utf-8"))
    data.update(
        name="tiny_frontier",
        scenarios=["regime_switching"],
        baselines=["seed_ss_actions", "tuned_ss_free", "tuned_echelon_free"],
        training_seeds=[0],
        tuning_seeds=[100],
        validation_seeds=[200],
        evaluation_seeds=[10000, 10001],
        tuning={"candidate_episodes": 400, "seed": 0},
        clairvoyant={"enabled": False},
        statistics={"n_resamples": 200, "confidence_level": 0.95, "seed": 0},
    )
    del data["episodes"]
    for algo in data["algos"]:
        if algo.get("learner") == "hdpo":  # a few Adam steps of 8 episodes
            algo["hyperparams"] = {"batch_size": 8, "eval_every": 2}
            algo["timesteps"] = 8 * 180 * 2
            algo["eval_freq"] = 8 * 180
            continue
        small = {"n_steps": 16, "batch_size": 32, "n_epochs": 1}
        algo["hyperparams"] = {**algo.get("hyperparams", {}), **small}
        algo["n_envs"] = 2
        algo["eval_freq"] = 64
        if isinstance(algo["timesteps"], dict):
            algo["timesteps"] = {role: 64 for role in algo["timesteps"]}
        else:
            algo["timesteps"] = 64
    return data


def test_frontier_pipeline_on_a_new_scenario_at_a_tiny_budget(tmp_path) -> None:
    spec = benchmark_from_dict(_tiny_frontier(), base=BENCHMARKS)
    summary = benchmark.run_benchmark(spec, tmp_path, progress=False)
    assert not summary.failed, summary.failed
    headline = pd.read_csv(tmp_path / "tiny_frontier" / "tables" / "headline.csv")
    assert set(headline["policy"]) == set(spec.policies)
    assert headline["total_cost_mean"].gt(0).all()
    learners = headline[headline["kind"] == "learner"]
    assert len(learners) == len(spec.algos) == 10
    assert "ppo-residual" in set(learners["policy"])  # the residual learner (learn/residual.py)
    assert {"hdpo", "ppo-warehouse-view", "recurrent_ppo-warehouse-view", "ppo-joint-view"} <= set(
        learners["policy"]
    )
    # every learner is compared, paired, with the reference rule chosen on the tuning seeds
    assert learners["best_baseline"].isin(spec.baselines).all()
    assert learners["diff_to_reference_mean"].notna().all()
