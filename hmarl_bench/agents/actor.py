"""What a trained model's actor reads: decentralized execution of centralized-critic models.

Apart from :mod:`hmarl_bench.agents.policy` (which loads models through the training layer)
so that evaluation can feed actors without reaching the training code.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["actor_observation", "local_dim"]


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
