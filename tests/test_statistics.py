"""The statistics of docs/statistics.md: the hierarchical bootstrap (by hand, against a
plain loop, and recomputed from committed cells), seed sets, decision time, aggregates."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hmarl_bench._toml import tomllib
from hmarl_bench.evaluation import DECIDE_MS, KPI_COLUMNS, RoleController, evaluate
from hmarl_bench.harness import aggregate, stats, tables
from hmarl_bench.harness.spec import BenchmarkError, benchmark_from_dict, load_benchmark

ROOT = Path(__file__).resolve().parents[1]


def _frame(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["policy", "kind", "training_seed", "seed", "total_cost"])
    frame["scenario"] = "s"
    frame["training_seed"] = frame["training_seed"].astype("Int64")
    return frame


# ------------------------------------------------------------------- the bootstrap


def test_seed_to_seed_variance_enters_the_interval_by_hand():
    # Two seeds, each the same on every episode: resampled seed pairs average 10, 20 or 30
    # with probabilities 1/4, 1/2, 1/4, so the 95% interval is [10, 30] exactly.
    grid = np.array([[10.0, 10.0, 10.0], [30.0, 30.0, 30.0]])
    assert stats.hierarchical_ci(grid, n_resamples=4000, rng=1) == (10.0, 30.0)
    replicates = stats.hierarchical_replicates(grid, n_resamples=4000, rng=1)
    assert set(np.unique(replicates)) == {10.0, 20.0, 30.0}
    assert np.mean(replicates == 20.0) == pytest.approx(0.5, abs=0.03)


def test_the_vectorized_bootstrap_equals_a_plain_loop():
    grid = np.random.default_rng(3).gamma(2.0, 50.0, size=(4, 7))
    seeds, episodes = stats.draw_indices(4, 7, 300, rng=5)
    loop = [grid[np.ix_(s, e)].mean() for s, e in zip(seeds, episodes, strict=True)]
    vector = stats.hierarchical_replicates(grid, draws=(seeds, episodes))
    np.testing.assert_allclose(vector, loop, rtol=1e-12)
    iqms = [stats.iqm(grid[np.ix_(s, e)].ravel()) for s, e in zip(seeds, episodes, strict=True)]
    np.testing.assert_allclose(
        stats.hierarchical_replicates(grid, stats.iqm, draws=(seeds, episodes)), iqms
    )
    # The same generator gives the same draws: one call draws seeds, then episodes.
    again = stats.hierarchical_replicates(grid, n_resamples=300, rng=5)
    np.testing.assert_array_equal(again, vector)


def test_a_rule_resamples_episodes_only_and_pairs_share_the_episode_draw():
    # Hard and easy episodes move both policies alike: the marginal interval is wide, the
    # paired difference (constant -5 on every episode) has a zero-width interval.
    demand = np.array([100.0, 400.0, 150.0, 300.0, 250.0, 120.0])
    rows = [("rule", "baseline", None, e, c) for e, c in enumerate(demand)]
    rows += [("ppo", "learner", t, e, c - 5.0) for t in (0, 1, 2) for e, c in enumerate(demand)]
    frame = _frame(rows)
    summary = stats.summarize(frame, metrics=["total_cost"], n_resamples=500).set_index("policy")
    assert summary.loc["rule", "ci_high"] - summary.loc["rule", "ci_low"] > 50
    assert summary.loc["rule", "n_training_seeds"] == 0 and summary.loc["ppo", "max"] == 395.0
    reference = frame[frame["policy"] == "rule"].set_index("seed")["total_cost"]
    diff = stats.paired_difference(frame[frame["policy"] == "ppo"], reference, n_resamples=500)
    assert (diff.mean, diff.ci_low, diff.ci_high) == pytest.approx((-5.0, -5.0, -5.0))
    assert (diff.n_training_seeds, diff.n_episodes) == (3, 6)


# ------------------------------------------------- recomputed from committed cells

# A benchmark whose committed cells and tables are current (not awaiting a rerun), and a
# learner of it with several training seeds.
COMMITTED = ROOT / "results" / "scaling"
SCENARIO, LEARNER = "stores_100", "hdpo"


def _cells(folder: Path, scenario: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The per-episode and tuning-seed frames of one scenario's stored cells."""
    rows, tuning = [], []
    for path in sorted((folder / "cells").glob(f"{scenario}__*.json")):
        cell = json.loads(path.read_text(encoding="utf-8"))
        key = {k: cell[k] for k in ("scenario", "policy", "kind", "training_seed")}
        rows += [{**key, **row} for row in cell["rows"]]
        tuning += [{**key, **row} for row in cell["info"].get("tuning_rows", [])]
    columns = ["scenario", "policy", "kind", "training_seed", "seed", *KPI_COLUMNS]
    per_seed = pd.DataFrame(rows, columns=columns)
    per_seed[list(KPI_COLUMNS)] = per_seed[list(KPI_COLUMNS)].astype(float)
    per_seed["training_seed"] = per_seed["training_seed"].astype("Int64")
    return per_seed, pd.DataFrame(tuning, columns=columns).drop(columns="training_seed")


