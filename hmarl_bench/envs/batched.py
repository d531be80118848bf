"""The VecEnv plumbing shared by the envs that run the batched twin in one process.

:class:`~hmarl_bench.envs.vec.SharedPolicyVecEnv` (one slot per store-SKU pair) and
:class:`~hmarl_bench.envs.upper_vec.UpperRoleVecEnv` (one slot per warehouse or supplier)
are a single object behind all their slots, not a list of envs: attributes and methods
belong to that one object, so ``get_attr``/``set_attr`` read and write it once, and
``env_method`` calls a method once and splits an array result over the slots (so
``env_method("action_masks")`` gives one mask per slot, as MaskablePPO expects).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from stable_baselines3.common.vec_env import VecEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices

__all__ = ["BatchedVecEnv"]


class BatchedVecEnv(VecEnv):
    """SB3's VecEnv API for one object that steps every slot at once (see the module)."""

    def close(self) -> None:
        pass

    def _indices(self, indices: VecEnvIndices) -> list[int]:
        return list(self._get_indices(indices))

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        value = getattr(self, attr_name)
        return [value for _ in self._indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        setattr(self, attr_name, value)

    def env_method(
        self, method_name: str, *method_args, indices: VecEnvIndices = None, **method_kwargs
    ) -> list[Any]:
        result = getattr(self, method_name)(*method_args, **method_kwargs)
        idx = self._indices(indices)
        if isinstance(result, np.ndarray) and result.shape[:1] == (self.num_envs,):
            return [result[i] for i in idx]
        return [result for _ in idx]

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in self._indices(indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [None for _ in range(self.num_envs)]
