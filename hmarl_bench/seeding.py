"""Seeds: whole numbers >= 0, checked where they enter, with an error that names them.

numpy refuses a negative seed deep inside ``SeedSequence`` with "expected non-negative
integer", which says neither which value nor where; every env and the twin call
:func:`check_seed` first.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["check_seed"]


def check_seed(seed: Any, what: str = "seed") -> int:
    """``seed`` as an int, or a ValueError naming it unless it is a whole number >= 0."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"{what} must be a whole number >= 0, got {seed!r}")
    return int(seed)