@pytest.mark.skipif(not (COMMITTED / "cells").is_dir(), reason="no committed cells")
def test_a_committed_ci_recomputed_from_the_stored_cells():
    # the [statistics] the committed tables were made with (the config copy beside them)
    config = tomllib.loads((COMMITTED / "benchmark.toml").read_text(encoding="utf-8"))
    n_resamples, seed = config["statistics"]["n_resamples"], config["statistics"]["seed"]
    level = config["statistics"]["confidence_level"]
    alpha = (1.0 - level) / 2
    per_seed, tuning = _cells(COMMITTED, SCENARIO)
    committed = pd.read_csv(COMMITTED / "tables" / "headline.csv")
    old = committed[(committed["scenario"] == SCENARIO) & (committed["policy"] == LEARNER)].iloc[0]

    # By hand: the learner's (training seed x episode) grid from the cell rows, and seeded
    # replicates in a plain loop: training seeds drawn, then episodes.
    mine = per_seed[per_seed["policy"] == LEARNER]
    grid = mine.pivot(index="training_seed", columns="seed", values="total_cost").to_numpy()
    n_seeds, n_episodes = grid.shape
    assert n_seeds >= 3 and n_episodes == len(config["evaluation_seeds"])
    draws = stats.draw_indices(
        n_seeds, n_episodes, n_resamples, stats._rng(seed, SCENARIO, LEARNER, "total_cost")
    )
    loop = np.array([grid[np.ix_(s, e)].mean() for s, e in zip(*draws, strict=True)])
    low, high = np.quantile(loop, [alpha, 1 - alpha])
    assert (old["total_cost_ci_low"], old["total_cost_ci_high"]) == pytest.approx((low, high))
    assert old["total_cost_worst"] == grid.max()
    # The paired difference by hand: d[t, e] = learner(t, e) - reference(e), the reference
    # chosen on the tuning seeds (lowest mean tuning cost among the baselines).
    baselines = tuning[tuning["kind"] == "baseline"]
    reference = baselines.groupby("policy")["total_cost"].mean().idxmin()
    assert reference == old["best_baseline"]
    ref = per_seed[per_seed["policy"] == reference].set_index("seed")["total_cost"]
    episodes = sorted(mine["seed"].unique())
    diff = grid - ref.reindex(episodes).to_numpy()[None, :]
    draws = stats.draw_indices(
        n_seeds, n_episodes, n_resamples, stats._rng(seed, SCENARIO, LEARNER, "paired")
    )
    loop = np.array([diff[np.ix_(s, e)].mean() for s, e in zip(*draws, strict=True)])
    low, high = np.quantile(loop, [alpha, 1 - alpha])
    assert old["diff_to_reference_mean"] == pytest.approx(diff.mean(), rel=1e-9)
    assert old["diff_to_reference_ci_low"] == pytest.approx(low, rel=1e-9)
    assert old["diff_to_reference_ci_high"] == pytest.approx(high, rel=1e-9)
    verdict = "beats" if high < 0 else "loses" if low > 0 else "ties"
    assert old["verdict"] == verdict

    # The same numbers through the library and the Markdown table's text.
    summary = stats.summarize(
        per_seed, metrics=["total_cost"], n_resamples=n_resamples, confidence_level=level, seed=seed
    )
    table = stats.headline(
        per_seed,
        summary,
        n_resamples=n_resamples,
        confidence_level=level,
        seed=seed,
        tuning=tuning,
    )
    titles, cells, _ = tables.format_headline(table)
    text = dict(zip(titles, cells[list(table["policy"]).index(LEARNER)], strict=True))
    assert text["Total cost [95% CI] (currency/episode)"].strip("*") == (
        f"{grid.mean():,.0f} [{old['total_cost_ci_low']:,.0f}, {old['total_cost_ci_high']:,.0f}]"
    )
    assert text["Worst episode"] == f"{grid.max():,.0f}"
    assert (COMMITTED / "tables" / "headline.md").read_text(encoding="utf-8").count(
        text["Total cost [95% CI] (currency/episode)"]
    ) == 1


