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
from hmarl_bench.agents.roles import StoreRole, SupplierRole, WarehouseRole
from hmarl_bench.config import RewardWeights, Scenario, load_scenario
from hmarl_bench.envs.batched import BatchedVecEnv, n_copies
from hmarl_bench.reconciliation import reconcile, reward
from hmarl_bench.twin import DigitalTwin, TwinState

__all__ = ["SharedPolicyVecEnv"]


def _role_actions(agent: BaseAgent, obs: np.ndarray, masks: np.ndarray, state: TwinState):
    """Actions (B,) of a warehouse/supplier agent for every copy ((B, K) for a warehouse of
    several SKUs)."""
    return np.asarray(agent.act_batch(obs, masks, state), dtype=np.int64)


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
    ) -> None:
        n_envs = n_copies(n_envs, fixed_seeds)
        self.scenario = load_scenario(scenario)
        self.n_copies = n_envs
        self.n_stores = self.scenario.n_stores
        self.n_slots = self.scenario.n_slots
        self.twin = DigitalTwin(self.scenario, batch_size=n_envs)
        self.store_role = StoreRole(self.scenario)
        self.warehouse_role = WarehouseRole(self.scenario)
        self.supplier_role = SupplierRole(self.scenario)
        self.warehouse = warehouse
        self.supplier = supplier
        self.reward_weights = reward_weights or self.scenario.store_reward
        super().__init__(
            n_envs * self.n_slots,
            self.store_role.observation_space,
            spaces.Discrete(self.store_role.n_actions),
        )
        self._init_episodes(seed, fixed_seeds)
        self._actions: np.ndarray | None = None

    # ------------------------------------------------------------------ core
    def _observe(self) -> np.ndarray:
        return self.store_role.observe(self.twin.state).reshape(self.num_envs, -1)

    def step_async(self, actions: np.ndarray) -> None:
        shape, n_actions = (self.n_copies, self.n_slots), self.store_role.n_actions
        expected = f"{self.num_envs} actions (one per slot)"
        self._actions = self._checked_actions(actions, shape, n_actions, expected)

    def _upper_actions(self, state: TwinState) -> tuple[np.ndarray, np.ndarray]:
        if self.warehouse is None:
            w_act = self.warehouse_role.rule_actions(state)
        else:
            w_act = _role_actions(
                self.warehouse,
                self.warehouse_role.observe(state),
                self.warehouse_role.action_masks(state),
                state,
            )
        if self.supplier is None:
            p_act = self.supplier_role.rule_actions(state)
        else:
            p_act = _role_actions(
                self.supplier,
                self.supplier_role.observe(state),
                self.supplier_role.action_masks(state),
                state,
            )
        return w_act, p_act

    def step_wait(self):
        if self._actions is None:
            raise RuntimeError("step_async() must come before step_wait()")
        actions, self._actions = self._actions, None
        state = self.twin.state
        w_act, p_act = self._upper_actions(state)
        outcome = self.twin.step(
            self.store_role.order_quantities(actions, state),
            self.warehouse_role.order_quantities(w_act),
            p_act,
        )
        report = reconcile(outcome, self.scenario)
        rewards = reward(report.stores, self.reward_weights).reshape(-1).astype(np.float32)
        return self._end_day(outcome, report, rewards, self.n_slots)

    def action_masks(self) -> np.ndarray:
        """(num_envs, 4) bool: feasible store actions for the current observations."""
        state = self._current_state("action_masks()")
        return self.store_role.action_masks(state).reshape(self.num_envs, -1)
