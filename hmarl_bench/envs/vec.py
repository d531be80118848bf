"""SharedPolicyVecEnv: every store (store x SKU pair) of every copy is one SB3 VecEnv slot.

Centralized training with decentralized execution: one policy, shared by all stores, is
trained on the experience of every store-SKU pair of B copies at once (``num_envs = B x S x
K``; ``B x S`` with one SKU), and at execution each pair acts on its own observation only.
The env is built directly on the batched twin, so a step is a handful of numpy operations
over all slots, whatever B x S x K.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType

import numpy as np
from gymnasium import spaces

from hmarl_bench.agents.base import BaseAgent
from hmarl_bench.agents.roles import (
    STORE_ORDER_MULTIPLIERS,
    StoreRole,
    SupplierRole,
    WarehouseRole,
)
from hmarl_bench.config import RewardWeights, Scenario, load_scenario
from hmarl_bench.envs.batched import BatchedVecEnv
from hmarl_bench.reconciliation import reconcile, reward, system_cost
from hmarl_bench.twin import DigitalTwin, TwinState

__all__ = ["SharedPolicyVecEnv"]

_NO_INFO: MappingProxyType = MappingProxyType({})  # read-only, shared by non-terminal slots


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

    All copies run in lockstep and reach the horizon together: the step that ends an
    episode returns ``dones`` all True, ``infos[i]["terminal_observation"]``,
    ``infos[i]["TimeLimit.truncated"] = True`` and the copy's ``episode_total_cost`` (the
    business KPI, warm-up excluded), and the observations of the next episode (auto-reset).
    Other steps return one shared read-only empty info per slot (a ``MappingProxyType``:
    building B x N dicts every step would cost more than the twin's step; copy it with
    ``dict(info)`` to write into it, as SB3's wrappers do).

    ``step`` refuses actions of the wrong count, outside ``[0, 4)`` or not whole numbers
    (numpy would otherwise wrap a negative index into the multiplier table).

    ``reward_weights`` replaces the scenario's store reward weights for training (a
    learner's choice of training signal; the benchmark still scores the scenario's reward
    and the business KPIs).

    Seeding: ``seed`` (or ``vec_env.seed(k)``, as SB3 models do) fixes the stream of
    episodes; ``fixed_seeds`` instead replays the same per-copy seeds at every reset
    (``n_envs = len(fixed_seeds)``), for evaluation on held-out demand.

    ``get_attr``/``set_attr`` read and write attributes of this env, which all slots share;
    ``env_method`` calls a method once and splits an array result over slots (so
    ``env_method("action_masks")`` gives one mask per slot, as MaskablePPO expects).
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
        if fixed_seeds is not None:
            n_envs = len(fixed_seeds)
        if n_envs < 1:
            raise ValueError(f"n_envs must be >= 1, got {n_envs}")
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
        self.fixed_seeds = None if fixed_seeds is None else [int(s) for s in fixed_seeds]
        self.render_mode = None
        super().__init__(
            n_envs * self.n_slots,
            self.store_role.observation_space,
            spaces.Discrete(self.store_role.n_actions),
        )
        self._episode_rng = np.random.default_rng(seed)
        self._actions: np.ndarray | None = None
        self._episode_cost = np.zeros(n_envs)

    # ------------------------------------------------------------------ core
    def _observe(self) -> np.ndarray:
        return self.store_role.observe(self.twin.state).reshape(self.num_envs, -1)

    def _reset_twin(self) -> np.ndarray:
        if self.fixed_seeds is not None:
            self.twin.reset(self.fixed_seeds)
        else:
            self.twin.reset(int(self._episode_rng.integers(2**63)))
        self._episode_cost[:] = 0.0
        return self._observe()

    def reset(self) -> np.ndarray:
        if self._seeds[0] is not None:
            self._episode_rng = np.random.default_rng(self._seeds[0])
        self._reset_seeds()
        self._reset_options()
        return self._reset_twin()

    def step_async(self, actions: np.ndarray) -> None:
        raw = np.asarray(actions)
        if raw.size != self.num_envs:
            raise ValueError(
                f"expected {self.num_envs} actions (one per slot), got shape {raw.shape}"
            )
        as_int = raw.astype(np.int64, copy=False).reshape(self.n_copies, self.n_slots)
        if raw.dtype.kind not in "iu" and np.any(as_int.ravel() != raw.ravel()):
            raise ValueError(f"actions must be whole numbers, got {raw!r}")
        if as_int.min() < 0 or as_int.max() >= STORE_ORDER_MULTIPLIERS.size:
            raise ValueError(f"actions must be in [0, {STORE_ORDER_MULTIPLIERS.size}), got {raw!r}")
        self._actions = as_int

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
        if np.any((actions < 0) | (actions >= self.store_role.n_actions)):
            raise ValueError(f"store actions must be in [0, {self.store_role.n_actions})")
        state = self.twin.state
        w_act, p_act = self._upper_actions(state)
        outcome = self.twin.step(
            self.store_role.order_quantities(actions, state),
            self.warehouse_role.order_quantities(w_act),
            p_act,
        )
        report = reconcile(outcome, self.scenario)
        rewards = reward(report.stores, self.reward_weights).reshape(-1).astype(np.float32)
        if outcome.day >= self.scenario.warmup_days:
            self._episode_cost += system_cost(report, self.scenario)["total_cost"]
        if not self.twin.done:
            dones = np.zeros(self.num_envs, dtype=bool)
            return self._observe(), rewards, dones, [_NO_INFO] * self.num_envs
        terminal = self._observe()
        cost = np.repeat(self._episode_cost, self.n_slots)
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

    def action_masks(self) -> np.ndarray:
        """(num_envs, 4) bool: feasible store actions for the current observations."""
        return self.store_role.action_masks(self.twin.state).reshape(self.num_envs, -1)