LEARNER_BENCHMARKS = ("frontier", "frontier_mpc", "default", "hierarchy")


@pytest.mark.parametrize("name", LEARNER_BENCHMARKS)
def test_shipped_benchmarks_have_five_seeds_thirty_tuning_episodes_disjoint_sets(name):
    spec = load_benchmark(name)
    assert len(spec.training_seeds) >= 5 and len(spec.tuning_seeds) >= 30
    sets = [spec.training_seeds, spec.tuning_seeds, spec.validation_seeds, spec.evaluation_seeds]
    assert sum(len(s) for s in sets) == len(set().union(*sets))  # pairwise disjoint
    # the searched rules keep 20,000 candidates: the budget grew with the tuning seeds
    assert spec.tuning_candidate_episodes // len(spec.tuning_seeds) >= 20_000


def _tiny(**changes) -> dict:
    data = {
        "name": "t",
        "scenarios": ["default"],
        "baselines": ["seed_ss_actions"],
        "training_seeds": [0],
        "tuning_seeds": [100, 101],
        "validation_seeds": [200],
        "evaluation_seeds": [10000],
        "algos": [{"name": "ppo", "timesteps": 256, "n_envs": 2}],
        "clairvoyant": {"enabled": False},
    }
    return {**data, **changes}


def test_overlapping_seed_sets_are_refused_naming_both_and_the_overlap():
    assert benchmark_from_dict(_tiny()).validation_seeds == (200,)
    with pytest.raises(
        BenchmarkError,
        match=r"tuning_seeds and validation_seeds must be disjoint; both contain \[101\]",
    ):
        benchmark_from_dict(_tiny(validation_seeds=[101, 300]))
    with pytest.raises(BenchmarkError, match=r"training_seeds and tuning_seeds must be disjoint"):
        benchmark_from_dict(_tiny(training_seeds=[100]))
    with pytest.raises(BenchmarkError, match="learners need validation seeds"):
        benchmark_from_dict({k: v for k, v in _tiny().items() if k != "validation_seeds"})


# -------------------------------------------------------------------- decision time


class _Slow(RoleController):
    """The seed's rules, 4 ms slower per (batched) decision."""

    def decide(self, view):
        time.sleep(0.004)
        return super().decide(view)


def test_decision_time_is_per_chain_and_day_the_batch_shared():
    seeds = [10000, 10001, 10002, 10003]
    frame = evaluate("default", _Slow(), seeds)
    # 4 ms per call shared by 4 copies: at least 1 ms per chain-day
    assert 1.0 <= frame.attrs[DECIDE_MS] < 1.0 + 25.0
    fast = evaluate("default", RoleController(), seeds).attrs[DECIDE_MS]
    assert 0 < fast < frame.attrs[DECIDE_MS]


def test_headline_shows_worst_episode_and_decision_time_where_measured():
    rows = [("rule", "baseline", None, e, c) for e, c in enumerate([10.0, 50.0, 20.0])]
    rows += [
        ("ppo", "learner", t, e, c + t) for t in (0, 1) for e, c in enumerate([9.0, 70.0, 9.0])
    ]
    frame = _frame(rows)
    timing = pd.DataFrame(
        {"scenario": "s", "policy": ["rule", "ppo", "ppo"], "training_seed": [None, 0, 1],
         DECIDE_MS: [0.5, 2.0, 4.0]}
    )  # fmt: skip
    tuning = pd.DataFrame({"scenario": "s", "policy": "rule", "seed": [100], "total_cost": [1.0]})
    summary = stats.summarize(frame, metrics=["total_cost"], n_resamples=200)
    table = stats.headline(frame, summary, n_resamples=200, tuning=tuning, timing=timing)
    table = table.set_index("policy")
    assert (
        table.loc["ppo", "total_cost_worst"] == 71.0
        and table.loc["rule", "total_cost_worst"] == 50.0
    )
    assert table.loc["ppo", DECIDE_MS] == 3.0 and table.loc["rule", DECIDE_MS] == 0.5
    untimed = stats.headline(frame, summary, n_resamples=200, tuning=tuning)
    titles, cells, _ = tables.format_headline(untimed.reset_index(drop=True))
    assert len(titles) <= 9 and all(row[-1] is None for row in cells)  # shown as "–"
    wide = [c.title for c in tables.FULL_COLUMNS]  # every column, in headline_full.md
    assert set(titles) <= set(wide) and len(wide) > len(titles)


