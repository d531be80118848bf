"""StoreAgent, WarehouseAgent and SupplierAgent: the seed's agents with their rule policies."""

from __future__ import annotations

import numpy as np

from hmarl_bench.agents.base import BaseAgent
from hmarl_bench.agents.roles import StoreRole, SupplierRole, WarehouseRole
from hmarl_bench.config import Scenario
from hmarl_bench.twin.view import DayState

__all__ = ["StoreAgent", "SupplierAgent", "WarehouseAgent", "make_agents"]


class _RuleAgent(BaseAgent):
    """Acts by its role's rule policy, which reads the twin's state."""

    def act(
        self,
        observation: np.ndarray,
        action_mask: np.ndarray | None = None,
        state: DayState | None = None,
    ) -> int:
        if state is None:
            raise ValueError(f"{self.agent_id}'s rule policy needs the twin state (state=...)")
        return self.rule_action(state)

    def act_batch(
        self, observations: np.ndarray, action_masks: np.ndarray, state: DayState
    ) -> np.ndarray:
        """The rule's actions in every copy at once."""
        return self.role.rule_actions(state)[(slice(None), *self.index)]


class StoreAgent(_RuleAgent):
    """A store (a store-SKU slot, with several SKUs): 7 observations, Discrete(4) order
    sizes, rule (s, S) on those actions. ``index`` is the slot's index."""

    def __init__(self, scenario: Scenario, index: int, role: StoreRole | None = None) -> None:
        super().__init__(
            scenario.slot_names()[index],
            role or StoreRole(scenario),
            scenario.store_reward,
            (index,),
        )


class WarehouseAgent(_RuleAgent):
    """The warehouse: 6 observations and Discrete(4) order sizes per SKU, rule (s, S)."""

    def __init__(self, scenario: Scenario, role: WarehouseRole | None = None) -> None:
        super().__init__(
            "warehouse_1", role or WarehouseRole(scenario), scenario.warehouse_reward, ()
        )


class SupplierAgent(_RuleAgent):
    """The supplier: 3 observations, Discrete(3) fulfil / partial / delay; rule: fulfil."""

    def __init__(self, scenario: Scenario, role: SupplierRole | None = None) -> None:
        super().__init__("supplier_1", role or SupplierRole(scenario), scenario.supplier_reward, ())


def make_agents(scenario: Scenario) -> dict[str, BaseAgent]:
    """The rule-based agents of a scenario, by agent id, sharing one role object per role."""
    store_role = StoreRole(scenario)
    agents: dict[str, BaseAgent] = {
        name: StoreAgent(scenario, i, store_role) for i, name in enumerate(scenario.slot_names())
    }
    agents["warehouse_1"] = WarehouseAgent(scenario)
    agents["supplier_1"] = SupplierAgent(scenario)
    return agents
