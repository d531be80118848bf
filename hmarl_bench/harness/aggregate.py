"""Aggregates over a benchmark's scenarios: one number per policy, as rliable reports them.

**Normalized cost.** A run's cost on a scenario divided by the mean cost of that scenario's
*reference* (the best rule, chosen on the tuning seeds) on the same evaluation episodes:
``score = mean_e cost(run, e) / mean_e cost(reference, e)``. 1 = the reference, 0.9 = 10%
cheaper than it, lower is better. A ratio to the reference rather than
``(cost - bound) / (reference - bound)`` because it exists on every scenario (the bound
may be off, or only the MILP's dual bound), its denominator is never near zero (where the
reference sits close to the bound that gap would blow small differences up), and it reads
directly as a share of the best rule's cost.

A *run* is a training seed of a learner (its mean over the evaluation episodes); a rule,
the random baseline and the bound are one run per scenario (deterministic given the
episode).

- ``iqm`` / ``mean``: the interquartile mean and the mean of the normalized costs of all
  runs on all scenarios, with **stratified** bootstrap CIs: strata = scenarios, and within
  a scenario the hierarchical draw of :mod:`hmarl_bench.harness.stats` (training seeds,
  then episodes, the reference re-averaged on the same episodes).
- ``p_improvement``: rliable's probability of improvement over the reference,
  ``P(X < Y) = 1/M sum_m 1/(N K) sum_i sum_j S(x_mi, y_mj)`` over the M scenarios, the
  policy's N runs and the reference's K (= 1) runs, ``S = 1`` when the run's mean cost is
  below the reference's, 1/2 on a tie, else 0; CI from the same stratified replicates.
- the performance profile: for each threshold tau, the fraction of runs with normalized
  cost <= tau (each scenario weighs the same: the fraction within a scenario, averaged over
  scenarios), with pointwise CIs from the same replicates.

A policy is aggregated over the scenarios where it and a reference ran; ``n_scenarios``
says how many, and policies are comparable only over the same scenarios.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hmarl_bench.harness.cells import write_atomic
from hmarl_bench.harness.stats import (
    _rng,
    draw_indices,
    iqm,
    percentile_interval,
    seed_episode_grid,
)
from hmarl_bench.harness.tables import to_markdown

__all__ = ["Aggregate", "aggregate", "aggregate_markdown", "tau_grid", "write_aggregate"]


@dataclass(frozen=True)
class Aggregate:
    """``table``: one row per policy; ``profile``: one row per (policy, tau)."""

    table: pd.DataFrame
    profile: pd.DataFrame


def tau_grid(scores: np.ndarray, n: int = 81) -> np.ndarray:
    """Thresholds from below the best to above the worst normalized cost (0.05 steps of
    margin), always spanning at least [0.8, 1.2] around the reference."""
    scores = np.asarray(scores, dtype=float)
    scores = scores[np.isfinite(scores)]
    low = min(np.floor(20 * scores.min()) / 20, 0.8) if len(scores) else 0.8
    high = max(np.ceil(20 * scores.max()) / 20, 1.2) if len(scores) else 1.2
    return np.linspace(low, high, n)


@dataclass(frozen=True)
class _Scenario:
    """One scenario of one policy: run scores and their bootstrap replicates."""

    scores: np.ndarray  # (T,) normalized cost of each run
    wins: np.ndarray  # (T,) S(run, reference)
    replicate_scores: np.ndarray  # (R, T)
    replicate_wins: np.ndarray  # (R,) mean S over the drawn runs


def _wins(costs: np.ndarray, reference: np.ndarray) -> np.ndarray:
    return (costs < reference) + 0.5 * (costs == reference)


def _scenario(grid: np.ndarray, ref: np.ndarray, n_resamples: int, rng) -> _Scenario:
    seeds, episodes = draw_indices(*grid.shape, n_resamples, rng)
    runs = grid[seeds[:, :, None], episodes[:, None, :]].mean(axis=2)  # (R, T)
    reference = ref[episodes].mean(axis=1)[:, None]  # (R, 1): the same episodes
    return _Scenario(
        scores=grid.mean(axis=1) / ref.mean(),
        wins=_wins(grid.mean(axis=1), ref.mean()),
        replicate_scores=runs / reference,
        replicate_wins=_wins(runs, reference).mean(axis=1),
    )


def _profile(scores: list[np.ndarray], taus: np.ndarray) -> np.ndarray:
    """Fraction of runs <= tau, averaged over scenarios: (..., n_tau)."""
    return np.mean([(s[..., None] <= taus).mean(axis=-2) for s in scores], axis=0)


def aggregate(
    per_seed: pd.DataFrame,
    headline: pd.DataFrame,
    n_resamples: int = 2000,
    confidence_level: float = 0.95,
    seed: int = 0,
    taus: np.ndarray | None = None,
) -> Aggregate:
    """The aggregate table and performance profile (module docstring) of every policy.

    ``per_seed``: the benchmark's per-episode frame; ``headline``: :func:`stats.headline`'s
    (for each scenario's reference, ``best_baseline``).
    """
    references = headline.groupby("scenario", sort=False)["best_baseline"].first().dropna()
    parts: dict[str, dict[str, _Scenario]] = {}
    kinds: dict[str, str] = {}
    for scenario, reference in references.items():
        rows = per_seed[per_seed["scenario"] == scenario]
        ref_rows = rows[rows["policy"] == reference].set_index("seed")["total_cost"].dropna()
        episodes = sorted(ref_rows.index)
        ref = ref_rows.reindex(episodes).to_numpy(dtype=float)
        if not len(ref) or ref.mean() <= 0:
            continue
        for policy, mine in rows.groupby("policy", sort=False):
            grid = seed_episode_grid(mine, "total_cost", episodes)
            if grid.size == 0:
                continue
            rng = _rng(seed, "aggregate", str(scenario), str(policy))
            parts.setdefault(str(policy), {})[str(scenario)] = _scenario(
                grid, ref, n_resamples, rng
            )
            kinds[str(policy)] = str(mine["kind"].iloc[0])
    if not parts:
        return Aggregate(pd.DataFrame(), pd.DataFrame())
    every = np.concatenate([s.scores for p in parts.values() for s in p.values()])
    taus = tau_grid(every) if taus is None else np.asarray(taus, dtype=float)
    rows, profile = [], []
    for policy, scenarios in parts.items():
        pieces = list(scenarios.values())
        scores = np.concatenate([s.scores for s in pieces])
        replicates = np.concatenate([s.replicate_scores for s in pieces], axis=1)  # (R, runs)
        wins = np.mean([s.wins.mean() for s in pieces])
        replicate_wins = np.mean([s.replicate_wins for s in pieces], axis=0)
        row = {"policy": policy, "kind": kinds[policy], "n_scenarios": len(pieces)}
        row["n_runs"] = len(scores)
        for name, stat, reps in (
            ("iqm", iqm(scores), iqm(replicates, axis=1)),
            ("mean", scores.mean(), replicates.mean(axis=1)),
            ("p_improvement", wins, replicate_wins),
        ):
            low, high = percentile_interval(reps, confidence_level)
            row.update({name: float(stat), f"{name}_ci_low": low, f"{name}_ci_high": high})
        row["worst"] = float(scores.max())
        rows.append(row)
        point = _profile([s.scores for s in pieces], taus)
        bands = _profile([s.replicate_scores for s in pieces], taus)  # (R, n_tau)
        alpha = 1.0 - confidence_level
        low, high = np.quantile(bands, [alpha / 2, 1 - alpha / 2], axis=0)
        profile += [
            {"policy": policy, "tau": float(t), "fraction": float(f), "ci_low": float(lo),
             "ci_high": float(hi)}
            for t, f, lo, hi in zip(taus, point, low, high, strict=True)
        ]  # fmt: skip
    return Aggregate(pd.DataFrame(rows), pd.DataFrame(profile))


def _ci(row: pd.Series, name: str, fmt: str) -> str:
    low, high = row[f"{name}_ci_low"], row[f"{name}_ci_high"]
    return f"{fmt.format(row[name])} [{fmt.format(low)}, {fmt.format(high)}]"


def aggregate_markdown(table: pd.DataFrame, title: str = "") -> str:
    """The aggregate table as Markdown, with a note on what each column is."""
    titles = [
        "Policy",
        "Scenarios",
        "IQM normalized cost [95% CI]",
        "Mean normalized cost [95% CI]",
        "Worst run",
        "P(better than the reference) [95% CI]",
    ]
    cells = [
        [
            r["policy"],
            str(int(r["n_scenarios"])),
            _ci(r, "iqm", "{:.3f}"),
            _ci(r, "mean", "{:.3f}"),
            f"{r['worst']:.3f}",
            _ci(r, "p_improvement", "{:.2f}"),
        ]
        for _, r in table.iterrows()
    ]
    note = (
        "\nNormalized cost = a run's mean total cost on a scenario / the mean total cost of "
        "that scenario's reference (the best rule, chosen on the tuning seeds) on the same "
        "episodes: 1 = the reference, lower is better. A run is a training seed of a learner; "
        "a rule is one run per scenario. IQM and mean over all runs on all scenarios; worst "
        "run = the largest normalized cost. 95% CIs: stratified bootstrap (strata = "
        "scenarios; within one, training seeds then episodes). P = rliable's probability of "
        "improvement over the reference, averaged over scenarios (ties 1/2). Compare "
        "policies over the same number of scenarios. See docs/statistics.md.\n"
    )
    heading = f"# {title}\n\n" if title else ""
    return heading + to_markdown(titles, cells, n_labels=1) + note


def write_aggregate(out_dir: Path, result: Aggregate, title: str = "") -> list[Path]:
    """``aggregate.csv``, ``aggregate.md`` and ``performance_profile.csv`` in ``out_dir``."""
    if result.table.empty:
        return []
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {
        "aggregate.csv": result.table.to_csv(index=False),
        "aggregate.md": aggregate_markdown(result.table, title),
        "performance_profile.csv": result.profile.to_csv(index=False),
    }
    paths = []
    for name, text in files.items():
        write_atomic(out_dir / name, text.encode("utf-8"))
        paths.append(out_dir / name)
    return paths