# ----------------------------------------------------------------------- aggregates


def _two_scenarios() -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = []
    for scenario, scale in (("a", 1.0), ("b", 10.0)):
        for e in range(4):
            rows += [
                (scenario, "rule", "baseline", None, e, scale * (100 + 10 * e)),
                (scenario, "half", "baseline", None, e, scale * (50 + 5 * e)),
            ]
            rows += [(scenario, "ppo", "learner", t, e, scale * (100 + 10 * e) * (0.8 + 0.1 * t))
                     for t in range(3)]  # fmt: skip
    frame = pd.DataFrame(rows, columns=["scenario", "policy", "kind", "training_seed", "seed",
                                        "total_cost"])  # fmt: skip
    frame["training_seed"] = frame["training_seed"].astype("Int64")
    headline = pd.DataFrame({"scenario": ["a", "b"], "policy": "rule", "best_baseline": "rule"})
    return frame, headline


def test_aggregate_by_hand():
    frame, headline = _two_scenarios()
    result = aggregate.aggregate(frame, headline, n_resamples=500, taus=[0.5, 0.85, 1.0, 1.05])
    rows = result.table.set_index("policy")
    # normalized cost: the reference 1 everywhere, "half" 0.5 everywhere, ppo's three seeds
    # 0.8, 0.9, 1.0 on each scenario (the scale of a scenario drops out)
    assert rows.loc["rule", "iqm"] == 1.0 and rows.loc["rule", "p_improvement"] == 0.5
    assert (
        rows.loc["half", "iqm"] == pytest.approx(0.5) and rows.loc["half", "p_improvement"] == 1.0
    )
    assert (rows.loc["half", "iqm_ci_low"], rows.loc["half", "iqm_ci_high"]) == pytest.approx(
        (0.5, 0.5)
    )
    assert rows.loc["ppo", "iqm"] == pytest.approx(0.9) and rows.loc[
        "ppo", "mean"
    ] == pytest.approx(0.9)
    assert rows.loc["ppo", "p_improvement"] == pytest.approx((1 + 1 + 0.5) / 3)  # seed 2 ties
    assert rows.loc["ppo", "iqm_ci_low"] < 0.9 < rows.loc["ppo", "iqm_ci_high"]
    assert rows.loc["ppo", "n_scenarios"] == 2 and rows.loc["ppo", "n_runs"] == 6
    profile = result.profile[result.profile["policy"] == "ppo"].set_index("tau")["fraction"]
    assert profile.tolist() == pytest.approx([0.0, 1 / 3, 1.0, 1.0])
    text = aggregate.aggregate_markdown(result.table)
    assert "| ppo | 2 | 0.900 [" in text and "IQM normalized cost" in text


def test_aggregate_files_and_figure(tmp_path):
    from hmarl_bench.harness.plots.aggregate import aggregate_figure
    from hmarl_bench.harness.plots.style import policy_order, policy_styles

    frame, headline = _two_scenarios()
    result = aggregate.aggregate(frame, headline, n_resamples=200)
    paths = aggregate.write_aggregate(tmp_path, result, "demo")
    assert {p.name for p in paths} == {"aggregate.csv", "aggregate.md", "performance_profile.csv"}
    assert pd.read_csv(tmp_path / "aggregate.csv")["policy"].tolist() == ["rule", "half", "ppo"]
    kinds = frame[["policy", "kind"]].drop_duplicates()
    fig = aggregate_figure(result.table, result.profile, policy_styles(kinds))
    left, right = fig.axes
    labels = [t.get_text() for t in left.get_yticklabels()]
    assert labels == policy_order(result.table) and labels[0] == "ppo"  # learners first
    assert len(right.get_lines()) == 3 + 1  # a profile per policy and the reference's tau = 1


def test_the_examples_in_docs_statistics_print_what_the_page_says():
    import contextlib
    import io
    import re

    page = (ROOT / "docs" / "statistics.md").read_text(encoding="utf-8")
    pairs = re.findall(r"```python\n(.*?)```\n\n```text\n(.*?)```", page, re.S)
    assert len(pairs) == 2
    for code, expected in pairs:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, "docs/statistics.md", "exec"), {})
        assert out.getvalue() == expected
