"""Statistics over evaluation episodes, per scenario and policy (docs/statistics.md).

The input is the tidy per-episode frame of a benchmark: one row per (scenario, policy,
training seed, evaluation seed) with the KPI columns. Every interval of the tables comes
from **one** resampling scheme, :func:`hierarchical_replicates`, a percentile bootstrap on
the (training seed x evaluation episode) grid of a policy:

- a replicate draws T training seeds with replacement, then E evaluation episodes with
  replacement, and takes the statistic over that T x E grid. Every training seed ran on
  the same evaluation episodes (common random numbers), so the episodes drawn are the same
  for every drawn seed (a crossed, two-way bootstrap): seed-to-seed variance (how much the
  result depends on the training run) and episode-to-episode variance (how much on the
  demand stream) both enter the interval;
- a rule (deterministic given the episode), the random baseline and the bound are one
  "seed" (T = 1): only episodes are resampled;
- a *paired* statistic (difference to the reference, probability of improvement, share of
  the gap closed) is taken on the per-episode pairs, so the same resampled episode indices
  serve both policies of the pair.

Generators are seeded from the benchmark's seed and the (scenario, policy, statistic)
names, so a table does not depend on which other policies ran or in which order.

- ``iqm``: the interquartile mean, ``scipy.stats.trim_mean(x, 0.25)``.
- ``best_baseline`` (the *reference*) and ``best_actions_baseline``: the best rule overall
  and the best rule acting through the store's four actions, chosen on the *tuning* seeds
  (:mod:`hmarl_bench.harness.paired`); ``diff_to_reference_*`` /
  ``diff_to_actions_reference_*``: each policy's paired difference of total cost to them
  (:func:`paired_difference`), ``verdict`` / ``verdict_actions`` (beats / ties / loses)
  and ``gap_closed``, the share of the reference's gap to the bound the policy closes.
- ``p_improvement``: P(X < Y) of the policy's total cost X against the reference's Y on
  the same episode (ties count one half); ``p_improvement_actions`` against the best rule
  on the store's four actions (not ``*_free``).
- ``normalized_score``: (random - cost) / (random - bound) on mean total costs;
  ``gap_to_bound_pct``: 100 x (cost - bound) / bound.
- ``total_cost_worst``: the costliest single episode (over all training seeds);
  ``decide_ms_per_chain_day``: the cells' measured decision time (when given).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from hmarl_bench.evaluation import KPI_COLUMNS
from hmarl_bench.harness import paired

__all__ = [
    "draw_indices",
    "headline",
    "hierarchical_ci",
    "hierarchical_replicates",
    "is_free_quantity",
    "iqm",
    "normalized_score",
    "paired_difference",
    "paired_improvement",
    "percentile_interval",
    "seed_episode_grid",
    "summarize",
]

GROUP = ["scenario", "policy"]
RANDOM, BOUND = "random", "clairvoyant"
Statistic = Callable[..., np.ndarray]


def iqm(values: np.ndarray | Sequence[float], axis: int = -1) -> np.ndarray | float:
    """Interquartile mean: the mean of the middle 50% of the values, cutting
    ``int(n / 4)`` values at each end (``scipy.stats.trim_mean(x, 0.25)``; a sort, which is
    faster than scipy's partitions on the bootstrap's many rows)."""
    x = np.sort(np.asarray(values, dtype=float), axis=axis)
    n = x.shape[axis]
    cut = int(0.25 * n)
    return np.take(x, np.arange(cut, n - cut), axis=axis).mean(axis=axis)


def _mean(values: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(values, axis=axis)


# ------------------------------------------------------------- the one bootstrap scheme


def draw_indices(
    n_seeds: int, n_episodes: int, n_resamples: int, rng: np.random.Generator | int
) -> tuple[np.ndarray, np.ndarray]:
    """The resampled (training seed, episode) indices of every replicate: ``(R, T)`` seed
    draws, then ``(R, E)`` episode draws, both with replacement, from one generator. The
    same episode draw serves every drawn seed (crossed design) and both sides of a pair."""
    generator = np.random.default_rng(rng)
    seeds = generator.integers(0, n_seeds, size=(n_resamples, n_seeds))
    episodes = generator.integers(0, n_episodes, size=(n_resamples, n_episodes))
    return seeds, episodes


def hierarchical_replicates(
    grid: np.ndarray,
    statistic: Statistic = _mean,
    n_resamples: int = 2000,
    rng: np.random.Generator | int = 0,
    draws: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """``statistic`` of ``grid`` (T training seeds x E episodes) on each of ``n_resamples``
    hierarchical bootstrap replicates (:func:`draw_indices`, or the given ``draws``).

    ``statistic(values, axis=-1)`` gets each replicate's T x E values flattened, shape
    ``(R, T * E)``. Returns the ``(R,)`` replicates.
    """
    grid = np.asarray(grid, dtype=float)
    if grid.ndim != 2 or grid.size == 0:
        raise ValueError(f"expected a non-empty (seeds, episodes) grid, got shape {grid.shape}")
    seeds, episodes = draws or draw_indices(*grid.shape, n_resamples, rng)
    values = grid[seeds[:, :, None], episodes[:, None, :]]  # (R, T, E)
    return statistic(values.reshape(len(values), -1), axis=-1)


def percentile_interval(replicates: np.ndarray, confidence_level: float = 0.95) -> tuple:
    """The percentile interval of bootstrap replicates: (low, high)."""
    alpha = 1.0 - confidence_level
    low, high = np.quantile(np.asarray(replicates, dtype=float), [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def hierarchical_ci(
    grid: np.ndarray,
    statistic: Statistic = _mean,
    n_resamples: int = 2000,
    confidence_level: float = 0.95,
    rng: np.random.Generator | int = 0,
) -> tuple[float, float]:
    """Percentile CI of ``statistic`` over a (training seed x episode) grid, resampling
    seeds then episodes (:func:`hierarchical_replicates`). A grid with fewer than two
    values cannot be resampled: then (nan, nan)."""
    grid = np.asarray(grid, dtype=float)
    if grid.size < 2:
        return (np.nan, np.nan)
    replicates = hierarchical_replicates(grid, statistic, n_resamples, rng)
    return percentile_interval(replicates, confidence_level)


def _rng(seed: int, *names: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32("|".join(names).encode())])


def seed_episode_grid(
    rows: pd.DataFrame, column: str = "total_cost", episodes: Sequence[int] | None = None
) -> np.ndarray:
    """``rows``' ``column`` as a (T, E) array: training seeds (sorted; a policy without
    training seeds is one row) x evaluation seeds (sorted, or ``episodes`` in order).

    A training seed lacking any of the episodes is left out, and so is (when ``episodes``
    is not given) an episode missing from some seed: the grid must be complete.
    """
    keys = rows["training_seed"].astype("Int64").fillna(-1).to_numpy()
    table = rows.assign(_t=keys).pivot_table(
        index="_t", columns="seed", values=column, aggfunc="mean", sort=True, dropna=False
    )
    if episodes is not None:
        table = table.reindex(columns=pd.Index(episodes))
        return table.dropna(axis=0, how="any").to_numpy(dtype=float)
    table = table.dropna(axis=0, how="all").dropna(axis=1, how="any")
    return table.to_numpy(dtype=float)


def summarize(
    episodes: pd.DataFrame,
    metrics: Sequence[str] = KPI_COLUMNS,
    n_resamples: int = 2000,
    confidence_level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Long table: one row per (scenario, policy, metric) with n, mean, std, hierarchical
    bootstrap CIs of the mean and the IQM, and the worst (largest) episode."""
    out = []
    for (scenario, policy), rows in episodes.groupby(GROUP, sort=False):
        for metric in metrics:
            if metric not in rows or rows[metric].notna().sum() == 0:
                continue
            values = rows[metric].dropna().to_numpy(dtype=float)
            grid = seed_episode_grid(rows, metric)
            ci = (n_resamples, confidence_level)
            low, high = hierarchical_ci(grid, _mean, *ci, _rng(seed, scenario, policy, metric))
            iqm_low, iqm_high = hierarchical_ci(
                grid, iqm, *ci, _rng(seed, scenario, policy, metric, "iqm")
            )
            learner = rows["training_seed"].notna()
            out.append(
                {
                    "scenario": scenario,
                    "policy": policy,
                    "kind": rows["kind"].iloc[0],
                    "metric": metric,
                    "n_training_seeds": rows.loc[learner, "training_seed"].nunique(),
                    "n": len(values),
                    "mean": float(values.mean()),
                    "std": float(values.std(ddof=1)) if len(values) > 1 else np.nan,
                    "ci_low": low,
                    "ci_high": high,
                    "iqm": float(iqm(values)),
                    "iqm_ci_low": iqm_low,
                    "iqm_ci_high": iqm_high,
                    "max": float(values.max()),
                }
            )
    return pd.DataFrame(out)


