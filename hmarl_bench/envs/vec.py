"""SharedPolicyVecEnv: every store (store x SKU pair) of every copy is one SB3 VecEnv slot.

Centralized training with decentralized execution: one policy, shared by all stores, is
trained on the experience of every store-SKU pair of B copies at once (``num_envs = B x S x
K``; ``B x S`` with one SKU), and at execution each pair acts on its own observation only.
The env is built directly on the batched twin, so a step is a handful of numpy operations
over all slots, whatever B x S x K.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from gymnasium import spaces

from hmarl_bench.agents.base import BaseAgent
from hmarl_bench.agents.continuous import continuous_role
from hmarl_bench.agents.interfaces import ChainState, check_interface, make_roles
from hmarl_bench.config import RewardWeights, Scenario, load_scenario
from hmarl_bench.envs.batched import BatchedVecEnv, n_copies
from hmarl_bench.reconciliation import (
    check_team_weight,
    mix_team,
    reconcile,
    reward,
    system_cost,
)
from hmarl_bench.twin import DigitalTwin, TwinState

__all__ = ["SharedPolicyVecEnv"]


def _role_actions(agent: BaseAgent, obs: np.ndarray, masks: np.ndarray, state: TwinState):
    """Actions (B,) of a warehouse/supplier agent for every copy ((B, K) for a warehouse of
    several SKUs; float levels in [-1, 1] for a continuous head)."""
    actions = agent.act_batch(obs, masks, state)
    if isinstance(agent.role.action_space, spaces.Box):
        return np.asarray(actions, dtype=np.float64)
    return np.asarray(actions, dtype=np.int64)


class SharedPolicyVecEnv(BatchedVecEnv):
    """B copies of the chain; each store-SKU slot of each copy is one VecEnv slot.

    VecEnv slot ``b x N + n`` is slot ``n`` (store ``n // K``, SKU ``n % K``) of copy ``b``;
    with one SKU, ``b x S + s``. ``n_slots`` is N, ``n_stores`` S.

    Observations ``(B x S, 7)`` float32 and actions ``Discrete(4)`` per slot are those of
    :class:`~hmarl_bench.envs.parallel.HMARLEnvironment`'s stores; a slot's reward is its
    store's reconciliation reward. The warehouse and supplier act by their rule policies, or
    by the :class:`BaseAgent` given as ``warehouse`` / ``supplier`` (agents with an
    ``act_batch(obs, masks)`` method act for all copies in one call).

    Episodes, seeding (``seed``, ``vec_env.seed(k)``, ``fixed_seeds``), terminal infos with
    the copy's ``episode_total_cost``, the checks on actions and the VecEnv API are
    :class:`~hmarl_bench.envs.batched.BatchedVecEnv`'s; a store's terminal info carries its
    copy's cost.

    ``reward_weights`` replaces the scenario's store reward weights for training (a
    learner's choice of training signal; the benchmark still scores the scenario's reward
    and the business KPIs).

    ``interface``: the stores' track, ``"seed"`` (default) or ``"planner"`` (see
    :class:`~hmarl_bench.envs.parallel.HMARLEnvironment`; ``horizon_mask`` for the planner
    track); rule-driven upper roles keep the seed's rules, agents given act through their
    own roles. ``continuous=True`` (planner and view tracks) gives the stores the continuous
    head (:mod:`hmarl_bench.agents.continuous`): a slot's action is ``Box(-1, 1, (1,))``,
    its order-up-to level in days of forecast cover, for SAC, TD3, TQC or DDPG.
    ``team_weight`` (default 0: the store reward alone) mixes in the chain's daily cost
    (:func:`~hmarl_bench.reconciliation.team_rewards`). ``central_critic`` appends the
    copy's global state (:class:`~hmarl_bench.agents.interfaces.ChainState`) to every
    slot's observation, ``[local | global]``, for a centralized-critic policy
    (:mod:`hmarl_bench.learn.critic`).
    """

    def __init__(
        self,
        scenario: Scenario | str = "default",
        n_envs: int = 8,
        seed: int | None = None,
        warehouse: BaseAgent | None = None,
        supplier: BaseAgent | None = None,
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
        self.n_copies = n_envs
        self.n_stores = self.scenario.n_stores
        self.n_slots = self.scenario.n_slots
        self.twin = DigitalTwin(self.scenario, batch_size=n_envs)
        self.interface = check_interface(interface)
        self.team_weight = check_team_weight(team_weight)
        self.store_role = make_roles(self.scenario, interface, horizon_mask)[0]
        if continuous:
            self.store_role = continuous_role(self.store_role)
        _, self.warehouse_role, self.supplier_role = make_roles(self.scenario, "seed")
        self.warehouse = warehouse
        self.supplier = supplier
        self.reward_weights = reward_weights or self.scenario.store_reward
        self.chain_state = ChainState(self.scenario) if central_critic else None
        obs_space = self.store_role.observation_space
        if self.chain_state is not None:
            dim = obs_space.shape[0] + self.chain_state.dim
            obs_space = spaces.Box(0.0, 1.0, shape=(dim,), dtype=np.float32)
        # Discrete(n) on a grid; Box(-1, 1, (1,)) with the continuous head
        super().__init__(n_envs * self.n_slots, obs_space, self.store_role.action_space)
        self._init_episodes(seed, fixed_seeds)
        self._actions: np.ndarray | None = None

    # ------------------------------------------------------------------ core
    def _observe(self) -> np.ndarray:
        local = self.store_role.observe(self.twin.state).reshape(self.num_envs, -1)
        if self.chain_state is None:
            return local
        chain = np.repeat(self.chain_state.observe(self.twin.state), self.n_slots, axis=0)
        return np.concatenate([local, chain], axis=1)

    def step_async(self, actions: np.ndarray) -> None:
        shape, n_actions = (self.n_copies, self.n_slots), self.store_role.n_actions
        expected = f"{self.num_envs} actions (one per slot)"
        if isinstance(self.action_space, spaces.Box):
            self._actions = self._checked_box_actions(actions, shape, expected)
            return
        self._actions = self._checked_actions(actions, shape, n_actions, expected)

    def _upper_orders(self, state: TwinState) -> tuple[np.ndarray, np.ndarray]:
        """The warehouse's order units and the supplier's actions: by the seed's rules, or
        by the agents given, each through its own role (its own track)."""
        if self.warehouse is None:
            w_units = self.warehouse_role.order_quantities(self.warehouse_role.rule_actions(state))
        else:
            role = self.warehouse.role
            w_act = _role_actions(
                self.warehouse, role.observe(state), role.action_masks(state), state
            )
            w_units = role.order_quantities(w_act, state)
        if self.supplier is None:
            p_act = self.supplier_role.rule_actions(state)
        else:
            role = self.supplier.role
            p_act = _role_actions(
                self.supplier, role.observe(state), role.action_masks(state), state
            )
        return w_units, p_act

    def step_wait(self):
        if self._actions is None:
            raise RuntimeError("step_async() must come before step_wait()")
        actions, self._actions = self._actions, None
        state = self.twin.state
        w_units, p_act = self._upper_orders(state)
        outcome = self.twin.step(self.store_role.order_quantities(actions, state), w_units, p_act)
        report = reconcile(outcome, self.scenario)
        own = reward(report.stores, self.reward_weights)
        if self.team_weight:
            cost = system_cost(report, self.scenario)["total_cost"]
            own = mix_team(own, cost[:, None], self.team_weight)
        rewards = own.reshape(-1).astype(np.float32)
        return self._end_day(outcome, report, rewards, self.n_slots)

    def action_masks(self) -> np.ndarray:
        """(num_envs, n) bool: feasible store actions for the current observations (one
        column, all True, with the continuous head)."""
        state = self._current_state("action_masks()")
        return self.store_role.action_masks(state).reshape(self.num_envs, -1)
