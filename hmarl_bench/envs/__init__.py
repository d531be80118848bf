"""The environment in its multi-agent, single-agent and shared-policy VecEnv forms."""

from hmarl_bench.envs.parallel import HMARLEnvironment
from hmarl_bench.envs.single import SingleAgentWrapper, make_single_agent_env

__all__ = ["HMARLEnvironment", "SingleAgentWrapper", "make_single_agent_env"]
