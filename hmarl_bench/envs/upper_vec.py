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
from gymnasium import spaces

from hmarl_bench.agents.base import BaseAgent, Role
from hmarl_bench.agents.continuous import ContinuousModelStores, HeadController, continuous_role
from hmarl_bench.agents.interfaces import ChainState, check_interface, make_roles
from hmarl_bench.config import RewardWeights, Scenario, load_scenario
from hmarl_bench.envs.batched import BatchedVecEnv, n_copies
from hmarl_bench.evaluation import RoleController, StorePolicy
from hmarl_bench.reconciliation import (
    ReconciliationReport,
    RoleReport,
    check_team_weight,
    mix_team,
    reconcile,
    reward,
    system_cost,
)
from hmarl_bench.twin import ChainView, DigitalTwin

__all__ = ["RolePolicy", "SupplierVecEnv", "UpperRoleVecEnv", "WarehouseVecEnv", "as_role_policy"]

#: A warehouse or supplier policy for all copies: (obs (B, d), masks (B, n), view) -> (B,).
RolePolicy = Callable[[np.ndarray, np.ndarray, ChainView], np.ndarray]


def as_role_policy(agent: BaseAgent | RolePolicy | None) -> RolePolicy | None:
    """A BaseAgent acts through its vectorized ``act_batch``; a callable is used as is."""
    if isinstance(agent, BaseAgent):
        return agent.act_batch
    return agent


def _heads(
    learner: str | None, stores: StorePolicy | None, warehouse: object, supplier: object
) -> tuple[str, ...]:
    """The roles whose policies set continuous order-up-to levels: the learner's (``None``
    for a grid), the stores given as :class:`ContinuousModelStores`, an upper role given as
    an agent with a ``Box`` action."""
    heads = [learner] if learner else []
    if isinstance(stores, ContinuousModelStores):
        heads.append("stores")
    for name, agent in (("warehouse", warehouse), ("supplier", supplier)):
        if isinstance(agent, BaseAgent) and isinstance(agent.role.action_space, spaces.Box):
            heads.append(name)
    return tuple(heads)


class _Slot:
    """The learner's actions for the current step, in the controller's policy position."""

    def __init__(self) -> None:
        self.actions: np.ndarray | None = None

    def __call__(self, obs: np.ndarray, masks: np.ndarray, view: ChainView) -> np.ndarray:
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

    ``interface`` (``"seed"``, ``"planner"`` or ``"view"``, with ``horizon_mask``), ``team_weight``
    and ``central_critic`` are :class:`~hmarl_bench.envs.vec.SharedPolicyVecEnv`'s
    options: the learning role's track (and that of the other roles given a policy; roles
    on rules keep the seed's rules), the team reward mix, and ``[local | global]``
    observations for a centralized critic. ``continuous=True`` gives the learning role the
    continuous head of a planner or view track (:mod:`hmarl_bench.agents.continuous`): the
    warehouse's ``Box(-1, 1, (K,))`` order-up-to levels, for SAC, TD3, TQC or DDPG (the
    supplier has none: ValueError). Stores given as
    :class:`~hmarl_bench.agents.continuous.ContinuousModelStores` and a continuous
    :class:`~hmarl_bench.agents.policy.PolicyAgent` act through their heads too.
    """

    #: The learning role's name (``"warehouse"`` or ``"supplier"``).
    role_name: str

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
        interface: str = "seed",
        horizon_mask: bool = True,
        team_weight: float = 0.0,
        central_critic: bool = False,
        continuous: bool = False,
    ) -> None:
        n_envs = n_copies(n_envs, fixed_seeds)
        self.scenario = load_scenario(scenario)
        self.twin = DigitalTwin(self.scenario, batch_size=n_envs)
        self.interface = check_interface(interface)
        self.team_weight = check_team_weight(team_weight)
        self.role = self.make_role(self.scenario, interface, horizon_mask)
        if continuous:
            self.role = continuous_role(self.role)
        self._slot = _Slot()
        self._controller = self.controller(
            self._slot, stores, as_role_policy(warehouse), as_role_policy(supplier)
        )
        # the roles with a policy (the learner's slot among them) act on the env's track
        self._controller.interface, self._controller.horizon_mask = interface, horizon_mask
        heads = _heads(self.role_name if continuous else None, stores, warehouse, supplier)
        if heads:  # the roles that set continuous order-up-to levels (agents.continuous)
            if not isinstance(self._controller, HeadController):
                raise TypeError(f"{type(self).__name__}.controller must give a HeadController")
            self._controller.heads = heads
        self.reward_weights = reward_weights or self.default_weights(self.scenario)
        self.chain_state = ChainState(self.scenario) if central_critic else None
        obs_space = self.role.observation_space
        if self.chain_state is not None:
            dim = obs_space.shape[0] + self.chain_state.dim
            obs_space = spaces.Box(0.0, 1.0, shape=(dim,), dtype=np.float32)
        # Discrete(n) for one SKU; a warehouse of several SKUs acts per SKU (MultiDiscrete);
        # Box(-1, 1, (K,)) with the continuous head
        super().__init__(n_envs, obs_space, self.role.action_space)
        self._action_shape = (n_envs, *self.action_space.shape)
        self._init_episodes(seed, fixed_seeds)

    # ------------------------------------------------------------ the role
    @staticmethod
    @abstractmethod
    def make_role(scenario: Scenario, interface: str = "seed", horizon_mask: bool = True) -> Role:
        """The learning role's vectorized observations, masks and actions on a track."""

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
        local = self.role.observe(self.twin.state)
        if self.chain_state is None:
            return local
        return np.concatenate([local, self.chain_state.observe(self.twin.state)], axis=1)

    def _on_reset(self) -> None:
        self._controller.reset(self.scenario, self.num_envs)

    def step_async(self, actions: np.ndarray) -> None:
        shape, n_actions = self._action_shape, self.role.n_actions
        expected = f"{shape} actions (one per copy, per SKU)"
        if isinstance(self.action_space, spaces.Box):  # the continuous head: levels
            self._slot.actions = self._checked_box_actions(actions, shape, expected)
            return
        self._slot.actions = self._checked_actions(actions, shape, n_actions, expected)

    def step_wait(self):
        if self._slot.actions is None:
            raise RuntimeError("step_async() must come before step_wait()")
        outcome = self.twin.step(*self._controller.decide(self.twin.view()))
        self._slot.actions = None
        report = reconcile(outcome, self.scenario)
        own = reward(self.role_report(report), self.reward_weights)
        if self.team_weight:
            cost = system_cost(report, self.scenario)["total_cost"]
            own = mix_team(own, cost, self.team_weight)
        return self._end_day(outcome, report, own.astype(np.float32), 1)

    def action_masks(self) -> np.ndarray:
        """(num_envs, n_actions) bool: the role's feasible actions (see agents.roles)."""
        return self.role.action_masks(self._current_state("action_masks()"))


