"""What a trained model's actor reads: decentralized execution of centralized-critic models.

Apart from :mod:`hmarl_bench.agents.policy` (which loads models through the training layer)
so that evaluation can feed actors without reaching the training code.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["ModelActor", "actor_observation", "is_recurrent", "local_dim"]


def local_dim(model: Any) -> int | None:
    """The local (actor) observation size of a centralized-critic model, else None."""
    return getattr(getattr(model, "policy", None), "local_dim", None)


def actor_observation(model: Any, obs: np.ndarray) -> np.ndarray:
    """What ``model.predict`` takes for local observations ``obs`` (..., d).

    A centralized-critic model (:mod:`hmarl_bench.learn.critic`) is trained on
    ``[local | global state]``, but its actor reads the local part alone: at execution the
    global part is filled with zeros, which changes no action (tested). Other models get
    ``obs`` unchanged.
    """
    local = local_dim(model)
    if local is None:
        return obs
    width = int(model.observation_space.shape[0])
    padded = np.zeros((*obs.shape[:-1], width), dtype=np.float32)
    padded[..., :local] = obs[..., :local]
    return padded


def is_recurrent(model: Any) -> bool:
    """Whether ``model`` keeps a recurrent (LSTM) state between calls (sb3-contrib's
    RecurrentPPO): its ``predict`` takes ``state`` and ``episode_start``."""
    return "Recurrent" in type(model).__name__


class ModelActor:
    """``model.predict`` over a batch of rows, day after day, with the model's memory.

    A memoryless model (PPO, MaskablePPO, A2C, TRPO) is called as is. A recurrent model
    carries its LSTM state from one day to the next: the state starts afresh on day 0 (and
    whenever the number of rows changes), and a second call on the same day reuses the
    state the day started with, so the model sees each day once whatever calls it.
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        self.recurrent = is_recurrent(model)
        self._day: int | None = None
        self._rows: int | None = None
        self._start_state: Any = None  # the LSTM state at the start of ``_day``
        self._state: Any = None  # after ``_day``'s call

    def predict(self, obs: np.ndarray, day: int, **kwargs: Any) -> np.ndarray:
        """Actions for the rows ``obs`` (rows, d) on ``day``."""
        obs = actor_observation(self.model, obs)
        if not self.recurrent:
            actions, _ = self.model.predict(obs, **kwargs)
            return np.asarray(actions)
        rows = len(obs)
        if day != self._day or rows != self._rows:
            new_episode = day == 0 or rows != self._rows or self._day is None or day < self._day
            self._start_state = None if new_episode else self._state
            self._day, self._rows = day, rows
        starts = np.full(rows, self._start_state is None)
        actions, self._state = self.model.predict(
            obs, state=self._start_state, episode_start=starts, **kwargs
        )
        return np.asarray(actions)