def paired_difference(
    mine: pd.DataFrame,
    reference: pd.Series,
    bound: pd.Series | None = None,
    n_resamples: int = 2000,
    confidence_level: float = 0.95,
    rng: np.random.Generator | int = 0,
) -> paired.PairedDifference:
    """The paired difference of ``mine`` (rows with ``training_seed``, ``seed``,
    ``total_cost``) to ``reference`` (total cost by evaluation seed):
    ``d[t, e] = cost(t, e) - reference(e)``, its mean and hierarchical bootstrap CI.

    ``bound`` (total cost by seed) adds the share of the reference's gap to the bound
    closed, from the same replicates (the bound paired by episode). Episodes the
    reference (or the bound) lacks are left out.
    """
    seeds = reference.dropna().index
    if bound is not None:
        seeds = seeds.intersection(bound.dropna().index, sort=False)
    seeds = pd.Index(sorted(set(seeds) & set(mine["seed"])))
    none = paired.PairedDifference(np.nan, np.nan, np.nan, 0, 0)
    if not len(seeds) or mine.empty:
        return none
    costs = seed_episode_grid(mine, "total_cost", seeds)
    if costs.size == 0:
        return none
    diff = costs - reference.reindex(seeds).to_numpy(dtype=float)[None, :]  # (T, E)
    draws = draw_indices(*diff.shape, n_resamples, rng)
    replicates = hierarchical_replicates(diff, draws=draws)
    low, high = percentile_interval(replicates, confidence_level)
    result = {
        "mean": float(diff.mean()),
        "ci_low": low,
        "ci_high": high,
        "n_training_seeds": diff.shape[0],
        "n_episodes": diff.shape[1],
    }
    if bound is not None:
        gap = reference.reindex(seeds).to_numpy(float) - bound.reindex(seeds).to_numpy(float)
        if gap.mean() > 0:
            shares = (0.0 - replicates) / gap[draws[1]].mean(axis=1)  # 0.0 - x: no -0.0
            share_low, share_high = percentile_interval(shares, confidence_level)
            result.update(
                gap_closed=float((0.0 - diff.mean()) / gap.mean()),
                gap_closed_ci_low=share_low,
                gap_closed_ci_high=share_high,
            )
    return paired.PairedDifference(**result)


