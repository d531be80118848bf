"""PolicyAgent: a trained model (anything with SB3's ``predict``) acting as a BaseAgent.

This is the seed system's LearningWrapper for decentralized execution: the store policy
trained on :class:`~hmarl_bench.envs.vec.SharedPolicyVecEnv` runs inside
:class:`~hmarl_bench.envs.parallel.HMARLEnvironment`, one agent per store, each on its own
observation. With learning on, it samples from the policy (exploration) and records its
transitions (observation, action, reward from reconciliation) in ``experiences`` for an
outside learner; with learning off, it acts greedily and records nothing. Unlike the
seed's LearningWrapper it has no ``update_learner``: gradient updates belong to SB3, which
trains on the batched VecEnvs (:mod:`hmarl_bench.learn.train`,
:mod:`hmarl_bench.learn.hierarchy`) far faster than agent-by-agent updates inside the
multi-agent env could.

Loading a model unpickles it: load only files you trust.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces

from hmarl_bench.agents.actor import ModelActor, actor_observation, local_dim
from hmarl_bench.agents.base import BaseAgent, Role
from hmarl_bench.agents.continuous import continuous_role, is_continuous
from hmarl_bench.agents.interfaces import make_roles
from hmarl_bench.agents.masks import flat_mask
from hmarl_bench.config import RewardWeights, Scenario, load_scenario
from hmarl_bench.reconciliation import RoleReport
from hmarl_bench.twin.view import DayState

__all__ = ["ModelLoadError", "PolicyAgent", "actor_observation", "load_model", "role_of"]


class ModelLoadError(ValueError):
    """A model file is missing, corrupt, or does not fit the scenario's spaces."""


def role_of(
    agent_id: str, scenario: Scenario, interface: str = "seed", horizon_mask: bool = True
) -> tuple[Role, RewardWeights, tuple[int, ...]]:
    """The role (on the ``interface`` track), reward weights and array index of an agent
    id in a scenario."""
    slots = scenario.slot_names()
    if agent_id.startswith("store_") and agent_id in slots:
        role = make_roles(scenario, interface, horizon_mask)[0]
        return role, scenario.store_reward, (slots.index(agent_id),)
    if agent_id == "warehouse_1":
        role = make_roles(scenario, interface, horizon_mask)[1]
        return role, scenario.warehouse_reward, ()
    if agent_id == "supplier_1":
        role = make_roles(scenario, interface, horizon_mask)[2]
        return role, scenario.supplier_reward, ()
    known = slots if len(slots) <= 12 else [*slots[:3], "...", slots[-1]]
    raise ValueError(
        f"unknown agent id {agent_id!r}; agents are {known + ['warehouse_1', 'supplier_1']}"
    )


def check_spaces(model: Any, role: Role, source: str = "model") -> None:
    """Raise ModelLoadError unless the model's spaces are the role's (for a centralized-
    critic model, its actor's local observation)."""
    obs_space = getattr(model, "observation_space", None)
    act_space = getattr(model, "action_space", None)
    if obs_space is None or act_space is None:
        return  # a bare predictor: nothing to check
    want_obs, want_act = role.observation_space, role.action_space
    shape = tuple(obs_space.shape)
    if local_dim(model) is not None:
        shape = (local_dim(model),)
    if shape != want_obs.shape or act_space != want_act:
        raise ModelLoadError(
            f"{source} expects observations {tuple(obs_space.shape)} and actions {act_space}, "
            f"but this role has observations {want_obs.shape} and {want_act}"
        )


#: The module of a saved model's policy class (``"stable_baselines3.sac.policies"``).
_POLICY_MODULE = re.compile(r'"__module__": "(?:stable_baselines3|sb3_contrib)\.(\w+)\.policies"')
#: Off-policy algorithms whose policy module names them.
_OFF_POLICY = ("dqn", "qrdqn", "sac", "td3", "tqc")


def load_model(path: str | Path, algo: str | None = None) -> Any:
    """Load an SB3 PPO or MaskablePPO model saved by ``model.save`` (a .zip file).

    ``algo`` (``ppo``, ``maskable_ppo``, ``recurrent_ppo``, ``a2c``, ``trpo``, ``dqn``,
    ``qrdqn``, ``sac``, ``td3``, ``tqc``, ``ddpg``) picks the class; without it the file's
    stored policy class decides (PPO for A2C and TRPO files, whose policy class is PPO's,
    and TD3 for DDPG files: pass their algo). Raises :class:`ModelLoadError` for a
    missing or corrupt file.
    """
    from hmarl_bench.learn.train import ALGOS  # local: training pulls in torch

    path = Path(path)
    if not path.is_file() and path.with_suffix(".zip").is_file():
        path = path.with_suffix(".zip")
    if not path.is_file():
        raise ModelLoadError(f"model file not found: {path}")
    if not zipfile.is_zipfile(path):
        raise ModelLoadError(f"{path} is not an SB3 model file (not a zip archive)")
    try:
        with zipfile.ZipFile(path) as archive:
            data = (
                archive.read("data").decode("utf-8", "replace")
                if "data" in archive.namelist()
                else ""
            )
    except (OSError, zipfile.BadZipFile) as err:
        raise ModelLoadError(f"{path} is not a readable SB3 model file: {err}") from err
    # the stored policy class tells MaskablePPO and RecurrentPPO apart; PPO, A2C and TRPO
    # share one (pass ``algo`` for A2C and TRPO); the off-policy algorithms' policies live
    # in their own modules (TD3's serves DDPG too: pass ``algo`` for DDPG)
    stored = "maskable_ppo" if "Maskable" in data else "ppo"
    if "RecurrentActorCriticPolicy" in data:
        stored = "recurrent_ppo"
    found = _POLICY_MODULE.search(data)
    if found and found.group(1) in _OFF_POLICY:
        stored = found.group(1)
    if algo is None:
        algo = stored
    if algo not in ALGOS:
        raise ModelLoadError(f"unknown algo {algo!r}; choose one of {sorted(ALGOS)}")
    shared = {"ppo": ("a2c", "trpo"), "td3": ("ddpg",)}.get(stored, ())
    if data and algo != stored and algo not in shared:
        raise ModelLoadError(
            f"{path} holds a {ALGOS[stored].__name__} model, not {ALGOS[algo].__name__}; "
            f"pass --algo {stored}"
        )
    try:
        return ALGOS[algo].load(path, device="cpu")
    except Exception as err:  # corrupt archives fail in many ways inside SB3/torch
        raise ModelLoadError(
            f"could not load {path} as {algo}: {type(err).__name__}: {err}"
        ) from err


