"""The VecEnv machinery shared by the envs that run the batched twin in one process.

:class:`~hmarl_bench.envs.vec.SharedPolicyVecEnv` (one slot per store-SKU pair) and
:class:`~hmarl_bench.envs.upper_vec.UpperRoleVecEnv` (one slot per warehouse or supplier)
are a single object behind all their slots, not a list of envs:

- episodes: B copies of the twin in lockstep; ``seed`` (or ``vec_env.seed(k)``, as SB3
  models do) fixes the stream of episodes, ``fixed_seeds`` replays the same per-copy seeds
  at every reset; the step that ends an episode returns ``dones`` all True, the terminal
  observation, ``TimeLimit.truncated`` and the copy's ``episode_total_cost`` (the business
  KPI, warm-up excluded), then auto-resets. Other steps share one read-only empty info (a
  ``MappingProxyType``: building a dict per slot every step would cost more than the
  twin's step; copy it with ``dict(info)`` to write into it, as SB3's wrappers do).
- actions: :meth:`BatchedVecEnv._checked_actions` refuses a wrong count, values outside
  the action space and fractional values, with a ValueError that says which (continuous
  ``Box(-1, 1)`` actions, :meth:`BatchedVecEnv._checked_box_actions`: a wrong count, values
  outside [-1, 1] and NaN); stepping or asking for masks before the first ``reset()`` is a
  RuntimeError that says so.
- the VecEnv API: ``get_attr``/``set_attr`` read and write the one object, and
  ``env_method`` calls a method once and splits an array result over the slots (so
  ``env_method("action_masks")`` gives one mask per slot, as MaskablePPO expects).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
from stable_baselines3.common.vec_env import VecEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices

from hmarl_bench.config import Scenario
from hmarl_bench.reconciliation import ReconciliationReport, system_cost
from hmarl_bench.seeding import check_seed
from hmarl_bench.twin import DayOutcome, DigitalTwin, TwinState

__all__ = ["BatchedVecEnv", "n_copies"]

_NO_INFO: MappingProxyType = MappingProxyType({})  # read-only, shared by non-terminal slots


def n_copies(n_envs: int, fixed_seeds: Sequence[int] | None) -> int:
    """The number of copies: one per fixed seed when there are any, else ``n_envs`` (>= 1)."""
    if fixed_seeds is not None:
        n_envs = len(fixed_seeds)
    if n_envs < 1:
        raise ValueError(f"n_envs must be >= 1, got {n_envs}")
    return n_envs


class BatchedVecEnv(VecEnv):
    """SB3's VecEnv API for one object that steps every slot at once (see the module).

    Subclasses set ``scenario`` and ``twin``, call :meth:`_init_episodes`, and implement
    :meth:`_observe`; :meth:`_on_reset` is their hook after every reset of the twin.
    """

    scenario: Scenario
    twin: DigitalTwin
    render_mode: str | None = None  # set before VecEnv.__init__ looks for it

    def _init_episodes(self, seed: int | None, fixed_seeds: Sequence[int] | None) -> None:
        self.fixed_seeds = None if fixed_seeds is None else [int(s) for s in fixed_seeds]
        self._episode_rng = np.random.default_rng(None if seed is None else check_seed(seed))
        self._episode_cost = np.zeros(self.twin.batch_size)

    @abstractmethod
    def _observe(self) -> np.ndarray:
        """Observations (num_envs, obs_dim) of the current state."""

    def _on_reset(self) -> None:
        """Called after every reset of the twin (policies of the other roles reset here)."""

    def _reset_twin(self) -> np.ndarray:
        if self.fixed_seeds is not None:
            self.twin.reset(self.fixed_seeds)
        else:
            self.twin.reset(int(self._episode_rng.integers(2**63)))
        self._on_reset()
        self._episode_cost[:] = 0.0
        return self._observe()

    def reset(self) -> np.ndarray:
        if self._seeds[0] is not None:
            self._episode_rng = np.random.default_rng(check_seed(self._seeds[0]))
        self._reset_seeds()
        self._reset_options()
        return self._reset_twin()

    def _current_state(self, call: str) -> TwinState:
        """The twin's state, or a clear error for ``call`` (e.g. ``"action_masks()"``) made
        before the first ``reset()``."""
        state = self.twin.state
        if state is None:
            raise RuntimeError(f"call reset() before {call}: no episode has started")
        return state

    def _checked_actions(
        self, actions: np.ndarray, shape: tuple[int, ...], n_actions: int, expected: str
    ) -> np.ndarray:
        """``actions`` as int64 of ``shape``, each in ``[0, n_actions)``; ``expected`` says
        what was expected, in the error for a wrong count."""
        self._current_state("step()")
        raw = np.asarray(actions)
        if raw.size != int(np.prod(shape)):
            raise ValueError(f"expected {expected}, got shape {raw.shape}")
        as_int = raw.astype(np.int64, copy=False).reshape(shape)
        if raw.dtype.kind not in "iu" and np.any(as_int.ravel() != raw.ravel()):
            raise ValueError(f"actions must be whole numbers, got {raw!r}")
        if as_int.min() < 0 or as_int.max() >= n_actions:
            raise ValueError(f"actions must be in [0, {n_actions}), got {raw!r}")
        return as_int

    def _checked_box_actions(
        self, actions: np.ndarray, shape: tuple[int, ...], expected: str
    ) -> np.ndarray:
        """Continuous ``actions`` as float64 of ``shape``, each in [-1, 1] (the ``Box`` of
        the continuous head, :mod:`hmarl_bench.agents.continuous`)."""
        self._current_state("step()")
        raw = np.asarray(actions)
        if raw.size != int(np.prod(shape)):
            raise ValueError(f"expected {expected}, got shape {raw.shape}")
        values = raw.astype(np.float64, copy=False).reshape(shape)
        if not np.all((values >= -1.0) & (values <= 1.0)):  # NaN fails too
            raise ValueError(f"actions must be numbers in [-1, 1], got {raw!r}")
        return values

    def _end_day(
        self,
        outcome: DayOutcome,
        report: ReconciliationReport,
        rewards: np.ndarray,
        slots_per_copy: int,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
        """The day's VecEnv return: count the day's cost, and at the horizon end every
        copy's episode (terminal infos, auto-reset)."""
        if outcome.day >= self.scenario.warmup_days:
            self._episode_cost += system_cost(report, self.scenario)["total_cost"]
        if not self.twin.done:
            dones = np.zeros(self.num_envs, dtype=bool)
            return self._observe(), rewards, dones, [_NO_INFO] * self.num_envs
        terminal = self._observe()
        cost = np.repeat(self._episode_cost, slots_per_copy)
        infos = [
            {
                "terminal_observation": terminal[i],
                "TimeLimit.truncated": True,
                "episode_total_cost": float(cost[i]),
            }
            for i in range(self.num_envs)
        ]
        obs = self._reset_twin()
        return obs, rewards, np.ones(self.num_envs, dtype=bool), infos

    def close(self) -> None:
        pass

    # ------------------------------------------------------------- VecEnv API
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