def paired_improvement(costs: pd.DataFrame, reference: pd.Series) -> pd.DataFrame:
    """Per episode of ``costs`` (columns ``seed``, ``training_seed``, ``total_cost``):
    1 if its cost is below the ``reference`` cost (a Series by seed) on the same seed,
    1/2 on a tie, else 0. Episodes whose seed the reference lacks are left out."""
    paired = costs[["training_seed", "seed", "total_cost"]].copy()
    paired["reference"] = paired["seed"].map(reference)
    paired = paired.dropna(subset=["total_cost", "reference"])
    x, y = paired["total_cost"].to_numpy(), paired["reference"].to_numpy()
    paired["improvement"] = (x < y) + 0.5 * (x == y)
    return paired


def normalized_score(cost: float, random_cost: float, bound_cost: float) -> float:
    """(random - cost) / (random - bound): 0 at the random baseline, 1 at the bound."""
    span = random_cost - bound_cost
    if not np.isfinite(span) or span == 0:
        return np.nan
    return (random_cost - cost) / span


def is_free_quantity(policy: str) -> bool:
    """Whether a baseline orders free quantities (``*_free``) rather than acting through the
    store's four actions, the interface a learned store policy has."""
    return policy.endswith("_free")


def _p_improvement(
    mine: pd.DataFrame,
    episodes: pd.DataFrame,
    reference: str | None,
    n_resamples: int,
    confidence_level: float,
    rng: np.random.Generator,
) -> tuple[float, float, float]:
    """P(cost below ``reference``'s on the same episode) with its hierarchical CI."""
    if reference is None:
        return np.nan, np.nan, np.nan
    ref = episodes[episodes["policy"] == reference].set_index("seed")["total_cost"]
    pairs = paired_improvement(mine, ref)
    if not len(pairs):
        return np.nan, np.nan, np.nan
    grid = seed_episode_grid(pairs, "improvement")
    low, high = hierarchical_ci(grid, _mean, n_resamples, confidence_level, rng)
    return float(pairs["improvement"].mean()), low, high


