"""Action masks in the form Gymnasium defines, made from the roles' boolean masks.

Why: Gymnasium's ``Discrete.sample(mask=...)`` takes an ``np.int8`` array of ``n`` zeros
and ones, and ``MultiDiscrete.sample(mask=...)`` a tuple with one such array per
sub-action. PettingZoo's ``api_test`` and ``seed_test`` sample with the masks of the
infos, and TorchRL's ``PettingZooWrapper(use_mask=True)`` (BenchMARL too) reads one mask
row per sub-action, so the envs hand out masks in that form. The roles and the compiled
day compute masks as ``bool``; a bool array is viewed as int8 without a copy (the same
bytes: 0 and 1), so the conversion costs nothing on the hot path.

sb3-contrib's MaskablePPO wants one flat mask per decision (the sub-actions' masks
concatenated for ``MultiDiscrete``): :func:`flat_mask` gives it back, and the wrappers'
``action_masks()`` methods return that form.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

__all__ = ["GymMask", "action_sizes", "flat_mask", "gym_mask"]

#: One agent's mask as Gymnasium defines it: int8 (n,) for ``Discrete``, a tuple of int8
#: rows (one per sub-action) for ``MultiDiscrete``.
GymMask = np.ndarray | tuple[np.ndarray, ...]


def action_sizes(space: spaces.Space) -> int | tuple[int, ...]:
    """Discrete(n) -> n; MultiDiscrete -> its sub-actions' sizes as a tuple."""
    if isinstance(space, spaces.MultiDiscrete):
        return tuple(int(n) for n in space.nvec)
    return int(space.n)


def gym_mask(mask: np.ndarray, sizes: int | tuple[int, ...]) -> GymMask:
    """A flat bool (or int8) mask of one agent in Gymnasium's form: an int8 view, split
    into one row per sub-action when ``sizes`` is a tuple (a MultiDiscrete space)."""
    as_int8 = mask.view(np.int8) if mask.dtype == np.bool_ else mask.astype(np.int8)
    if not isinstance(sizes, tuple):
        return as_int8
    if len(set(sizes)) == 1:  # equal sub-actions (the warehouse's): rows of one reshape
        return tuple(as_int8.reshape(len(sizes), sizes[0]))
    return tuple(np.split(as_int8, np.cumsum(sizes)[:-1]))


def flat_mask(mask: GymMask) -> np.ndarray:
    """Any agent mask (int8 or bool; a tuple of rows or one array) as one flat bool array,
    the form sb3-contrib's MaskablePPO takes."""
    if isinstance(mask, tuple | list):
        mask = np.concatenate([np.asarray(row).reshape(-1) for row in mask])
    return np.asarray(mask).reshape(-1).astype(bool)
