"""WarehouseVecEnv and SupplierVecEnv: an upper role learns, one VecEnv slot per copy.

The stores' :class:`~hmarl_bench.envs.vec.SharedPolicyVecEnv` has one slot per store of
every copy; the warehouse and the supplier are one agent per copy, so here a slot is a
copy (``num_envs = B``). The other roles act by their rules or by any policy passed in
(a trained store model through :class:`~hmarl_bench.evaluation.ModelStores`, a
:class:`~hmarl_bench.agents.base.BaseAgent` such as a
:class:`~hmarl_bench.agents.policy.PolicyAgent` for the other upper role), decided for all
copies at once by a :class:`~hmarl_bench.evaluation.RoleController` whose learner slot is
filled with the actions SB3 passes to ``step_async``: a step is the same handful of numpy
operations over all copies as an evaluation step, with no per-slot Python loop.

A slot's reward is the role's reconciliation reward (:func:`~hmarl_bench.reconciliation.reward`
of the warehouse's or the supplier's :class:`~hmarl_bench.reconciliation.RoleReport`) with
the scenario's weights for that role, or ``reward_weights`` given by the trainer.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Sequence

import numpy as np

from hmarl_bench.agents.base import BaseAgent, Role
from hmarl_bench.agents.roles import SupplierRole, WarehouseRole
from hmarl_bench.config import RewardWeights, Scenario, load_scenario
from hmarl_bench.envs.batched import BatchedVecEnv, n_copies
from hmarl_bench.evaluation import RoleController, StorePolicy
from hmarl_bench.reconciliation import (
    ReconciliationReport,
    RoleReport,
    reconcile,
    reward,
)
from hmarl_bench.twin import DigitalTwin, TwinState

__all__ = ["RolePolicy", "SupplierVecEnv", "UpperRoleVecEnv", "WarehouseVecEnv", "as_role_policy"]

#: A warehouse or supplier policy for all copies: (obs (B, d), masks (B, n), state) -> (B,).
RolePolicy = Callable[[np.ndarray, np.ndarray, TwinState], np.ndarray]


def as_role_policy(agent: BaseAgent | RolePolicy | None) -> RolePolicy | None:
    """A BaseAgent acts through its vectorized ``act_batch``; a callable is used as is."""
    if isinstance(agent, BaseAgent):
        return agent.act_batch
    return agent


class _Slot:
    """The learner's actions for the current step, in the controller's policy position."""

    def __init__(self) -> None:
        self.actions: np.ndarray | None = None

    def __call__(self, obs: np.ndarray, masks: np.ndarray, state: TwinState) -> np.ndarray:
        if self.actions is None:
            raise RuntimeError("step_async() must come before step_wait()")
        return self.actions


class UpperRoleVecEnv(BatchedVecEnv):
    """B copies of the chain; the learning role of each copy is one VecEnv slot.

    Subclasses name the role (:meth:`make_role`, :meth:`role_report`) and where its
    actions go in the controller (:meth:`controller`). Observations, ``Discrete`` actions
    and masks are the role's in :class:`~hmarl_bench.envs.parallel.HMARLEnvironment`.

    All copies reach the horizon together: the step that ends an episode returns
    ``dones`` all True with ``infos[i]["terminal_observation"]``,
    ``infos[i]["TimeLimit.truncated"] = True`` and ``episode_total_cost`` (the business
    KPI, warm-up excluded), and the next episode's observations (auto-reset).

    Seeding is :class:`~hmarl_bench.envs.vec.SharedPolicyVecEnv`'s: ``seed`` or
    ``vec_env.seed(k)`` fixes the stream of episodes; ``fixed_seeds`` replays the same
    per-copy seeds at every reset. ``action_masks()`` gives (B, n) for MaskablePPO.
    """

    def __init__(
        self,
        scenario: Scenario | str = "default",
        n_envs: int = 8,
        seed: int | None = None,
        stores: StorePolicy | None = None,
        warehouse: BaseAgent | RolePolicy | None = None,
        supplier: BaseAgent | RolePolicy | None = None,
        fixed_seeds: Sequence[int] | None = None,
        reward_weights: RewardWeights | None = None,
    ) -> None:
        n_envs = n_copies(n_envs, fixed_seeds)
        self.scenario = load_scenario(scenario)
        self.twin = DigitalTwin(self.scenario, batch_size=n_envs)
        self.role = self.make_role(self.scenario)
        self._slot = _Slot()
        self._controller = self.controller(
            self._slot, stores, as_role_policy(warehouse), as_role_policy(supplier)
        )
        self.reward_weights = reward_weights or self.default_weights(self.scenario)
        # Discrete(4) for one SKU; a warehouse of several SKUs acts per SKU (MultiDiscrete)
        super().__init__(n_envs, self.role.observation_space, self.role.action_space)
        self._action_shape = (n_envs, *self.action_space.shape)
        self._init_episodes(seed, fixed_seeds)

    # ------------------------------------------------------------ the role
    @staticmethod
    @abstractmethod
    def make_role(scenario: Scenario) -> Role:
        """The learning role's vectorized observations, masks and actions."""

    @staticmethod
    @abstractmethod
    def default_weights(scenario: Scenario) -> RewardWeights:
        """The scenario's reward weights of the learning role."""

    @staticmethod
    @abstractmethod
    def role_report(report: ReconciliationReport) -> RoleReport:
        """The learning role's part of the day's reconciliation report."""

    @staticmethod
    @abstractmethod
    def controller(
        slot: RolePolicy,
        stores: StorePolicy | None,
        warehouse: RolePolicy | None,
        supplier: RolePolicy | None,
    ) -> RoleController:
        """A controller with ``slot`` in the learning role's place, the others as given."""

    # ------------------------------------------------------------------ core
    def _observe(self) -> np.ndarray:
        return self.role.observe(self.twin.state)

    def _on_reset(self) -> None:
        self._controller.reset(self.twin)

    def step_async(self, actions: np.ndarray) -> None:
        shape, n_actions = self._action_shape, self.role.n_actions
        expected = f"{shape} actions (one per copy, per SKU)"
        self._slot.actions = self._checked_actions(actions, shape, n_actions, expected)

    def step_wait(self):
        if self._slot.actions is None:
            raise RuntimeError("step_async() must come before step_wait()")
        outcome = self.twin.step(*self._controller.decide(self.twin.state))
        self._slot.actions = None
        report = reconcile(outcome, self.scenario)
        rewards = reward(self.role_report(report), self.reward_weights).astype(np.float32)
        return self._end_day(outcome, report, rewards, 1)

    def action_masks(self) -> np.ndarray:
        """(num_envs, n_actions) bool: the role's feasible actions (see agents.roles)."""
        return self.role.action_masks(self._current_state("action_masks()"))