class WarehouseVecEnv(UpperRoleVecEnv):
    """The warehouse of each copy is a slot: observations (B, 6), ``Discrete(4)`` order sizes
    (seed track); on the planner track (B, 32) and ``Discrete(14)`` echelon order-up-to
    levels (:mod:`hmarl_bench.agents.planner`).

    Reward: the warehouse's reconciliation reward (its fill rate to the stores, holding,
    units short, excess and ordering terms). Mask: an order size is infeasible when it
    would lift the warehouse's inventory position (on hand + supplier pipeline) above its
    capacity; ordering nothing is always feasible. The twin cuts such orders for PPO.
    """

    role_name = "warehouse"

    @staticmethod
    def make_role(scenario: Scenario, interface: str = "seed", horizon_mask: bool = True) -> Role:
        return make_roles(scenario, interface, horizon_mask)[1]

    @staticmethod
    def default_weights(scenario: Scenario) -> RewardWeights:
        return scenario.warehouse_reward

    @staticmethod
    def role_report(report: ReconciliationReport) -> RoleReport:
        return report.warehouse

    @staticmethod
    def controller(slot, stores, warehouse, supplier) -> RoleController:
        return HeadController(stores=stores, warehouse=slot, supplier=supplier)


class SupplierVecEnv(UpperRoleVecEnv):
    """The supplier of each copy is a slot: observations (B, 3), ``Discrete(3)`` fulfil
    100% / fulfil ``partial_fraction`` / delay (planner track: plus day and days left).

    Reward: the supplier's reconciliation reward (with the scenario's weights, its on-time
    fill rate of the warehouse's orders). No action is masked: every choice is feasible.
    """

    role_name = "supplier"

    @staticmethod
    def make_role(scenario: Scenario, interface: str = "seed", horizon_mask: bool = True) -> Role:
        return make_roles(scenario, interface, horizon_mask)[2]

    @staticmethod
    def default_weights(scenario: Scenario) -> RewardWeights:
        return scenario.supplier_reward

    @staticmethod
    def role_report(report: ReconciliationReport) -> RoleReport:
        return report.supplier

    @staticmethod
    def controller(slot, stores, warehouse, supplier) -> RoleController:
        return HeadController(stores=stores, warehouse=warehouse, supplier=slot)
