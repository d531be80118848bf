"""Hidden Markov processes of an episode: the market's demand regime and supplier outages.

Both are discrete-time Markov chains with geometric sojourns: state ``i`` lasts a geometric
number of days with mean ``d_i`` (it ends on any day with probability ``1 / d_i``), then
the chain jumps to one of the other states, uniformly. Day 0's state comes from the
stationary distribution (shares proportional to the mean durations, which is stationary
for uniform jumps), so every day of an episode has the same marginal law and no episode
starts in a special state. A path is drawn sojourn by sojourn: a few draws per episode,
not one per day.

Like demand and late shipments these are drawn at reset, per copy, from that copy's seed
(:meth:`hmarl_bench.twin.DigitalTwin.draw_exogenous`), so a policy never changes them and
every policy faces the same paths (common random numbers). Each process draws from its own
child of the copy's seed sequence (``seq.spawn(2)``: child 0 the regimes, child 1 the
supplier), never from the stream that draws demand and lateness: a scenario without them
makes exactly the draws it made before they existed, and a process's path depends only
on its own parameters and the seed (a regime scenario and its disrupted variant share the
regime path).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hmarl_bench.config import DemandRegimes, SupplierDisruption

__all__ = [
    "REGIME_STREAM",
    "SUPPLIER_STREAM",
    "demand_regime_path",
    "markov_path",
    "regime_mean",
    "supplier_up_path",
]

#: Index of each process's child in ``SeedSequence.spawn(2)`` of a copy's seed sequence.
REGIME_STREAM, SUPPLIER_STREAM = 0, 1


def markov_path(rng: np.random.Generator, mean_durations: Sequence[float], days: int) -> np.ndarray:
    """A path (days,) int64 of states ``0 .. n - 1`` with the module's Markov law.

    ``mean_durations[i] >= 1`` is state i's mean sojourn in days; n >= 2 states.
    """
    durations = np.asarray(mean_durations, dtype=np.float64)
    n_states = durations.size
    path = np.empty(days, dtype=np.int64)
    state = int(rng.choice(n_states, p=durations / durations.sum()))
    day = 0
    while day < days:
        stay = int(rng.geometric(1.0 / durations[state]))
        path[day : day + stay] = state
        day += stay
        if n_states == 2:
            state = 1 - state
        else:  # uniformly one of the other states
            other = int(rng.integers(n_states - 1))
            state = other + (other >= state)
    return path


def demand_regime_path(rng: np.random.Generator, regimes: DemandRegimes, days: int) -> np.ndarray:
    """The market's regime on each day (days,) int64: an index into ``regimes.multipliers``."""
    return markov_path(rng, regimes.mean_durations, days)


def regime_mean(mean: np.ndarray, regimes: DemandRegimes, path: np.ndarray) -> np.ndarray:
    """The demand mean (T, N) of a regime path: the nominal ``mean`` x the day's multiplier."""
    multipliers = np.asarray(regimes.multipliers, dtype=np.float64)
    return mean * multipliers[path][:, None]


def supplier_up_path(
    rng: np.random.Generator, disruption: SupplierDisruption, days: int
) -> np.ndarray:
    """Whether the supplier can ship on each day (days,) bool: up spells, then down spells."""
    durations = (disruption.mean_up_days, disruption.mean_down_days)
    return markov_path(rng, durations, days) == 0
