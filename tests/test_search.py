"""Tuning: batched candidate scores equal one-at-a-time scores; the search never loses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hmarl_bench import load_scenario
from hmarl_bench.baselines import (
    EchelonActions,
    EchelonFree,
    EchelonSSFree,
    OrderUpToFree,
    SearchBudget,
    SeedSSFree,
    make_baseline,
    search,
    tune,
)
from hmarl_bench.baselines.batch import score_candidates
from hmarl_bench.evaluation import evaluate
from hmarl_bench.harness.spec import BenchmarkError, load_benchmark

SEEDS = [100, 101, 102]


def _random_candidates(cls, scenario, n: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        params = {}
        for spec in cls.parameters(scenario):
            low, high = spec.bounds(scenario)
            params[spec.name] = rng.uniform(low, high)
        out.append(params)
    return out


@pytest.mark.parametrize("cls", [EchelonFree, EchelonActions, EchelonSSFree])
@pytest.mark.parametrize("name", ["default", "supplier_delay"])
def test_batched_scores_equal_one_candidate_at_a_time(cls, name: str) -> None:
    sc = load_scenario(name)
    candidates = [{}, *_random_candidates(cls, sc, 5, seed=3)]
    batched = score_candidates(cls, sc, SEEDS, candidates, max_copies=9)  # several passes
    for params, row in zip(candidates, batched, strict=True):
        alone = evaluate(sc, cls(**params), SEEDS)["total_cost"].to_numpy()
        np.testing.assert_array_equal(row, alone)


@pytest.mark.parametrize("cls", [SeedSSFree, OrderUpToFree])
def test_the_grid_search_scores_as_evaluate_does(cls) -> None:
    sc = load_scenario("three_stores")
    grid = cls.tuning_grid(sc)[:12]
    best, table = tune(cls, sc, SEEDS, grid)
    for params, row in zip(grid, table.itertuples(), strict=True):
        frame = evaluate(sc, cls(**params), SEEDS)
        assert row.mean_total_cost == frame["total_cost"].mean()
        assert row.std_total_cost == frame["total_cost"].std(ddof=0)
    assert table["best"].sum() == 1 and best == grid[int(table["mean_total_cost"].argmin())]


@pytest.mark.parametrize("cls", [EchelonFree, EchelonSSFree, EchelonActions])
def test_a_tuned_rule_is_never_worse_than_its_untuned_rule_on_the_tuning_seeds(cls) -> None:
    sc = load_scenario("default")
    result = search(cls, sc, SEEDS, SearchBudget(candidate_episodes=1500, seed=1))
    untuned = evaluate(sc, cls(), SEEDS)["total_cost"].mean()
    tuned = evaluate(sc, cls(**result.params), SEEDS)["total_cost"].mean()
    assert result.start_cost == pytest.approx(untuned)
    assert result.best_cost == pytest.approx(tuned)
    assert tuned <= untuned
    assert result.candidate_episodes <= 1500 and result.candidate_episodes >= 1000
    trace = result.trace
    assert trace["phase"].iloc[0] == "start" and set(trace["phase"]) >= {"random", "local"}
    assert trace["best_mean_total_cost"].is_monotonic_decreasing
    assert trace["candidates"].iloc[-1] * len(SEEDS) == result.candidate_episodes


def test_the_search_finds_better_levels_and_is_reproducible() -> None:
    sc = load_scenario("default")
    first = search(EchelonFree, sc, SEEDS, SearchBudget(3000, seed=5))
    again = search(EchelonFree, sc, SEEDS, SearchBudget(3000, seed=5))
    assert first.best_cost < first.start_cost  # the untuned rule is not a local optimum
    assert first.plain_params() == again.plain_params()
    pd.testing.assert_frame_equal(first.trace, again.trace)
    other = search(EchelonFree, sc, SEEDS, SearchBudget(3000, seed=6))
    assert other.plain_params() != first.plain_params()


def test_a_budget_of_one_candidate_is_the_untuned_rule() -> None:
    result = search(EchelonFree, "default", SEEDS, SearchBudget(candidate_episodes=1))
    assert result.candidate_episodes == len(SEEDS) and result.best_cost == result.start_cost
    untuned = EchelonFree()
    untuned.reset(load_scenario("default"), 1)
    for name, value in result.params.items():
        np.testing.assert_array_equal(value, untuned.p[name])


@pytest.mark.parametrize(("budget", "match"), [(0, "candidate_episodes"), (-3, "must be")])
def test_bad_budgets_are_refused(budget: int, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        SearchBudget(candidate_episodes=budget)


def test_tuned_baselines_carry_their_search() -> None:
    policy = make_baseline("tuned_echelon_free", "default", SEEDS, budget=SearchBudget(600))
    info = policy.tuning_info
    assert info["tuned_mean_total_cost"] <= info["untuned_mean_total_cost"]
    assert info["candidate_episodes"] <= 600
    assert set(policy.tuned_params) == {
        p.name for p in EchelonFree.parameters(load_scenario("default"))
    }
    assert len(policy.tuning_table) >= 2


# ------------------------------------------------------------- the benchmark's [tuning]

CONFIG = """
name = "tuned"
scenarios = ["default"]
baselines = ["tuned_echelon_free", "seed_ss_free"]
tuning_seeds = [100, 101]
evaluation_seeds = [10000, 10001]
{tuning}
[clairvoyant]
enabled = false
[statistics]
n_resamples = 200
"""


def _load(tmp_path: Path, tuning: str):
    path = tmp_path / "tuned.toml"
    path.write_text(CONFIG.format(tuning=tuning), encoding="utf-8")
    return load_benchmark(path)


def test_the_tuning_table_sets_the_searched_cells_budget(tmp_path: Path) -> None:
    from hmarl_bench.harness.cells import build_cells

    spec = _load(tmp_path, "[tuning]\ncandidate_episodes = 400\nseed = 7\n")
    assert (spec.tuning_candidate_episodes, spec.tuning_seed) == (400, 7)
    cells = {c.policy: c for c in build_cells(spec)}
    searched, plain = cells["tuned_echelon_free"], cells["seed_ss_free"]
    assert (searched.tuning_budget, searched.tuning_seed) == (400, 7)
    assert (plain.tuning_budget, plain.tuning_seed) == (0, 0)
    # a rule that does not search keeps its fingerprint whatever the budget
    other = {c.policy: c for c in build_cells(_load(tmp_path, "[tuning]\nseed = 8\n"))}
    assert other["seed_ss_free"].fingerprint == plain.fingerprint
    assert other["tuned_echelon_free"].fingerprint != searched.fingerprint
    assert _load(tmp_path, "").tuning_candidate_episodes == SearchBudget().candidate_episodes


@pytest.mark.parametrize(
    ("tuning", "match"),
    [
        ("[tuning]\ncandidate_episodes = 0\n", r"tuning\.candidate_episodes.*>= 1"),
        ('[tuning]\nseed = "x"\n', r"tuning\.seed.*whole number"),
        ("[tuning]\nbudget = 5\n", r"tuning\.budget.*unknown key"),
        ('tuning = "fast"\n', r"'tuning'.*expected a table"),
    ],
)
def test_bad_tuning_tables_are_refused(tmp_path: Path, tuning: str, match: str) -> None:
    with pytest.raises(BenchmarkError, match=match):
        _load(tmp_path, tuning)


def test_the_harness_stores_the_search_trace(tmp_path: Path) -> None:
    from hmarl_bench import benchmark

    spec = _load(tmp_path, "[tuning]\ncandidate_episodes = 300\n")
    summary = benchmark.run_benchmark(spec, tmp_path / "out", progress=False, figures=False)
    assert not summary.failed
    root = tmp_path / "out" / "tuned"
    trace = pd.read_csv(root / "tuning" / "default__tuned_echelon_free.csv")
    assert {"generation", "phase", "candidates", "best_mean_total_cost"} <= set(trace.columns)
    import json

    cell = json.loads((root / "cells" / "default__tuned_echelon_free.json").read_text())
    info = cell["info"]
    assert info["tuning"]["candidate_episodes"] <= 300
    assert len(info["tuning_trace"]) == len(trace)
    assert not (root / "tuning" / "default__seed_ss_free.csv").exists()  # untuned: no trace