class PolicyAgent(BaseAgent):
    """An agent whose actions come from ``model.predict`` (SB3 PPO / MaskablePPO or alike).

    ``interface`` is the track the model was trained on (``seed``, ``planner`` or
    ``view``). A centralized-critic model acts on the agent's local observation alone
    (decentralized execution): :func:`actor_observation`. A model with ``Box`` actions
    (SAC, TD3, TQC, DDPG) sets continuous order-up-to levels through its role's continuous
    head (:mod:`hmarl_bench.agents.continuous`): its actions are float levels in [-1, 1].
    """

    def __init__(
        self,
        model: Any,
        scenario: Scenario | str = "default",
        agent_id: str = "store_1",
        learning: bool = False,
        interface: str = "seed",
        horizon_mask: bool = True,
    ) -> None:
        scenario = load_scenario(scenario)
        role, weights, index = role_of(agent_id, scenario, interface, horizon_mask)
        if is_continuous(model):  # SAC, TD3, ...: levels on a line (agents.continuous)
            try:
                role = continuous_role(role)
            except ValueError as err:
                raise ModelLoadError(f"the model for {agent_id} acts on a Box: {err}") from None
        check_spaces(model, role, f"the model for {agent_id}")
        super().__init__(agent_id, role, weights, index)
        self.model = model
        self.interface = interface
        self.learning = learning
        self.maskable = "Maskable" in type(model).__name__
        self.actor = ModelActor(model)  # a recurrent model's LSTM state, day to day
        self.experiences: list[dict[str, Any]] = []
        self._last: tuple[np.ndarray, int] | None = None

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        scenario: Scenario | str = "default",
        agent_id: str = "store_1",
        algo: str | None = None,
        learning: bool = False,
        interface: str = "seed",
    ) -> PolicyAgent:
        """Load a saved model (unpickling: trusted files only) and wrap it."""
        model = load_model(path, algo)
        return cls(model, scenario, agent_id, learning, interface)

    def enable_learning(self) -> None:
        self.learning = True

    def disable_learning(self) -> None:
        self.learning = False

    def _predict(
        self, obs: np.ndarray, masks: np.ndarray | None, day: int | None = None
    ) -> np.ndarray:
        kwargs: dict[str, Any] = {"deterministic": not self.learning}
        if self.maskable and masks is not None:
            kwargs["action_masks"] = masks
        obs = np.asarray(obs)
        rows = obs.reshape(-1, obs.shape[-1]) if self.actor.recurrent else obs
        actions = self.actor.predict(rows, -1 if day is None else day, **kwargs)
        if self.continuous:  # levels in [-1, 1] (agents.continuous)
            return np.asarray(actions, dtype=np.float64)
        return np.asarray(actions, dtype=np.int64)

    @property
    def continuous(self) -> bool:
        """Whether the agent sets continuous order-up-to levels (a ``Box`` action)."""
        return isinstance(self.role.action_space, spaces.Box)

    def act(
        self,
        observation: np.ndarray,
        action_mask: np.ndarray | None = None,
        state: DayState | None = None,
    ) -> int | np.ndarray:
        masks = None if action_mask is None else flat_mask(action_mask)  # int8 rows -> flat
        day = None if state is None else int(state.day)
        prediction = self._predict(observation, masks, day).reshape(-1)
        if self.continuous:  # an array of levels, one per SKU for the warehouse
            action = prediction
        else:
            action = int(prediction[0]) if prediction.size == 1 else prediction
        if self.learning:
            self._last = (np.array(observation, copy=True), action)
        return action

    def act_batch(
        self, observations: np.ndarray, action_masks: np.ndarray, state: DayState
    ) -> np.ndarray:
        actions = self._predict(observations, action_masks, int(state.day))
        if isinstance(self.role.action_space, spaces.MultiDiscrete | spaces.Box):  # (B, K)
            return actions.reshape(len(observations), -1)
        return actions.reshape(len(observations))

    def receive_feedback(self, report: RoleReport | dict[str, Any], copy: int = 0) -> float:
        value = super().receive_feedback(report, copy)
        if self.learning and self._last is not None:
            obs, action = self._last
            self.experiences.append({"observation": obs, "action": action, "reward": value})
            self._last = None
        return value

    def reset(self) -> None:
        super().reset()
        self._last = None
