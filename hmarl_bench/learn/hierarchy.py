"""Hierarchical learning: the stores, the warehouse and the supplier as learners.

A :class:`Learner` is one role that can learn: its VecEnv (the stores'
:class:`~hmarl_bench.envs.vec.SharedPolicyVecEnv`, or one slot per copy for the warehouse
and the supplier, :mod:`hmarl_bench.envs.upper_vec`), its hyperparameters file and where its
model sits in the chain. :class:`Policies` holds the current policy of every role (a
trained model, or ``None`` for the role's rule). :func:`train_learner` trains one learner
with the other roles fixed at their current policies and selects the model with the lowest
*system* total cost on validation seeds, as the store learner does: a role's own reward is
only its training signal, the chain's cost is what counts. :mod:`hmarl_bench.learn.rounds`
alternates learners (iterated best response).

The hyperparameters of the store learner are ``experiments/hyperparams/<algo>.toml``;
those of an upper role are ``<role>_<algo>.toml`` beside them (same keys).
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecEnv

from hmarl_bench.agents.base import Role
from hmarl_bench.agents.continuous import model_controller, model_stores
from hmarl_bench.agents.interfaces import make_roles
from hmarl_bench.agents.policy import PolicyAgent
from hmarl_bench.config import RewardWeights, Scenario, load_scenario
from hmarl_bench.envs.upper_vec import SupplierVecEnv, WarehouseVecEnv
from hmarl_bench.envs.vec import SharedPolicyVecEnv
from hmarl_bench.evaluation import RoleController, evaluate
from hmarl_bench.learn.budget import role_slots
from hmarl_bench.learn.checkpoints import Resume, RolloutCheckpoints, StopFlag
from hmarl_bench.learn.hyperparam_keys import check_role_algo, learner_names
from hmarl_bench.learn.system_reward import system_reward
from hmarl_bench.learn.train import (
    KPIEvalCallback,
    TrainResult,
    env_options,
    fit,
    hyperparams_file,
    prepare_model,
    training_params,
    training_weights,
)

__all__ = [
    "LEARNERS",
    "Learner",
    "Policies",
    "StoresLearner",
    "SupplierLearner",
    "WarehouseLearner",
    "evaluate_policies",
    "parse_learners",
    "system_reward",
    "train_learner",
]


@dataclass(frozen=True)
class Policies:
    """The policy of every role: a trained SB3 model, or ``None`` for the role's rule.

    Upper roles run through :class:`~hmarl_bench.agents.policy.PolicyAgent` (decentralized
    execution, as inside :class:`~hmarl_bench.envs.parallel.HMARLEnvironment`); the stores
    through :class:`~hmarl_bench.evaluation.ModelStores`, one shared policy for all.
    """

    stores: Any = None
    warehouse: Any = None
    supplier: Any = None
    #: The track of the trained models (``seed`` or ``planner``); roles on rules keep the
    #: seed's rules.
    interface: str = "seed"
    horizon_mask: bool = True

    def agent(self, scenario: Scenario, role: str) -> PolicyAgent | None:
        model = getattr(self, role)
        if model is None:
            return None
        return PolicyAgent(
            model, scenario, f"{role}_1", interface=self.interface, horizon_mask=self.horizon_mask
        )

    def controller(self, scenario: Scenario) -> RoleController:
        """The whole chain under these policies, for :func:`~hmarl_bench.evaluation.evaluate`
        (continuous-action models through the continuous head: :func:`model_controller`)."""
        upper = {role: self.agent(scenario, role) for role in ("warehouse", "supplier")}
        warehouse, supplier = (None if a is None else a.act_batch for a in upper.values())
        heads = tuple(role for role, a in upper.items() if a is not None and a.continuous)
        return model_controller(
            self.stores, warehouse, supplier, self.interface, self.horizon_mask, heads
        )


class Learner(ABC):
    """A role that can learn: how to build its training env, and where its model goes."""

    #: The role's name in ``--learners`` and in :class:`Policies`.
    name: ClassVar[str]

    @abstractmethod
    def make_env(
        self,
        scenario: Scenario,
        n_envs: int,
        seed: int,
        policies: Policies,
        weights: RewardWeights,
        options: dict[str, Any] | None = None,
    ) -> VecEnv:
        """The learner's training VecEnv, the other roles on ``policies``; ``options`` are
        the env's track, team weight and critic options (:func:`env_options`)."""

    @abstractmethod
    def make_role(self, scenario: Scenario, interface: str = "seed") -> Role:
        """The role's observations and actions (the model's spaces must match them)."""

    @abstractmethod
    def default_weights(self, scenario: Scenario) -> RewardWeights:
        """The scenario's reward weights of this role."""

    def hyperparams_path(self, algo: str, interface: str = "seed") -> Path:
        return hyperparams_file(self.name, algo, interface)

    def slots(self, scenario: Scenario, n_envs: int) -> int:
        """VecEnv slots of ``n_envs`` copies of the chain (one per copy for an upper role,
        one per store slot for the stores: :func:`~hmarl_bench.learn.budget.role_slots`)."""
        return role_slots(self.name, scenario.n_slots, n_envs)

    def with_model(self, policies: Policies, model: Any) -> Policies:
        """``policies`` with this role's policy replaced by ``model``."""
        return dataclasses.replace(policies, **{self.name: model})

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class StoresLearner(Learner):
    """The shared store policy (CTDE): one slot per store of every copy."""

    name = "stores"

    def make_env(self, scenario, n_envs, seed, policies, weights, options=None) -> VecEnv:
        return SharedPolicyVecEnv(
            scenario,
            n_envs=n_envs,
            seed=seed,
            warehouse=policies.agent(scenario, "warehouse"),
            supplier=policies.agent(scenario, "supplier"),
            reward_weights=weights,
            **(options or {}),
        )

    def make_role(self, scenario: Scenario, interface: str = "seed") -> Role:
        return make_roles(scenario, interface)[0]

    def default_weights(self, scenario: Scenario) -> RewardWeights:
        return scenario.store_reward


