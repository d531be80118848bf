"""DayMemory: the last k days of what a controller observed, kept by the role that observes.

A rule controller keeps memory across days (past demand, its own past orders); a learner
on the ``view`` track (:mod:`hmarl_bench.agents.view_track`) gets the same memory as part
of its observation. Nothing here reads the twin: the values pushed are computed from the
day's :class:`~hmarl_bench.twin.view.ChainView` fields (or the same fields of the state,
inside the training envs), so memory holds the past only.

The roles' ``observe`` may be called more than once on the same day (observation, then
masks, or two wrappers) and copies run in lockstep (one ``day`` for the whole batch), so
the memory moves by *day*, not by call:

- the first call of a new day (``day == last day + 1``) pushes yesterday's values;
- a repeated call on the same day changes nothing;
- day 0, any other jump, or another batch size starts a new episode: the windows are
  cleared (zeros: nothing observed yet).

Windows are (B, X, days), most recent first: index 0 is yesterday.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DayMemory"]


class DayMemory:
    """Per-copy windows of the last ``days`` days of named values (module docstring)."""

    def __init__(self, days: int) -> None:
        if isinstance(days, bool) or not isinstance(days, int) or days < 1:
            raise ValueError(f"memory days must be an integer >= 1, got {days!r}")
        self.days = days
        self.day: int | None = None
        self.batch: int | None = None
        #: Values of the last day seen (e.g. the forecast, to recover yesterday's demand).
        self.previous: dict[str, np.ndarray] = {}
        self.windows: dict[str, np.ndarray] = {}

    def advance(self, day: int, batch: int) -> bool:
        """Move to ``day``; True when it is a new day of the same episode (push then),
        False on a repeated call or a new episode (then the windows are cleared)."""
        if day == self.day and batch == self.batch:
            return False
        same_episode = self.day is not None and day == self.day + 1 and batch == self.batch
        if not same_episode:
            self.previous.clear()
            self.windows.clear()
        self.day, self.batch = day, batch
        return same_episode

    def push(self, name: str, values: np.ndarray) -> None:
        """Put yesterday's ``values`` (B, X) at the front of ``name``'s window."""
        window = self.windows.get(name)
        if window is None:
            window = np.zeros((*values.shape, self.days))
            self.windows[name] = window
        window[..., 1:] = window[..., :-1]
        window[..., 0] = values

    def window(self, name: str, shape: tuple[int, int]) -> np.ndarray:
        """``name``'s window (B, X, days); zeros before anything was pushed."""
        window = self.windows.get(name)
        return np.zeros((*shape, self.days)) if window is None else window