def _reference_of(
    group: pd.DataFrame, tuning: pd.DataFrame | None, scenario: str
) -> paired.References:
    """The scenario's references, chosen on the tuning seeds among its rule baselines."""
    candidates = list(group.loc[group["kind"] == paired.BASELINE_KIND, "policy"])
    if not candidates:
        return paired.References(None, None, pd.Series(dtype=float))
    if tuning is None:
        raise paired.ReferenceChoiceError(
            f"scenario '{scenario}': the reference is chosen on the tuning seeds, but no "
            "tuning-seed scores were given"
        )
    return paired.choose_references(candidates, tuning[tuning["scenario"] == scenario], scenario)


def _paired_columns(
    row: pd.Series,
    mine: pd.DataFrame,
    in_scenario: pd.DataFrame,
    refs: paired.References,
    options: tuple[int, float, int],
) -> None:
    """Fill ``row``'s paired-difference columns against both references (in place)."""
    n_resamples, confidence_level, seed = options
    scenario, policy = row["scenario"], row["policy"]
    by_seed = in_scenario.groupby("policy")
    bound = (
        by_seed.get_group(BOUND).set_index("seed")["total_cost"]
        if BOUND in by_seed.groups
        else None
    )
    for suffix, reference in (("", refs.best), ("_actions", refs.best_actions)):
        prefix = f"diff_to{suffix}_reference"
        tuning_cost = refs.tuning_costs.get(reference, np.nan) if reference else np.nan
        row[f"best{suffix}_baseline_tuning_cost"] = tuning_cost
        if reference is None:
            diff = paired.PairedDifference(np.nan, np.nan, np.nan, 0, 0)
        else:
            ref = by_seed.get_group(reference).set_index("seed")["total_cost"]
            diff = paired_difference(
                mine,
                ref,
                bound if suffix == "" else None,
                n_resamples,
                confidence_level,
                _rng(seed, scenario, policy, f"paired{suffix}"),
            )
        ref_mean = float(by_seed.get_group(reference)["total_cost"].mean()) if reference else np.nan
        row[f"{prefix}_mean"] = diff.mean
        row[f"{prefix}_ci_low"] = diff.ci_low
        row[f"{prefix}_ci_high"] = diff.ci_high
        row[f"{prefix}_pct"] = 100.0 * diff.mean / ref_mean if reference else np.nan
        row[f"verdict{suffix}"] = paired.verdict(diff, policy == reference)
        if suffix == "":
            row["gap_closed"] = diff.gap_closed
            row["gap_closed_ci_low"] = diff.gap_closed_ci_low
            row["gap_closed_ci_high"] = diff.gap_closed_ci_high