class _UpperLearner(Learner):
    """The warehouse or the supplier: one slot per copy of the chain."""

    env_class: ClassVar[type[WarehouseVecEnv] | type[SupplierVecEnv]]

    def make_env(self, scenario, n_envs, seed, policies, weights, options=None) -> VecEnv:
        others = {
            role: policies.agent(scenario, role)
            for role in ("warehouse", "supplier")
            if role != self.name
        }
        stores = None if policies.stores is None else model_stores(policies.stores)
        return self.env_class(
            scenario,
            n_envs=n_envs,
            seed=seed,
            stores=stores,
            reward_weights=weights,
            **others,
            **(options or {}),
        )

    def make_role(self, scenario: Scenario, interface: str = "seed") -> Role:
        return self.env_class.make_role(scenario, interface)

    def default_weights(self, scenario: Scenario) -> RewardWeights:
        return self.env_class.default_weights(scenario)


class WarehouseLearner(_UpperLearner):
    """The warehouse: 6 aggregated observations, order 0 / 500 / 1000 / 1500 units."""

    name = "warehouse"
    env_class = WarehouseVecEnv


class SupplierLearner(_UpperLearner):
    """The supplier: 3 observations, fulfil 100% / 80% / delay."""

    name = "supplier"
    env_class = SupplierVecEnv


#: The learners by name, in the order a round trains them (down the chain first: the
#: stores' demand on the warehouse is what the warehouse must answer).
LEARNERS: dict[str, Learner] = {
    learner.name: learner for learner in (StoresLearner(), WarehouseLearner(), SupplierLearner())
}


def parse_learners(text: str | Sequence[str]) -> tuple[Learner, ...]:
    """``"stores,warehouse"`` (or ``"stores+warehouse"``, or a list) -> learners in round
    order. Raises ``ValueError`` for an empty, unknown or repeated name
    (:func:`~hmarl_bench.learn.hyperparam_keys.learner_names`)."""
    return tuple(LEARNERS[name] for name in learner_names(text))


# --------------------------------------------------------------------------- training


