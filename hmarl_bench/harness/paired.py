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
[currency per episode]. Its mean and 95% interval (the hierarchical bootstrap: training
seeds, then episodes, the same episode draw for both sides) are computed by
:func:`hmarl_bench.harness.stats.paired_difference`; this module holds what that result
is (:class:`PairedDifference`) and what it means (:func:`verdict`). The difference of a
policy with itself is zero on every episode, so its interval is exactly [0, 0].

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
