"""Paired comparisons with the reference: the best rule, chosen on the tuning seeds.

**The reference.** Per scenario, the baseline with the lowest mean total cost on the
benchmark's *tuning* seeds (every baseline cell also runs its tuned controller there:
``info["tuning_rows"]``). Choosing it on the evaluation seeds would pick the rule that was
luckiest on the very episodes it is then compared on. Only rule baselines (kind
``baseline``) can be the reference: never a learner, the clairvoyant bound or a policy of
another kind (an ``external`` one). ``best on store actions`` is chosen the same way among
the baselines that act through the store's four actions (not ``*_free``).

**Paired differences.** Every policy runs on the same evaluation episodes (common random
numbers), so a policy is compared with the reference episode by episode:
``d[t, e] = cost(policy, training seed t, episode e) - cost(reference, episode e)``
[currency per episode]. Its mean is the reported difference; its 95% interval is a
percentile bootstrap that resamples *training seeds and episodes* (two levels). Episodes
are crossed with training seeds (every seed runs on the same episodes), so one replicate
draws T seeds and E episodes with replacement and averages ``d`` over that T x E grid:
the pairing with the reference and the correlation between seeds on an episode are kept.
A baseline is one "seed" (T = 1), so only its episodes are resampled. The difference of
a policy with itself is zero on every episode, so its interval is exactly [0, 0].

**Share of the gap closed.** ``(reference - policy) / (reference - bound)`` on mean costs:
1 = the policy reaches the clairvoyant bound, 0 = no better than the reference, negative
= worse; its interval comes from the same replicates (the bound paired by episode).

**Verdicts.** ``beats`` when the whole interval of the difference is below 0, ``loses``
when it is above, ``ties`` when it contains 0 (the data cannot tell them apart), and
``reference`` for the reference itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "BASELINE_KIND",
    "PairedDifference",
    "ReferenceChoiceError",
    "References",
    "choose_references",
    "paired_difference",
    "verdict",
]

BASELINE_KIND = "baseline"


class ReferenceChoiceError(ValueError):
    """The reference cannot be chosen on the tuning seeds (scores missing or unequal)."""


@dataclass(frozen=True)
class References:
    """A scenario's reference (best rule on the tuning seeds) and best rule on the store's
    actions, with every candidate's mean total cost on the tuning seeds."""

    best: str | None
    best_actions: str | None
    tuning_costs: pd.Series  # policy -> mean total cost on the tuning seeds, candidate order


def _is_free_quantity(policy: str) -> bool:
    return policy.endswith("_free")


def choose_references(
    candidates: Sequence[str], tuning: pd.DataFrame, scenario: str = ""
) -> References:
    """Choose among ``candidates`` (baseline names, in benchmark order) by mean total cost
    on the tuning seeds; ``tuning`` has columns ``policy``, ``seed``, ``total_cost``.

    Ties go to the earlier candidate. Raises :class:`ReferenceChoiceError` when a candidate has
    no tuning-seed scores or the candidates were scored on different seeds: falling back to
    the evaluation seeds would be the very choice this avoids.
    """
    candidates = list(dict.fromkeys(candidates))
    if not candidates:
        return References(None, None, pd.Series(dtype=float))
    where = f" on scenario '{scenario}'" if scenario else ""
    have = set(tuning["policy"]) if len(tuning) else set()
    missing = [name for name in candidates if name not in have]
    if missing:
        raise ReferenceChoiceError(
            f"no total cost on the tuning seeds for baseline(s) {', '.join(missing)}{where}: "
            "the reference is chosen on the tuning seeds, so these cells must be recomputed"
        )
    rows = tuning[tuning["policy"].isin(candidates)]
    seeds = rows.groupby("policy")["seed"].agg(lambda s: tuple(sorted(s)))
    if seeds.nunique() != 1:
        raise ReferenceChoiceError(f"baselines{where} were scored on different tuning seeds")
    costs = rows.groupby("policy", sort=False)["total_cost"].mean().reindex(candidates)
    actions = costs[[not _is_free_quantity(name) for name in costs.index]]
    return References(_first_min(costs), _first_min(actions), costs)