class WarehouseVecEnv(UpperRoleVecEnv):
    """The warehouse of each copy is a slot: observations (B, 6), ``Discrete(4)`` order sizes.

    Reward: the warehouse's reconciliation reward (its fill rate to the stores, holding,
    units short, excess and ordering terms). Mask: an order size is infeasible when it
    would lift the warehouse's inventory position (on hand + supplier pipeline) above its
    capacity; ordering nothing is always feasible. The twin cuts such orders for PPO.
    """

    @staticmethod
    def make_role(scenario: Scenario) -> Role:
        return WarehouseRole(scenario)

    @staticmethod
    def default_weights(scenario: Scenario) -> RewardWeights:
        return scenario.warehouse_reward

    @staticmethod
    def role_report(report: ReconciliationReport) -> RoleReport:
        return report.warehouse

    @staticmethod
    def controller(slot, stores, warehouse, supplier) -> RoleController:
        return RoleController(stores=stores, warehouse=slot, supplier=supplier)


class SupplierVecEnv(UpperRoleVecEnv):
    """The supplier of each copy is a slot: observations (B, 3), ``Discrete(3)`` fulfil
    100% / fulfil ``partial_fraction`` / delay.

    Reward: the supplier's reconciliation reward (with the scenario's weights, its on-time
    fill rate of the warehouse's orders). No action is masked: every choice is feasible.
    """

    @staticmethod
    def make_role(scenario: Scenario) -> Role:
        return SupplierRole(scenario)

    @staticmethod
    def default_weights(scenario: Scenario) -> RewardWeights:
        return scenario.supplier_reward

    @staticmethod
    def role_report(report: ReconciliationReport) -> RoleReport:
        return report.supplier

    @staticmethod
    def controller(slot, stores, warehouse, supplier) -> RoleController:
        return RoleController(stores=stores, warehouse=warehouse, supplier=slot)
