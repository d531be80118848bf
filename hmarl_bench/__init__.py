"""hmarl_bench: hierarchical multi-agent RL benchmarks on a multi-echelon retail supply chain.

Public API::

    load_scenario, list_scenarios, Scenario, ScenarioError
    DigitalTwin, HMARLEnvironment, SingleAgentWrapper, SharedPolicyVecEnv
    reconcile, reward

``SharedPolicyVecEnv`` is imported on first use: it needs Stable-Baselines3 and torch, which
the twin and the PettingZoo/Gymnasium envs do not.

Registered Gymnasium ids: ``hmarl_bench/Store-v0``, ``hmarl_bench/Warehouse-v0``,
``hmarl_bench/Supplier-v0`` (keyword ``scenario=`` picks the scenario), each made with a
``TimeLimit`` of its scenario's ``episode_days`` (``env.spec.max_episode_steps``: 90 for
``default``, 180 for the long scenarios) and render modes ``"ansi"``, ``"rgb_array"`` and
``"human"`` (the text printed).
"""

from __future__ import annotations

try:
    import gymnasium

    from hmarl_bench.agents import BaseAgent, StoreAgent, SupplierAgent, WarehouseAgent
    from hmarl_bench.config import Scenario, ScenarioError, list_scenarios, load_scenario
    from hmarl_bench.envs import HMARLEnvironment, SingleAgentWrapper
    from hmarl_bench.envs.single import ROLE_AGENT_IDS
    from hmarl_bench.reconciliation import ReconciliationReport, reconcile, reward
    from hmarl_bench.twin import DigitalTwin
except ModuleNotFoundError as _missing:  # run from a checkout without installing it
    if _missing.name is None or _missing.name.split(".")[0] == "hmarl_bench":
        raise
    raise ModuleNotFoundError(
        f"hmarl_bench needs {_missing.name!r}, which this Python cannot import: install the "
        "project and its dependencies first, from its folder: "
        "pip install torch==2.13.0 -e .  (see the README's Quick start)",
        name=_missing.name,
    ) from _missing

__version__ = "0.1.0"

__all__ = [
    "BaseAgent",
    "DigitalTwin",
    "HMARLEnvironment",
    "ReconciliationReport",
    "Scenario",
    "ScenarioError",
    "SharedPolicyVecEnv",
    "SingleAgentWrapper",
    "StoreAgent",
    "SupplierAgent",
    "WarehouseAgent",
    "list_scenarios",
    "load_scenario",
    "reconcile",
    "reward",
]


def __getattr__(name: str):
    """Lazy exports: ``hmarl_bench.SharedPolicyVecEnv`` without importing SB3 up front."""
    if name == "SharedPolicyVecEnv":
        from hmarl_bench.envs.vec import SharedPolicyVecEnv

        return SharedPolicyVecEnv
    raise AttributeError(f"module 'hmarl_bench' has no attribute {name!r}")


for _role, _agent in ROLE_AGENT_IDS.items():
    _env_id = f"hmarl_bench/{_role}-v0"
    if _env_id not in gymnasium.registry:
        gymnasium.register(
            id=_env_id,
            entry_point="hmarl_bench.envs.single:make_registered_env",  # its scenario's limit
            kwargs={"agent": _agent},
        )
