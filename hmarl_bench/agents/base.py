"""The agent interface shared by rule-based and learning agents.

A *role* (stores, warehouse, supplier) does the vectorized work over every copy and every
store at once: observation building, action-to-order translation, action masks and the rule
policy. An *agent* is one decision maker (``store_2``, ``warehouse_1``) seen through the
:class:`BaseAgent` interface; it delegates to its role and picks out its own slice.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np
from gymnasium import spaces

from hmarl_bench.config import RewardWeights
from hmarl_bench.reconciliation import RoleReport, reward
from hmarl_bench.twin.view import DayState

__all__ = ["BaseAgent", "Role"]


class Role(ABC):
    """Vectorized observation, masks, orders and rule policy of one role, over all copies.

    Arrays have a leading batch axis B and, for stores, a store axis S.
    """

    obs_dim: int
    n_actions: int
    #: Names of the observation's entries, in order.
    obs_names: tuple[str, ...]
    #: Names of the actions, in order.
    action_names: tuple[str, ...]

    @abstractmethod
    def observe(self, state: DayState) -> np.ndarray:
        """Normalized float32 observations in [0, 1]: (B, S, obs_dim) or (B, obs_dim)."""

    @abstractmethod
    def action_masks(self, state: DayState) -> np.ndarray:
        """bool (..., n_actions): True where the action is feasible (never all False)."""

    @abstractmethod
    def rule_actions(self, state: DayState) -> np.ndarray:
        """The role's rule-based policy: int64 actions, (B, S) or (B,)."""

    @property
    def observation_space(self) -> spaces.Box:
        return spaces.Box(0.0, 1.0, shape=(self.obs_dim,), dtype=np.float32)

    @property
    def action_space(self) -> spaces.Discrete | spaces.MultiDiscrete:
        return spaces.Discrete(self.n_actions)


class BaseAgent(ABC):
    """One agent: observe -> act -> receive_feedback, with rule or learned behaviour.

    ``receive_feedback`` turns the agent's reconciliation report into its reward using its
    reward weights, the only way an agent's reward is made.
    """

    def __init__(self, agent_id: str, role: Role, weights: RewardWeights, index: tuple[int, ...]):
        self.agent_id = agent_id
        self.role = role
        self.weights = weights
        self.index = index  # where this agent sits in its role's arrays, after the batch axis
        self.episode_return = 0.0

    @property
    def observation_space(self) -> spaces.Box:
        return self.role.observation_space

    @property
    def action_space(self) -> spaces.Discrete:
        return self.role.action_space

    def get_observation_space(self) -> spaces.Box:
        return self.observation_space

    def get_action_space(self) -> spaces.Discrete:
        return self.action_space

    def observe(self, state: DayState, copy: int = 0) -> np.ndarray:
        """This agent's observation in copy ``copy`` (float32, within its bounds)."""
        return self.role.observe(state)[(copy, *self.index)]

    def action_mask(self, state: DayState, copy: int = 0) -> np.ndarray:
        return self.role.action_masks(state)[(copy, *self.index)]

    def rule_action(self, state: DayState, copy: int = 0) -> int | np.ndarray:
        """The rule's action: an int, or K ints for a warehouse of several SKUs."""
        action = np.asarray(self.role.rule_actions(state)[(copy, *self.index)], dtype=np.int64)
        return int(action) if action.ndim == 0 else action

    @abstractmethod
    def act(
        self,
        observation: np.ndarray,
        action_mask: np.ndarray | None = None,
        state: DayState | None = None,
    ) -> int:
        """Choose an action for ``observation``. Rule agents read ``state`` when given."""

    def act_batch(
        self, observations: np.ndarray, action_masks: np.ndarray, state: DayState
    ) -> np.ndarray:
        """Actions (B,) for this agent in every copy of a batch (obs (B, d), masks (B, n)).

        The default asks :meth:`act` once per copy; vectorized agents override it.
        """
        return np.array(
            [self.act(observations[b], action_masks[b]) for b in range(len(observations))],
            dtype=np.int64,
        )

    def receive_feedback(self, report: RoleReport | dict[str, Any], copy: int = 0) -> float:
        """The reward of one day's report: a role's RoleReport (this agent's entry in copy
        ``copy`` is used) or this agent's dict of terms."""
        terms = report.at(copy, *self.index) if isinstance(report, RoleReport) else report
        value = float(reward(_Terms(terms), self.weights))
        self.episode_return += value
        return value

    def reset(self) -> None:
        self.episode_return = 0.0


class _Terms:
    """Attribute access to a dict of report terms, so :func:`reward` reads either form."""

    def __init__(self, terms: dict[str, Any]) -> None:
        self.__dict__.update(terms)