def _decide_ms(timing: pd.DataFrame | None) -> pd.Series:
    """Mean decision time per chain-day [ms] by (scenario, policy), over training seeds."""
    name = "decide_ms_per_chain_day"
    if timing is None or name not in timing or timing.empty:
        return pd.Series(dtype=float, index=pd.MultiIndex.from_tuples([], names=GROUP))
    values = pd.to_numeric(timing[name], errors="coerce")
    return values.groupby([timing["scenario"], timing["policy"]]).mean()


def headline(
    episodes: pd.DataFrame,
    summary: pd.DataFrame,
    n_resamples: int = 2000,
    confidence_level: float = 0.95,
    seed: int = 0,
    tuning: pd.DataFrame | None = None,
    timing: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per (scenario, policy): the KPIs' means and CIs, IQM and worst episode of
    total cost, the decision time (``timing``: the cells' ``decide_ms_per_chain_day`` by
    scenario, policy and training seed, averaged over training seeds; NaN where a cell
    did not measure it), the gap
    to the bound, the normalized score, and the comparison with the references (the best
    rule and the best rule on the store actions, both chosen on the tuning seeds:
    ``tuning`` has one row per (scenario, baseline, tuning seed) with ``total_cost``): the
    paired difference of total cost with its two-level bootstrap CI, the verdict, the share
    of the reference's gap to the bound closed and the probability of improvement."""
    wide = summary.pivot_table(
        index=GROUP, columns="metric", values=["mean", "ci_low", "ci_high"], sort=False
    )
    wide.columns = [f"{metric}_{stat}" for stat, metric in wide.columns]
    cost = summary[summary["metric"] == "total_cost"].set_index(GROUP)
    table = cost[["kind", "n_training_seeds", "n"]].rename(columns={"n": "n_episodes"})
    worst = cost[["std", "iqm", "max"]].rename(columns={"max": "worst"})
    table = table.join(worst.add_prefix("total_cost_")).join(wide)
    table["decide_ms_per_chain_day"] = _decide_ms(timing).reindex(table.index).to_numpy()
    table = table.reset_index()
    rows = []
    for scenario, group in table.groupby("scenario", sort=False):
        means = group.set_index("policy")["total_cost_mean"]
        bound = means.get(BOUND, np.nan)
        random_cost = means.get(RANDOM, np.nan)
        refs = _reference_of(group, tuning, scenario)
        in_scenario = episodes[episodes["scenario"] == scenario]
        for _, row in group.iterrows():
            row = row.copy()
            row["gap_to_bound_pct"] = 100.0 * (row["total_cost_mean"] - bound) / bound
            row["normalized_score"] = normalized_score(row["total_cost_mean"], random_cost, bound)
            mine = in_scenario[in_scenario["policy"] == row["policy"]]
            for suffix, reference in (("", refs.best), ("_actions", refs.best_actions)):
                row[f"best{suffix}_baseline"] = reference
                p, low, high = _p_improvement(
                    mine,
                    in_scenario,
                    reference,
                    n_resamples,
                    confidence_level,
                    _rng(seed, scenario, row["policy"], f"p_improvement{suffix}"),
                )
                row[f"p_improvement{suffix}"] = p
                row[f"p_improvement{suffix}_ci_low"] = low
                row[f"p_improvement{suffix}_ci_high"] = high
            _paired_columns(row, mine, in_scenario, refs, (n_resamples, confidence_level, seed))
            rows.append(row)
    return pd.DataFrame(rows).reset_index(drop=True)