class _PoliciesEvalCallback(KPIEvalCallback):
    """Model selection by the system's validation total cost, the other roles fixed."""

    def __init__(self, learner: Learner, policies: Policies, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.learner = learner
        self.policies = policies

    def controller(self) -> RoleController:
        return self.learner.with_model(self.policies, self.model).controller(self.scenario)


def train_learner(
    learner: Learner,
    scenario: Scenario | str,
    algo: str = "ppo",
    policies: Policies | None = None,
    timesteps: int | None = None,
    seed: int = 0,
    n_envs: int | None = None,
    hyperparams: dict[str, Any] | None = None,
    log_dir: Path | None = None,
    eval_seeds: Sequence[int] = (),
    eval_freq: int = 0,
    progress_bar: bool = False,
    initial_model: Any = None,
    on_eval: Any = None,
    stop: StopFlag | None = None,
    resume: Resume | None = None,
) -> TrainResult:
    """Train ``learner`` with the other roles on ``policies`` (default: all on rules).

    The steps are :func:`~hmarl_bench.learn.train.train_store_policy`'s (same env seeding, model,
    reward normalization and selection), so the stores with every other role on its rule
    train to the very model ``train_store_policy`` gives for the same seed. The reward is
    the role's reconciliation reward with the scenario's weights, some replaced by the
    ``reward`` table of the learner's hyperparams file. ``eval_seeds`` select the model
    with the lowest validation total cost of the whole chain. ``initial_model`` continues
    training a model (the previous round's) instead of starting afresh. Budgets, ``stop``
    and ``resume`` are :func:`~hmarl_bench.learn.train.train_store_policy`'s; checkpoints
    go to ``log_dir/checkpoints`` every quarter of the budget.
    """
    scenario = load_scenario(scenario)
    check_role_algo(learner.name, algo)
    interface = (hyperparams or {}).get("interface", "seed")
    policies = policies or Policies(interface=interface)
    path = learner.hyperparams_path(algo, interface)
    params = training_params(algo, hyperparams, timesteps, n_envs, path)
    timesteps, n_envs = params["timesteps"], params["n_envs"]
    weights = training_weights(learner.default_weights(scenario), params)
    options = env_options(params, algo)  # the continuous head for SAC, TD3, TQC, DDPG
    policies = dataclasses.replace(
        policies, interface=options["interface"], horizon_mask=options["horizon_mask"]
    )
    env = learner.make_env(scenario, n_envs, seed, policies, weights, options)
    log_dir = Path(log_dir) if log_dir is not None else None
    local = learner.make_role(scenario, options["interface"]).observation_space.shape[0]
    model, venv = prepare_model(algo, env, seed, params, log_dir, initial_model, local, resume)
    callbacks: list[BaseCallback] = []
    evaluator = None
    if eval_seeds:
        best_path = log_dir / "best_model.zip" if log_dir else None
        freq = eval_freq if eval_freq > 0 else timesteps + 1
        evaluator = _PoliciesEvalCallback(
            learner, policies, scenario, eval_seeds, freq, best_path, on_eval=on_eval
        )
        callbacks.append(evaluator)
    folder = log_dir / "checkpoints" if log_dir is not None else None
    callbacks.append(RolloutCheckpoints(folder, algo, max(timesteps // 4, 1), stop))
    name = f"{learner.name}_{algo}"
    return fit(model, algo, timesteps, params, callbacks, evaluator, progress_bar, name, resume)


# --------------------------------------------------------------------------- evaluation


def evaluate_policies(
    scenario: Scenario | str, policies: Policies, seeds: Sequence[int]
) -> pd.DataFrame:
    """One episode per seed of the chain under ``policies``: the business KPIs of
    :func:`~hmarl_bench.evaluation.evaluate` plus ``system_reward``, one row per seed."""
    scenario = load_scenario(scenario)
    frame = evaluate(scenario, policies.controller(scenario), seeds, keep_reports=True)
    frame["system_reward"] = system_reward(frame.attrs.pop("reports"), scenario)
    return frame
