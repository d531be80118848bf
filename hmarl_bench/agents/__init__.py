"""Agents: the BaseAgent interface, the three roles and their rule-based agents."""

from hmarl_bench.agents.base import BaseAgent, Role
from hmarl_bench.agents.roles import StoreRole, SupplierRole, WarehouseRole
from hmarl_bench.agents.rule_agents import StoreAgent, SupplierAgent, WarehouseAgent, make_agents

__all__ = [
    "BaseAgent",
    "Role",
    "StoreAgent",
    "StoreRole",
    "SupplierAgent",
    "SupplierRole",
    "WarehouseAgent",
    "WarehouseRole",
    "make_agents",
]