def _first_min(costs: pd.Series) -> str | None:
    if costs.empty:
        return None
    values = costs.to_numpy(dtype=float)
    return str(costs.index[int(np.argmin(values))])


@dataclass(frozen=True)
class PairedDifference:
    """A policy's paired difference to the reference [currency per episode] with its
    bootstrap interval, and the share of the reference's gap to the bound it closes."""

    mean: float
    ci_low: float
    ci_high: float
    n_training_seeds: int
    n_episodes: int
    gap_closed: float = np.nan
    gap_closed_ci_low: float = np.nan
    gap_closed_ci_high: float = np.nan


_NONE = PairedDifference(np.nan, np.nan, np.nan, 0, 0)


def _grid(mine: pd.DataFrame, seeds: pd.Index) -> np.ndarray:
    """(T, E) total costs by training seed x evaluation seed; seeds missing an episode of
    ``seeds`` are left out (a pair needs both sides)."""
    keys = mine["training_seed"].astype("Int64").fillna(-1)
    table = mine.assign(_t=keys.to_numpy()).pivot_table(
        index="_t", columns="seed", values="total_cost", aggfunc="mean", sort=True
    )
    table = table.reindex(columns=seeds)
    return table.dropna(axis=0, how="any").to_numpy(dtype=float)


def paired_difference(
    mine: pd.DataFrame,
    reference: pd.Series,
    bound: pd.Series | None = None,
    n_resamples: int = 2000,
    confidence_level: float = 0.95,
    rng: np.random.Generator | int = 0,
) -> PairedDifference:
    """The paired difference of ``mine`` (rows with ``training_seed``, ``seed``,
    ``total_cost``) to ``reference`` (total cost by evaluation seed), two-level bootstrap.

    ``bound`` (total cost by seed) adds the share of the reference's gap to the bound
    closed. Episodes the reference (or the bound) lacks are left out.
    """
    seeds = reference.dropna().index
    if bound is not None:
        seeds = seeds.intersection(bound.dropna().index, sort=False)
    seeds = pd.Index(sorted(set(seeds) & set(mine["seed"])))
    if not len(seeds) or mine.empty:
        return _NONE
    costs = _grid(mine, seeds)
    if costs.size == 0:
        return _NONE
    diff = costs - reference.reindex(seeds).to_numpy(dtype=float)[None, :]  # (T, E)
    n_seeds, n_episodes = diff.shape
    generator = np.random.default_rng(rng)
    seed_draws = generator.integers(0, n_seeds, size=(n_resamples, n_seeds))
    episode_draws = generator.integers(0, n_episodes, size=(n_resamples, n_episodes))
    replicates = diff[seed_draws[:, :, None], episode_draws[:, None, :]].mean(axis=(1, 2))
    alpha = 1.0 - confidence_level
    low, high = np.quantile(replicates, [alpha / 2, 1 - alpha / 2])
    result = {
        "mean": float(diff.mean()),
        "ci_low": float(low),
        "ci_high": float(high),
        "n_training_seeds": n_seeds,
        "n_episodes": n_episodes,
    }
    if bound is not None:
        gap = reference.reindex(seeds).to_numpy(float) - bound.reindex(seeds).to_numpy(float)
        if gap.mean() > 0:
            shares = (0.0 - replicates) / gap[episode_draws].mean(axis=1)  # 0.0 - x: no -0.0
            share_low, share_high = np.quantile(shares, [alpha / 2, 1 - alpha / 2])
            result.update(
                gap_closed=float((0.0 - diff.mean()) / gap.mean()),
                gap_closed_ci_low=float(share_low),
                gap_closed_ci_high=float(share_high),
            )
    return PairedDifference(**result)


def verdict(difference: PairedDifference, is_reference: bool = False) -> str | None:
    """``beats`` / ``ties`` / ``loses`` the reference by the paired interval (see the
    module docstring); ``reference`` for the reference itself; None without a pair."""
    if is_reference:
        return "reference"
    low, high = difference.ci_low, difference.ci_high
    if not (np.isfinite(low) and np.isfinite(high)):
        return None
    if high < 0:
        return "beats"
    if low > 0:
        return "loses"
    return "ties"
