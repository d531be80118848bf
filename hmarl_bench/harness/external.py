"""Bring your own policy: a policy named by import path, scored like the benchmark's own.

A benchmark config names it (see :mod:`hmarl_bench.harness.spec`)::

    [[external]]
    name = "my_rule"                     # its name in the tables
    factory = "mypkg.policies:make"      # module:attribute, importable where cells run

The harness calls ``factory(scenario)`` with the scenario being scored (a frozen
:class:`~hmarl_bench.config.Scenario`; ``scenario.name``, ``scenario.n_slots`` ... ) once
per scenario, and accepts either of two returns:

- a :class:`~hmarl_bench.evaluation.ChainController` (``reset(scenario, batch_size)``,
  ``decide(view)``): orders in units for every copy of the batch, as the rule baselines do,
  from the day's :class:`~hmarl_bench.twin.view.ChainView` (never the pre-drawn demand);
- a per-agent PettingZoo-style policy: a callable ``(agent_id, observation, action_mask)
  -> action`` or an object with ``act(agent_id, observation, action_mask)`` (and, if it
  has one, ``reset()``, called before the evaluation). Observations and masks are exactly
  :class:`~hmarl_bench.envs.HMARLEnvironment`'s (float32 in [0, 1]; masks int8, a tuple
  of rows for a warehouse of several SKUs), and actions are that env's (an int, K ints for
  a warehouse of several SKUs), or ``None`` to leave that agent on its built-in rule (the
  seed's (s, S) for stores and warehouse, fulfil in full for the supplier), as
  :class:`~hmarl_bench.envs.HMARLEnvironment`'s other agents are.
  :class:`AgentPolicyController` runs it.

Either runs through :func:`~hmarl_bench.evaluation.evaluate` on the benchmark's
evaluation seeds, every seed one copy of one batch: the same demand streams as every other
policy (common random numbers). A per-agent policy is called for each agent of each copy
on each day, copy after copy, so it should not keep memory between calls (a recurrent
policy belongs in a ChainController); on big chains (1,000 stores) a ChainController that
acts on whole arrays is much faster.

Every day's decision of a brought policy is checked (:class:`CheckedController`, around
either form; the built-in controllers skip it, so their hot path pays nothing): store
orders of shape (B, N), warehouse orders (B, K) (or (B,) with one SKU) and supplier actions
(B,), all whole numbers of units >= 0, finite, and supplier actions in [0, 3). Anything
else fails the cell with one line naming the policy, the day and the offending value,
rather than a numpy error deep in the twin or, worse, a quietly rounded order.

A cell's fingerprint holds the SHA-256 of the factory module's source file in its ``code``
part (:func:`~hmarl_bench.harness.factory_refs.factory_modules`): editing the module
recomputes its cells (the modules it imports in turn are not hashed).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import Any

import numpy as np

from hmarl_bench.agents.masks import gym_mask
from hmarl_bench.agents.roles import StoreRole, SupplierRole, WarehouseRole
from hmarl_bench.config import Scenario
from hmarl_bench.evaluation import ChainController
from hmarl_bench.harness.factory_refs import ExternalPolicyError, origin, split_reference
from hmarl_bench.twin import ChainView
from hmarl_bench.twin.dynamics import SUPPLIER_ACTIONS

__all__ = [
    "AgentPolicyController",
    "CheckedController",
    "ExternalPolicyError",
    "load_factory",
    "make_controller",
]


def load_factory(reference: str) -> Callable[[Scenario], Any]:
    """Import ``module`` and return its ``attribute`` (dotted attributes allowed)."""
    module_name, attribute = split_reference(reference)
    origin(module_name)
    target: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise ExternalPolicyError(f"module {module_name!r} has no attribute {attribute!r}")
        target = getattr(target, part)
    if not callable(target):
        raise ExternalPolicyError(f"{reference} is not callable: {type(target).__name__}")
    return target


def make_controller(reference: str, scenario: Scenario) -> tuple[ChainController, str]:
    """``factory(scenario)`` as a ChainController, and which form it returned
    (``"chain_controller"`` or ``"agent_policy"``)."""
    made = load_factory(reference)(scenario)
    if callable(getattr(made, "reset", None)) and callable(getattr(made, "decide", None)):
        return made, "chain_controller"
    if callable(getattr(made, "act", None)) or callable(made):
        return AgentPolicyController(made), "agent_policy"
    raise ExternalPolicyError(
        f"{reference} returned a {type(made).__name__}, which is neither a ChainController "
        "(reset(scenario, batch_size), decide(view)) nor a per-agent policy (a callable (agent_id, "
        "observation, action_mask) -> action, or an object with act(agent_id, observation, "
        "action_mask))"
    )


class AgentPolicyController:
    """A per-agent PettingZoo-style policy as a :class:`ChainController` over a batch.

    Each day every agent of every copy gets its observation and mask as
    :class:`~hmarl_bench.envs.HMARLEnvironment` builds them (the roles' ``observe`` and
    ``action_masks`` on the day's view: what a controller knows at the start of the day);
    its actions become orders through the roles, as in the env. So a copy seeded with k
    runs exactly the episode of the env reset with seed k under the same policy.

    An agent whose action is ``None`` follows its role's built-in rule that day
    (``rule_actions`` of the day's view, as :meth:`HMARLEnvironment.rule_actions`), so a
    policy for the stores alone leaves the warehouse and supplier on the seed's rules.
    """

    def __init__(self, policy: Any) -> None:
        self.policy = policy
        self._act = policy.act if callable(getattr(policy, "act", None)) else policy

    def reset(self, scenario: Scenario, batch_size: int) -> None:
        self.stores = StoreRole(scenario)
        self.warehouse = WarehouseRole(scenario)
        self.supplier = SupplierRole(scenario)
        self.store_ids = scenario.slot_names()
        self.n_skus = scenario.n_skus
        space = self.warehouse.action_space
        self._warehouse_sizes = tuple(int(n) for n in space.nvec) if self.n_skus > 1 else 4
        if callable(getattr(self.policy, "reset", None)):
            self.policy.reset()

    def decide(self, view: ChainView) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        store_obs, store_masks = self.stores.observe(view), self.stores.action_masks(view)
        w_obs, w_masks = self.warehouse.observe(view), self.warehouse.action_masks(view)
        p_obs, p_masks = self.supplier.observe(view), self.supplier.action_masks(view)
        batch = store_obs.shape[0]
        rules = _Rules(self, view)
        store_actions = np.empty((batch, len(self.store_ids)), dtype=np.int64)
        w_actions = np.empty((batch, self.n_skus), dtype=np.int64)
        p_actions = np.empty(batch, dtype=np.int64)
        for b in range(batch):  # the policy acts per agent: one call per agent and copy
            masks = store_masks[b].view(np.int8)
            for i, agent in enumerate(self.store_ids):
                action = self._action(agent, store_obs[b, i], masks[i], 4)
                store_actions[b, i] = rules.stores[b, i] if action is None else action
            w_mask = gym_mask(w_masks[b], self._warehouse_sizes)
            action = self._action("warehouse_1", w_obs[b], w_mask, 4, self.n_skus)
            w_actions[b] = rules.warehouse[b] if action is None else action
            p_mask = p_masks[b].view(np.int8)
            action = self._action("supplier_1", p_obs[b], p_mask, self.supplier.n_actions)
            p_actions[b] = rules.supplier[b] if action is None else action
        warehouse = w_actions[:, 0] if self.n_skus == 1 else w_actions
        return (
            self.stores.order_quantities(store_actions, view),
            self.warehouse.order_quantities(warehouse),
            p_actions,
        )

    def _action(
        self, agent: str, observation: np.ndarray, mask: Any, n: int, count: int = 1
    ) -> int | np.ndarray | None:
        """The policy's action for one agent, checked: ``count`` integers in [0, n), or
        None (the agent's built-in rule)."""
        raw = self._act(agent, observation, mask)
        if raw is None:
            return None
        try:
            action = np.asarray(raw)
        except (TypeError, ValueError):  # ragged nesting: not an action
            action = np.asarray(None)
        if (
            action.size != count
            or action.dtype.kind not in "iuf"  # not bool, not text
            or (action != np.round(action)).any()
            or (action < 0).any()
            or (action >= n).any()
        ):
            what = "an integer" if count == 1 else f"{count} integers"
            raise ExternalPolicyError(
                f"the policy's action for {agent} must be {what} in [0, {n}) or None (its "
                f"built-in rule), got {raw!r}"
            )
        return action.astype(np.int64).reshape(-1) if count > 1 else int(action.reshape(-1)[0])


class _Rules:
    """The roles' built-in rule actions of one day, computed on first use (most policies
    never return None)."""

    def __init__(self, controller: AgentPolicyController, view: ChainView) -> None:
        self._controller, self._view = controller, view

    @functools.cached_property
    def stores(self) -> np.ndarray:
        return self._controller.stores.rule_actions(self._view)

    @functools.cached_property
    def warehouse(self) -> np.ndarray:
        actions = self._controller.warehouse.rule_actions(self._view)
        return actions.reshape(actions.shape[0], -1)  # (B, K), one SKU too

    @functools.cached_property
    def supplier(self) -> np.ndarray:
        return self._controller.supplier.rule_actions(self._view)


class CheckedController:
    """A brought ChainController whose every decision is checked (module docstring).

    Errors name the policy (``name``) and the day: ``policy 'my_rule', day 12: store
    orders must be whole units >= 0; got -5.0 (copy 0, slot 1)``.
    """

    def __init__(self, controller: Any, name: str) -> None:
        self.controller = controller
        self.name = name
        self._shapes: tuple[tuple[int, ...], ...] = ()

    def reset(self, scenario: Scenario, batch_size: int) -> None:
        self.controller.reset(scenario, batch_size)
        self.n_supplier_actions = len(SUPPLIER_ACTIONS)
        warehouse = (batch_size,) if scenario.n_skus == 1 else (batch_size, scenario.n_skus)
        self._shapes = ((batch_size, scenario.n_slots), warehouse, (batch_size,))

    def decide(self, view: ChainView) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        where = f"policy '{self.name}', day {view.day}"
        try:
            decision = self.controller.decide(view)
        except ExternalPolicyError as err:
            raise ExternalPolicyError(f"{where}: {err}") from None
        if not isinstance(decision, tuple) or len(decision) != 3:
            got = type(decision).__name__ + (
                f" of {len(decision)}" if isinstance(decision, tuple | list) else ""
            )
            raise ExternalPolicyError(
                f"{where}: decide() must return a tuple (store orders, warehouse orders, "
                f"supplier action); got a {got}"
            )
        labels = ("store orders", "warehouse orders", "supplier actions")
        checked = tuple(
            _checked(value, shape, label, where)
            for value, shape, label in zip(decision, self._shapes, labels, strict=True)
        )
        store, warehouse, supplier = checked
        high = supplier >= self.n_supplier_actions
        if high.any():
            copy = int(np.argmax(high))
            raise ExternalPolicyError(
                f"{where}: supplier actions must be in [0, {self.n_supplier_actions}) "
                f"({', '.join(SUPPLIER_ACTIONS)}); got {supplier[copy].item()!r} (copy {copy})"
            )
        return store, warehouse, supplier.astype(np.int64, copy=False)


def _checked(value: Any, shape: tuple[int, ...], label: str, where: str) -> np.ndarray:
    """``value`` as an array of ``shape`` (a one-SKU warehouse may also give (B, 1)) of
    finite whole numbers >= 0, or an :class:`ExternalPolicyError` naming the bad value."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        array = np.asarray(None)
    if array.dtype.kind not in "iuf":
        raise ExternalPolicyError(
            f"{where}: {label} must be numbers; got {type(value).__name__} {value!r:.80}"
        )
    if array.shape != shape and not (len(shape) == 1 and array.shape == (*shape, 1)):
        raise ExternalPolicyError(
            f"{where}: {label} must have shape {shape}; got shape {array.shape}"
        )
    bad = ~np.isfinite(array) | (array < 0) | (array != np.round(array))
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        at = f"copy {index[0]}" + (f", slot {index[1]}" if len(index) > 1 else "")
        raise ExternalPolicyError(
            f"{where}: {label} must be finite whole units >= 0; got {array[index].item()!r} ({at})"
        )
    return array.reshape(shape)
