"""SingleAgentWrapper: one agent of HMARLEnvironment as a gymnasium.Env."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from hmarl_bench.agents.base import BaseAgent
from hmarl_bench.agents.masks import flat_mask
from hmarl_bench.config import Scenario
from hmarl_bench.envs.parallel import HMARLEnvironment, _plain
from hmarl_bench.envs.render import RENDER_MODES
from hmarl_bench.seeding import check_seed

__all__ = [
    "ROLE_AGENT_IDS",
    "SingleAgentWrapper",
    "make_registered_env",
    "make_single_agent_env",
]

#: Which agent each registered id controls (``Store``: the first store slot of the scenario,
#: ``store_1``, or ``store_1_sku_1`` with several SKUs).
ROLE_AGENT_IDS = {"Store": "store_1", "Warehouse": "warehouse_1", "Supplier": "supplier_1"}


def _listed(agents: list[str]) -> str:
    """Agent ids for an error message, shortened for chains of many stores."""
    if len(agents) <= 12:
        return ", ".join(agents)
    return ", ".join([*agents[:4], "...", *agents[-3:]]) + f" ({len(agents)} agents)"


class SingleAgentWrapper(gym.Env):
    """One agent of an :class:`HMARLEnvironment`; every other agent follows its policy.

    The other agents act by their rule-based policies unless ``others`` maps their id to a
    :class:`BaseAgent` (a :class:`~hmarl_bench.agents.policy.PolicyAgent`, say). Spaces,
    rewards and episode end are those of the chosen agent in the multi-agent env;
    ``info`` carries the agent's ``report`` and ``action_mask`` (Gymnasium's int8 form, so
    ``env.action_space.sample(mask=info["action_mask"])`` works), and :meth:`action_masks`
    serves sb3-contrib's MaskablePPO (one flat bool mask).

    ``agent`` defaults to the scenario's first store slot (``store_1``, or
    ``store_1_sku_1`` with several SKUs); an unknown id raises a ValueError listing the
    scenario's agents. ``render_mode`` (``"ansi"``, ``"rgb_array"`` or ``"human"``) applies
    when ``env`` is a scenario; a given env keeps its own.

    ``interface``, ``horizon_mask`` and ``team_weight`` build the multi-agent env on that
    track and with that reward (see :class:`HMARLEnvironment`) when ``env`` is not one
    already. ``central_critic=True`` appends the chain's global state
    (:meth:`HMARLEnvironment.chain_state`) to the observation, ``[local | global]``, for a
    centralized-critic policy (:mod:`hmarl_bench.learn.critic`) whose actor reads the local
    part only.
    """

    metadata = {"render_modes": list(RENDER_MODES), "render_fps": 4}

    def __init__(
        self,
        env: HMARLEnvironment | Scenario | str = "default",
        agent: str | None = None,
        others: dict[str, BaseAgent] | None = None,
        render_mode: str | None = None,
        interface: str = "seed",
        horizon_mask: bool = True,
        team_weight: float = 0.0,
        central_critic: bool = False,
    ) -> None:
        if not isinstance(env, HMARLEnvironment):
            env = HMARLEnvironment(
                env,
                render_mode=render_mode,
                interface=interface,
                horizon_mask=horizon_mask,
                team_weight=team_weight,
            )
        if agent is None:
            agent = env.store_ids[0]
        if agent not in env.possible_agents:
            raise ValueError(
                f"unknown agent {agent!r}; choose one of {_listed(env.possible_agents)}"
            )
        others = dict(others or {})
        bad = set(others) - (set(env.possible_agents) - {agent})
        if bad:
            raise ValueError(f"'others' names agents that are not other agents: {sorted(bad)}")
        self.env = env
        self.agent = agent
        self.others = others
        self.render_mode = env.render_mode
        self.central_critic = central_critic
        self.observation_space = env.observation_space(agent)
        if central_critic:
            dim = self.observation_space.shape[0] + env.chain_state_of.dim
            self.observation_space = spaces.Box(0.0, 1.0, shape=(dim,), dtype=np.float32)
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
        return self._own(self._obs), infos[self.agent]

    def _own(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """The wrapped agent's observation, with the global state after it for a critic."""
        if not self.central_critic:
            return obs[self.agent]
        return np.concatenate([obs[self.agent], self.env.chain_state()])

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
        return self._own(obs), float(rewards[a]), bool(terms[a]), bool(truncs[a]), infos[a]

    def action_masks(self) -> np.ndarray:
        """Feasible actions of the wrapped agent now: one flat bool array (one entry per
        action; a warehouse of several SKUs: its SKUs' masks concatenated), MaskablePPO's
        form."""
        if not self._masks:
            raise RuntimeError("call reset() before action_masks()")
        return flat_mask(self._masks[self.agent])

    def render(self) -> str | np.ndarray | None:
        return self.env.render()

    def close(self) -> None:
        self.env.close()


def make_single_agent_env(
    scenario: Scenario | str = "default",
    agent: str | None = None,
    render_mode: str | None = None,
    interface: str = "seed",
    team_weight: float = 0.0,
    central_critic: bool = False,
) -> SingleAgentWrapper:
    """Entry point of the registered ids (``gymnasium.make("hmarl_bench/Store-v0")``).

    ``store_1`` (or None) in a scenario with several SKUs means its first slot,
    ``store_1_sku_1``.
    """
    env = HMARLEnvironment(
        scenario, render_mode=render_mode, interface=interface, team_weight=team_weight
    )
    if agent == "store_1" and agent not in env.possible_agents:
        agent = None
    return SingleAgentWrapper(env, agent, central_critic=central_critic)


def make_registered_env(**kwargs: Any) -> gym.Wrapper:
    """Entry point of the registered ids: :func:`make_single_agent_env` inside a
    ``TimeLimit`` of the scenario's own ``episode_days``.

    The ids are registered without ``max_episode_steps`` because the episode's length
    depends on the scenario made (90 days for ``default``, 180 for some), so this limit is
    what ``env.spec.max_episode_steps`` reports and what ``TimeAwareObservation`` scales
    time by. The env ends each episode at that day itself; the limit only declares it.
    ``gymnasium.make(..., max_episode_steps=T)`` still wraps a limit of ``T`` around it.
    """
    env = make_single_agent_env(**kwargs)
    return gym.wrappers.TimeLimit(env, max_episode_steps=env.env.scenario.episode_days)


# gymnasium.make reads the creator's render modes: "rgb_array_list" (RenderCollection) is
# then built on "rgb_array".
make_single_agent_env.metadata = SingleAgentWrapper.metadata
make_registered_env.metadata = SingleAgentWrapper.metadata
