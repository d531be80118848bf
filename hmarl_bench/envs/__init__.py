"""The environment in its multi-agent, single-agent and VecEnv forms.

``vec.SharedPolicyVecEnv`` (one slot per store) and ``upper_vec.WarehouseVecEnv`` /
``upper_vec.SupplierVecEnv`` (one slot per copy) import SB3 and are imported on use.
"""

from hmarl_bench.envs.parallel import HMARLEnvironment
from hmarl_bench.envs.single import SingleAgentWrapper, make_single_agent_env

__all__ = ["HMARLEnvironment", "SingleAgentWrapper", "make_single_agent_env"]
