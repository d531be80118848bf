"""SingleAgentWrapper: one agent of HMARLEnvironment as a gymnasium.Env."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from hmarl_bench.agents.base import BaseAgent
from hmarl_bench.config import Scenario
from hmarl_bench.envs.parallel import HMARLEnvironment, _plain
from hmarl_bench.seeding import check_seed

__all__ = ["ROLE_AGENT_IDS", "SingleAgentWrapper", "make_single_agent_env"]

#: Which agent each registered id controls (``Store``: the first store slot of the scenario,
#: ``store_1``, or ``store_1_sku_1`` with several SKUs).
ROLE_AGENT_IDS = {"Store": "store_1", "Warehouse": "warehouse_1", "Supplier": "supplier_1"}


class SingleAgentWrapper(gym.Env):
    """One agent of an :class:`HMARLEnvironment`; every other agent follows its policy.

    The other agents act by their rule-based policies unless ``others`` maps their id to a
    :class:`BaseAgent` (a :class:`~hmarl_bench.agents.policy.PolicyAgent`, say). Spaces,
    rewards and episode end are those of the chosen agent in the multi-agent env;
    ``info`` carries the agent's ``report`` and ``action_mask``, and :meth:`action_masks`
    serves sb3-contrib's MaskablePPO.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 1}

    def __init__(
        self,
        env: HMARLEnvironment | Scenario | str = "default",
        agent: str = "store_1",
        others: dict[str, BaseAgent] | None = None,
        render_mode: str | None = None,
    ) -> None:
        if not isinstance(env, HMARLEnvironment):
            env = HMARLEnvironment(env, render_mode=render_mode)
        if agent not in env.possible_agents:
            raise ValueError(f"unknown agent {agent!r}; choose one of {env.possible_agents}")
        others = dict(others or {})
        bad = set(others) - (set(env.possible_agents) - {agent})
        if bad:
            raise ValueError(f"'others' names agents that are not other agents: {sorted(bad)}")
        self.env = env
        self.agent = agent
        self.others = others
        self.render_mode = env.render_mode
        self.observation_space = env.observation_space(agent)
        self.action_space = env.action_space(agent)
        self._obs: dict[str, np.ndarray] = {}
        self._masks: dict[str, np.ndarray] = {}

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=None if seed is None else check_seed(seed))
        if seed is None and self.env.twin.state is None:
            seed = int(self.np_random.integers(2**31))
        self._obs, infos = self.env.reset(seed=seed, options=options)
        for other in self.others.values():
            other.reset()
        self._masks = {a: i["action_mask"] for a, i in infos.items()}
        return self._obs[self.agent], infos[self.agent]

    def _other_actions(self) -> dict[str, Any]:
        actions = self.env.rule_actions()
        state = self.env.twin_state
        for agent_id, other in self.others.items():
            action = other.act(self._obs[agent_id], self._masks[agent_id], state)
            actions[agent_id] = _plain(action)
        return actions

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        actions = self._other_actions()
        if isinstance(action, np.ndarray) and isinstance(self.action_space, spaces.Discrete):
            action = action.item()
        actions[self.agent] = action
        obs, rewards, terms, truncs, infos = self.env.step(actions)
        for agent_id, other in self.others.items():
            other.receive_feedback(infos[agent_id]["report"])
        self._obs = obs
        self._masks = {a: i["action_mask"] for a, i in infos.items()}
        a = self.agent
        return obs[a], float(rewards[a]), bool(terms[a]), bool(truncs[a]), infos[a]

    def action_masks(self) -> np.ndarray:
        """Feasible actions of the wrapped agent now (bool, one per action)."""
        return self._masks[self.agent].copy()

    def render(self) -> str | None:
        return self.env.render()

    def close(self) -> None:
        self.env.close()


def make_single_agent_env(
    scenario: Scenario | str = "default",
    agent: str = "store_1",
    render_mode: str | None = None,
) -> SingleAgentWrapper:
    """Entry point of the registered ids (``gymnasium.make("hmarl_bench/Store-v0")``).

    ``store_1`` in a scenario with several SKUs means its first slot, ``store_1_sku_1``.
    """
    env = HMARLEnvironment(scenario, render_mode=render_mode)
    if agent == "store_1" and agent not in env.possible_agents:
        agent = env.store_ids[0]
    return SingleAgentWrapper(env, agent)
