"""Statistics over evaluation episodes, per scenario and policy.

The input is the tidy per-episode frame of a benchmark: one row per (scenario, policy,
training seed, evaluation seed) with the KPI columns. Learners pool their training seeds x
evaluation episodes; their uncertainty is a *stratified* bootstrap (rliable's scheme):
evaluation episodes are resampled within each training seed, and the statistic is taken on
the pooled resample. Baselines and the bound are one stratum. The bootstrap is
:func:`scipy.stats.bootstrap` (percentile intervals; each stratum is one of its samples,
which it resamples independently) with a generator seeded from the benchmark's seed and
the (scenario, policy, metric) names, so a table does not depend on which other policies
ran or in which order.

- ``iqm``: the interquartile mean, ``scipy.stats.trim_mean(x, 0.25)``.
- ``best_baseline`` (the *reference*) and ``best_actions_baseline``: the best rule overall
  and the best rule acting through the store's four actions, chosen on the *tuning* seeds
  (:mod:`hmarl_bench.harness.paired`); ``diff_to_reference_*`` /
  ``diff_to_actions_reference_*``: each policy's paired difference of total cost to them
  with a two-level bootstrap CI (training seeds and episodes), ``verdict`` /
  ``verdict_actions`` (beats / ties / loses) and ``gap_closed``, the share of the
  reference's gap to the bound the policy closes.
- ``p_improvement``: P(X < Y) of the policy's total cost X against the reference's Y
  (ties count one half, as rliable's probability of improvement), on *paired* episodes:
  every policy ran on the same evaluation seeds, so episode e of X meets episode e of Y.
  ``p_improvement_actions`` is the same against the best baseline that acts through the
  store's four actions (not ``*_free``): the like-for-like comparison for a store learner.
- ``normalized_score``: (random - cost) / (random - bound) on mean total costs:
  0 = the random baseline, 1 = the clairvoyant bound.
- ``gap_to_bound_pct``: 100 x (cost - bound) / bound on mean total costs.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from hmarl_bench.evaluation import KPI_COLUMNS
from hmarl_bench.harness import paired

__all__ = [
    "bootstrap_ci",
    "headline",
    "is_free_quantity",
    "iqm",
    "normalized_score",
    "paired_improvement",
    "summarize",
]

GROUP = ["scenario", "policy"]
RANDOM, BOUND = "random", "clairvoyant"


def iqm(values: np.ndarray | Sequence[float], axis: int = -1) -> np.ndarray | float:
    """Interquartile mean: the mean of the middle 50% of the values."""
    return sps.trim_mean(np.asarray(values, dtype=float), 0.25, axis=axis)


def _pooled(stat: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    """A statistic of the strata pooled together (for scipy's multi-sample bootstrap)."""

    def statistic(*strata: np.ndarray, axis: int = -1) -> np.ndarray:
        return stat(np.concatenate(strata, axis=axis), axis=axis)

    return statistic


def _mean(values: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(values, axis=axis)


def bootstrap_ci(
    strata: Sequence[np.ndarray],
    statistic: Callable[..., np.ndarray] = _mean,
    n_resamples: int = 2000,
    confidence_level: float = 0.95,
    rng: np.random.Generator | int = 0,
) -> tuple[float, float]:
    """Percentile CI of ``statistic`` on the pooled strata, resampling within each stratum.

    One stratum is the ordinary bootstrap. A stratum with fewer than two values cannot be
    resampled: then the interval is (nan, nan).
    """
    strata = [np.asarray(s, dtype=float) for s in strata]
    if not strata or any(len(s) < 2 for s in strata):
        return (np.nan, np.nan)
    result = sps.bootstrap(
        tuple(strata),
        _pooled(statistic),
        n_resamples=n_resamples,
        confidence_level=confidence_level,
        method="percentile",
        vectorized=True,
        rng=np.random.default_rng(rng),
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def _rng(seed: int, *names: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32("|".join(names).encode())])


def _strata(rows: pd.DataFrame, column: str) -> list[np.ndarray]:
    groups = rows.groupby("training_seed", dropna=False, sort=True)[column]
    return [g.dropna().to_numpy(dtype=float) for _, g in groups if g.notna().any()]


def summarize(
    episodes: pd.DataFrame,
    metrics: Sequence[str] = KPI_COLUMNS,
    n_resamples: int = 2000,
    confidence_level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Long table: one row per (scenario, policy, metric) with n, mean, std, CIs and IQM."""
    out = []
    for (scenario, policy), rows in episodes.groupby(GROUP, sort=False):
        for metric in metrics:
            if metric not in rows or rows[metric].notna().sum() == 0:
                continue
            strata = _strata(rows, metric)
            values = np.concatenate(strata)
            ci = (n_resamples, confidence_level)
            low, high = bootstrap_ci(strata, _mean, *ci, _rng(seed, scenario, policy, metric))
            iqm_low, iqm_high = bootstrap_ci(
                strata, iqm, *ci, _rng(seed, scenario, policy, metric, "iqm")
            )
            out.append(
                {
                    "scenario": scenario,
                    "policy": policy,
                    "kind": rows["kind"].iloc[0],
                    "metric": metric,
                    "n_training_seeds": len(strata) if rows["training_seed"].notna().any() else 0,
                    "n": len(values),
                    "mean": float(values.mean()),
                    "std": float(values.std(ddof=1)) if len(values) > 1 else np.nan,
                    "ci_low": low,
                    "ci_high": high,
                    "iqm": float(iqm(values)),
                    "iqm_ci_low": iqm_low,
                    "iqm_ci_high": iqm_high,
                }
            )
    return pd.DataFrame(out)


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
    """P(cost below ``reference``'s on the same episode) with its stratified-bootstrap CI."""
    if reference is None:
        return np.nan, np.nan, np.nan
    ref = episodes[episodes["policy"] == reference].set_index("seed")["total_cost"]
    paired = paired_improvement(mine, ref)
    if not len(paired):
        return np.nan, np.nan, np.nan
    strata = _strata(paired, "improvement")
    low, high = bootstrap_ci(strata, _mean, n_resamples, confidence_level, rng)
    return float(paired["improvement"].mean()), low, high


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
            diff = paired.paired_difference(
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


def headline(
    episodes: pd.DataFrame,
    summary: pd.DataFrame,
    n_resamples: int = 2000,
    confidence_level: float = 0.95,
    seed: int = 0,
    tuning: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per (scenario, policy): the KPIs' means and CIs, IQM of total cost, the gap
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
    table = table.join(cost[["std", "iqm"]].add_prefix("total_cost_")).join(wide)
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
