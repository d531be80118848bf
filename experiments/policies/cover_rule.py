"""Example policies brought to a benchmark by import path (README, "Bring your own policy").

Score them beside the built-in policies with a benchmark config entry::

    [[external]]
    name = "cover_rule"
    factory = "experiments.policies.cover_rule:make"   # run from the project's root folder

``make(scenario)`` returns a per-agent PettingZoo-style policy: it sees what
``HMARLEnvironment`` hands each agent, its observation and action mask, and nothing else.
``make_controller(scenario)`` returns a ChainController that orders free quantities for the
whole batch at once from the day's state. Both are deliberately simple rules.
"""

from __future__ import annotations

import numpy as np

from hmarl_bench.agents.roles import MAX_COVER_DAYS, WarehouseRole
from hmarl_bench.config import Scenario
from hmarl_bench.twin import DigitalTwin, TwinState
from hmarl_bench.twin.state import pipeline_total

#: Store rule: (days of cover below which, action): 1.5x, 1.0x or 0.5x the forecast.
#: The thresholds were picked by hand on the default scenario's tuning seeds 100-102.
COVER_STEPS = ((4.0, 3), (7.0, 2), (9.0, 1))
#: Warehouse rule: order the largest size while its position is below this share of capacity.
WAREHOUSE_SHARE = 0.1


def _largest_allowed(wanted: int, mask: np.ndarray) -> int:
    """The largest action <= wanted that the mask allows (ordering nothing always is)."""
    allowed = np.flatnonzero(np.asarray(mask)[: wanted + 1])
    return int(allowed[-1])


class CoverRule:
    """Stores order by days of cover, the warehouse tops up while low, the supplier fulfils."""

    def __call__(self, agent_id: str, observation: np.ndarray, action_mask) -> int | np.ndarray:
        if agent_id.startswith("store_"):
            cover_days = float(observation[3]) * MAX_COVER_DAYS
            wanted = next((action for days, action in COVER_STEPS if cover_days < days), 0)
            return _largest_allowed(wanted, action_mask)
        if agent_id == "warehouse_1":  # 6 values per SKU; a tuple of mask rows for K > 1
            per_sku = np.asarray(observation).reshape(-1, 6)
            rows = action_mask if isinstance(action_mask, tuple) else (action_mask,)
            position = per_sku[:, 1] + per_sku[:, 2]  # on hand and pipeline / capacity
            actions = [
                _largest_allowed(3 if share < WAREHOUSE_SHARE else 0, row)
                for share, row in zip(position, rows, strict=True)
            ]
            return actions[0] if len(actions) == 1 else np.array(actions)
        return 0  # supplier: fulfil in full


def make(scenario: Scenario) -> CoverRule:
    """The per-agent form (the same rule for every scenario)."""
    return CoverRule()


class BaseStockController:
    """A ChainController: each store slot orders up to ``days`` of its forecast (free
    quantities, from the state's non-exogenous arrays); the warehouse follows its (s, S)."""

    def __init__(self, days: float = 9.0) -> None:
        self.days = days

    def reset(self, twin: DigitalTwin) -> None:
        self.warehouse = WarehouseRole(twin.scenario)

    def decide(self, state: TwinState) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        position = state.store_on_hand + pipeline_total(state.store_pipeline)
        target = np.rint(self.days * state.forecast).astype(np.int64)
        store_orders = np.maximum(target - position, 0)
        warehouse = self.warehouse.order_quantities(self.warehouse.rule_actions(state))
        return store_orders, warehouse, np.zeros(state.batch_size, dtype=np.int64)


def make_controller(scenario: Scenario) -> BaseStockController:
    """The ChainController form."""
    return BaseStockController()
