"""Training the shared store policy with SB3 PPO or sb3-contrib MaskablePPO.

Hyperparameters live in ``experiments/hyperparams/<algo>.toml`` (the seed's values as
defaults); :func:`train_store_policy` builds a :class:`SharedPolicyVecEnv`, trains, and
selects the best model on *validation* seeds by the business KPI (mean total cost), which
is what the benchmark reports; final evaluation seeds are kept apart by the caller.
"""

from __future__ import annotations

import dataclasses
import inspect
import io
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from gymnasium import spaces as gym_spaces
from sb3_contrib import QRDQN, TQC, TRPO, MaskablePPO, RecurrentPPO
from stable_baselines3 import A2C, DDPG, DQN, PPO, SAC, TD3
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.noise import NormalActionNoise
from stable_baselines3.common.vec_env import VecMonitor, VecNormalize

from hmarl_bench._atomic import save_atomic, write_atomic
from hmarl_bench.agents.continuous import model_controller
from hmarl_bench.agents.interfaces import make_roles
from hmarl_bench.config import RewardWeights, Scenario, load_scenario
from hmarl_bench.envs.vec import SharedPolicyVecEnv
from hmarl_bench.evaluation import RoleController, evaluate
from hmarl_bench.learn.checkpoints import (
    Budget,
    Resume,
    RolloutCheckpoints,
    StopFlag,
    check_batch_size,
    rollout_budget,
)
from hmarl_bench.learn.critic import CentralCriticPolicy, MaskableCentralCriticPolicy
from hmarl_bench.learn.hyperparam_keys import (
    ALONE_ALGOS,
    CONTINUOUS_ALGOS,
    HYPERPARAM_DIR,
    HYPERPARAM_KEYS,
    MODEL_KEYS,
    check_algo,
    check_role_algo,
    env_options,
    hyperparams_file,
    load_hyperparams,
)

__all__ = [
    "ALGOS",
    "HYPERPARAM_DIR",
    "HYPERPARAM_KEYS",
    "KPIEvalCallback",
    "attach_env",
    "env_options",
    "fit",
    "hyperparams_file",
    "prepare_model",
    "training_params",
    "training_weights",
    "TrainResult",
    "load_hyperparams",
    "make_model",
    "train_store_policy",
]

ALGOS: dict[str, type] = {
    "ppo": PPO,
    "maskable_ppo": MaskablePPO,
    "recurrent_ppo": RecurrentPPO,
    "a2c": A2C,
    "trpo": TRPO,
    "dqn": DQN,
    "qrdqn": QRDQN,
    "sac": SAC,
    "td3": TD3,
    "tqc": TQC,
    "ddpg": DDPG,
}
#: The policy class name of each algo (an LSTM actor-critic for RecurrentPPO).
POLICIES: dict[str, str] = {"recurrent_ppo": "MlpLstmPolicy"}
#: The centralized-critic policy class of each algo (:mod:`hmarl_bench.learn.critic`).
CRITIC_POLICIES: dict[str, type] = {
    "ppo": CentralCriticPolicy,
    "maskable_ppo": MaskableCentralCriticPolicy,
}


def make_model(
    algo: str,
    env: Any,
    seed: int,
    hyperparams: dict[str, Any],
    tensorboard_log: str | None = None,
    local_dim: int | None = None,
) -> Any:
    """An SB3 model for ``env`` on the CPU with the given hyperparameters.

    With ``central_critic`` in the hyperparams the policy is the algo's centralized-critic
    policy, whose actor reads the first ``local_dim`` observation values (the agent's own)
    and whose critic reads them all (:mod:`hmarl_bench.learn.critic`). Value-based and
    continuous-action algorithms get one list of layers (``net_arch``) for their Q-networks
    and actor; ``action_noise_std`` > 0 adds SB3's Gaussian action noise (one draw per VecEnv
    slot) to a continuous-action algorithm's exploration.
    """
    check_algo(algo)
    accepted = set(inspect.signature(ALGOS[algo].__init__).parameters)
    kwargs = {k: hyperparams[k] for k in MODEL_KEYS if k in hyperparams}
    unfit = sorted(set(kwargs) - accepted)
    if unfit:
        raise ValueError(f"hyperparameters {unfit} do not apply to {algo}; remove them")
    net_arch = list(hyperparams.get("net_arch", [64, 64]))
    policy: Any = POLICIES.get(algo, "MlpPolicy")
    policy_kwargs: dict[str, Any] = {"net_arch": {"pi": net_arch, "vf": net_arch}}
    if algo in ALONE_ALGOS:  # a Q-network: one list of layers, one discrete action
        policy_kwargs = {"net_arch": net_arch}
        if not isinstance(env.action_space, gym_spaces.Discrete):
            raise ValueError(
                f"{algo} needs one discrete action per slot, but this role acts on "
                f"{env.action_space} (one action per SKU); choose ppo or maskable_ppo"
            )
    noise = float(hyperparams.get("action_noise_std", 0.0))
    if algo in CONTINUOUS_ALGOS:  # an actor and Q-networks, the same layers each
        policy_kwargs = {"net_arch": net_arch}
        if not isinstance(env.action_space, gym_spaces.Box):
            raise ValueError(
                f"{algo} needs continuous actions, but this env acts on {env.action_space}; "
                "build it with continuous=True (hmarl_bench.agents.continuous)"
            )
        if noise > 0:
            size = int(np.prod(env.action_space.shape))
            kwargs["action_noise"] = NormalActionNoise(np.zeros(size), noise * np.ones(size))
    elif "action_noise_std" in hyperparams:
        raise ValueError(
            f"hyperparameter 'action_noise_std' applies to {list(CONTINUOUS_ALGOS)} only"
        )
    if "lstm_hidden_size" in hyperparams:
        if algo != "recurrent_ppo":
            raise ValueError("hyperparameter 'lstm_hidden_size' applies to recurrent_ppo only")
        policy_kwargs["lstm_hidden_size"] = int(hyperparams["lstm_hidden_size"])
    if hyperparams.get("central_critic", False):
        if algo not in CRITIC_POLICIES:
            raise ValueError(
                f"a centralized critic is available for {sorted(CRITIC_POLICIES)}, not {algo}"
            )
        if local_dim is None:
            raise ValueError("a centralized critic needs the actor's local_dim")
        policy, policy_kwargs["local_dim"] = CRITIC_POLICIES[algo], int(local_dim)
    return ALGOS[algo](
        policy,
        env,
        seed=seed,
        device="cpu",
        verbose=0,
        tensorboard_log=tensorboard_log,
        policy_kwargs=policy_kwargs,
        **kwargs,
    )


def attach_env(model: Any, venv: Any) -> Any:
    """``model`` set to train on ``venv``, to continue a loaded model's training.

    SB3's ``set_env`` refuses an env with another number of slots (another ``n_envs`` or
    store count); then the model is rebuilt for ``venv`` from its saved parameters, as
    ``Algo.load(path, env=venv)`` does (weights and optimizer state are kept).
    """
    if model.n_envs == venv.num_envs:
        model.set_env(venv)
        return model
    buffer = io.BytesIO()
    model.save(buffer)
    buffer.seek(0)
    return type(model).load(buffer, env=venv, device="cpu")


class KPIEvalCallback(BaseCallback):
    """Every ``eval_freq`` steps: score the policy on validation seeds by the business KPIs.

    Logs ``eval/mean_total_cost`` and ``eval/mean_store_reward`` (TensorBoard), keeps the
    model with the lowest mean total cost at ``best_model_path``, and records the learning
    curve, rewritten atomically at ``curve_path`` after each point (so a killed run keeps
    the points it made). ``on_eval(timesteps, cost)`` is called after each point; ``False`` stops
    training (a search's pruner). It evaluates with :func:`hmarl_bench.evaluation.evaluate`
    (the warehouse and supplier on their rules, all seeds as one batch, masks for maskable
    models) instead of SB3's EvalCallback so that selection uses the benchmark's own cost,
    not the reward.
    """

    def __init__(
        self,
        scenario: Scenario,
        seeds: Sequence[int],
        eval_freq: int,
        best_model_path: Path | None = None,
        interface: str = "seed",
        horizon_mask: bool = True,
        on_eval: Callable[[int, float], bool] | None = None,
        curve_path: Path | None = None,
    ) -> None:
        super().__init__()
        self.on_eval = on_eval
        self.curve_path = curve_path
        self.halted = False  # on_eval said stop
        self.scenario = scenario
        self.interface = interface
        self.horizon_mask = horizon_mask
        self.seeds = list(seeds)
        self.eval_freq = eval_freq
        self.best_model_path = best_model_path
        self.best_model_bytes: bytes | None = None  # when there is no path to save to
        self.best_cost = np.inf
        self.rows: list[dict[str, float]] = []
        self.stop: StopFlag | None = None  # set by fit: no evaluations once stopping
        self._next = 0
        self._resumed = False

    def restore(self, rows: Sequence[dict[str, Any]], steps: int) -> None:
        """Continue an interrupted training at ``steps``: its curve so far (rows up to
        ``steps``; the best of them is the model kept at ``best_model_path``)."""
        self.rows = [dict(r) for r in rows if r["timesteps"] <= steps]
        costs = [r["mean_total_cost"] for r in self.rows]
        self.best_cost = min(costs) if costs else np.inf
        self._next = (steps // self.eval_freq + 1) * self.eval_freq
        self._resumed = True

    def _stopping(self) -> bool:
        return self.stop is not None and self.stop.is_set

    def controller(self) -> RoleController:
        """The chain run on the validation seeds: the model on the stores, rules elsewhere
        (a continuous-action model through the continuous head: :func:`model_controller`).

        Learners of other roles (:mod:`hmarl_bench.learn.hierarchy`) put the model elsewhere.
        """
        return model_controller(
            self.model, interface=self.interface, horizon_mask=self.horizon_mask
        )

    def evaluate_now(self) -> None:
        frame = evaluate(self.scenario, self.controller(), self.seeds)
        cost = float(frame["total_cost"].mean())
        row = {
            "timesteps": self.num_timesteps,
            "mean_total_cost": cost,
            "mean_reward": float(frame["store_reward"].mean()),
            "fill_rate": float(frame["fill_rate"].mean()),
        }
        self.rows.append(row)
        if self.curve_path is not None:  # after each point, atomically: a kill keeps it
            write_atomic(self.curve_path, pd.DataFrame(self.rows).to_csv(index=False))
        self.logger.record("eval/mean_total_cost", cost)
        self.logger.record("eval/mean_store_reward", row["mean_reward"])
        self.logger.record("eval/fill_rate", row["fill_rate"])
        if self.on_eval is not None and not self.on_eval(self.num_timesteps, cost):
            self.halted = True  # e.g. a hyperparameter search prunes this trial
        if cost < self.best_cost:
            self.best_cost = cost
            if self.best_model_path is not None:
                save_atomic(self.best_model_path, self.model.save)
            else:
                buffer = io.BytesIO()
                self.model.save(buffer)
                self.best_model_bytes = buffer.getvalue()

    def _on_training_start(self) -> None:
        if self._resumed:  # evaluate the checkpoint unless its row is already there
            if not self.rows or self.rows[-1]["timesteps"] != self.num_timesteps:
                self.evaluate_now()
            return
        self.evaluate_now()
        self._next = self.eval_freq

    def _on_step(self) -> bool:
        if self.num_timesteps >= self._next and not self._stopping():
            self.evaluate_now()
            self._next += self.eval_freq
        return not self.halted

    def _on_training_end(self) -> None:
        if self._stopping() or self.halted:
            return
        if not self.rows or self.rows[-1]["timesteps"] != self.num_timesteps:
            self.evaluate_now()


@dataclass
class TrainResult:
    """A trained store policy and how it got there."""

    model: Any  # the selected model (lowest validation cost), or the final one
    final_model: Any
    learning_curve: pd.DataFrame = field(default_factory=pd.DataFrame)
    seconds: float = 0.0
    timesteps: int = 0  # agent-steps trained (at the last completed rollout if interrupted)
    hyperparams: dict[str, Any] = field(default_factory=dict)
    budget: Budget | None = None  # asked and trained agent-steps
    interrupted: bool = False  # stopped by Ctrl-C before the budget was trained


def train_store_policy(
    scenario: Scenario | str,
    algo: str = "ppo",
    timesteps: int | None = None,
    seed: int = 0,
    n_envs: int | None = None,
    hyperparams: dict[str, Any] | None = None,
    log_dir: Path | None = None,
    eval_seeds: Sequence[int] = (),
    eval_freq: int = 0,
    progress_bar: bool = False,
    checkpoint_freq: int = 0,
    initial_model: Any = None,
    stop: StopFlag | None = None,
    resume: Resume | None = None,
) -> TrainResult:
    """Train one store policy shared by every store (CTDE) and return it.

    ``hyperparams`` overrides the algo's file; ``eval_seeds`` are validation seeds used for
    the learning curve and model selection every ``eval_freq`` environment steps (0: only at
    the start and the end). A ``reward`` table in the hyperparams replaces some of the
    scenario's store reward weights for training only. ``log_dir`` receives TensorBoard
    logs, checkpoints, the best model and the learning curve so far (``learning_curve.csv``,
    rewritten after each point). Training is on the CPU and, for a given seed, deterministic.
    ``initial_model`` (a loaded model of this algo) continues training
    instead of starting afresh. The budget is rounded up to whole rollouts
    (:class:`~hmarl_bench.learn.checkpoints.Budget`). ``checkpoint_freq`` agent-steps
    between checkpoints in ``log_dir/checkpoints``; ``stop`` (set by Ctrl-C) ends training
    early with a checkpoint and ``interrupted`` set; ``resume`` continues from one.
    """
    scenario = load_scenario(scenario)
    check_role_algo("stores", algo)
    interface = (hyperparams or {}).get("interface", "seed")
    path = hyperparams_file("stores", algo, interface)
    params = training_params(algo, hyperparams, timesteps, n_envs, path)
    timesteps, n_envs = params["timesteps"], params["n_envs"]
    weights = training_weights(scenario.store_reward, params)
    options = env_options(params, algo)  # the continuous head for SAC, TD3, TQC, DDPG
    venv = SharedPolicyVecEnv(scenario, n_envs=n_envs, seed=seed, reward_weights=weights, **options)
    log_dir = Path(log_dir) if log_dir is not None else None
    local = make_roles(scenario, options["interface"])[0].observation_space.shape[0]
    model, venv = prepare_model(algo, venv, seed, params, log_dir, initial_model, local, resume)
    callbacks: list[BaseCallback] = []
    evaluator = None
    if eval_seeds:
        best_path = log_dir / "best_model.zip" if log_dir else None
        freq = eval_freq if eval_freq > 0 else timesteps + 1
        evaluator = KPIEvalCallback(
            scenario,
            eval_seeds,
            freq,
            best_path,
            options["interface"],
            options["horizon_mask"],
            curve_path=log_dir / "learning_curve.csv" if log_dir else None,
        )
        callbacks.append(evaluator)
    folder = log_dir / "checkpoints" if log_dir is not None else None
    callbacks.append(RolloutCheckpoints(folder, algo, checkpoint_freq, stop))
    return fit(model, algo, timesteps, params, callbacks, evaluator, progress_bar, algo, resume)


def training_params(
    algo: str,
    hyperparams: dict[str, Any] | None,
    timesteps: int | None,
    n_envs: int | None,
    path: Path | None = None,
) -> dict[str, Any]:
    """The hyperparams of a training run (the file at ``path``, default the algo's, with
    ``hyperparams`` over it), with its ``timesteps`` and ``n_envs`` resolved (an argument
    given wins over the file). Training uses one torch thread: MLP policies on the CPU run
    no faster on more, and benchmark cells share the cores."""
    params = load_hyperparams(algo, hyperparams, path)
    timesteps = int(params["timesteps"] if timesteps is None else timesteps)
    if timesteps <= 0:
        raise ValueError(f"timesteps must be > 0, got {timesteps}")
    params["n_envs"] = int(params["n_envs"] if n_envs is None else n_envs)
    params["timesteps"] = timesteps
    torch.set_num_threads(1)
    return params


def training_weights(weights: RewardWeights, params: dict[str, Any]) -> RewardWeights:
    """A role's reward weights with the hyperparams' ``reward`` table over them (the
    learner's training signal; the benchmark still scores the scenario's own weights)."""
    if params.get("reward"):
        return dataclasses.replace(weights, **params["reward"])
    return weights


def prepare_model(
    algo: str,
    env: Any,
    seed: int,
    params: dict[str, Any],
    log_dir: Path | None,
    initial_model: Any = None,
    local_dim: int | None = None,
    resume: Resume | None = None,
) -> tuple[Any, Any]:
    """The model to train on ``env`` and the env as wrapped for it: ``VecMonitor`` (episode
    statistics), then ``VecNormalize`` on rewards when the hyperparams ask for it; a new
    model, ``initial_model`` continued (:func:`attach_env`), or a checkpoint resumed
    (its weights, optimizer, step count and reward statistics; new episodes from
    ``resume.seed``). TensorBoard logs go to ``log_dir/tb``. A minibatch larger than a
    rollout is refused (ValueError)."""
    check_batch_size(params, env.num_envs)
    venv = VecMonitor(env)
    if params.get("normalize_reward", False):
        stats = resume.checkpoint.vecnormalize if resume is not None else None
        if stats is not None:
            venv = VecNormalize.load(str(stats), venv)
        else:
            venv = VecNormalize(venv, norm_obs=False, norm_reward=True, gamma=params["gamma"])
    tb_log = str(log_dir / "tb") if log_dir else None
    if resume is not None:
        model = ALGOS[algo].load(resume.checkpoint.model, env=venv, device="cpu")
        model.num_timesteps = resume.checkpoint.steps
        model.set_random_seed(resume.seed)
        model.tensorboard_log = tb_log
    elif initial_model is not None:
        model = attach_env(initial_model, venv)
        model.tensorboard_log = tb_log
    else:
        model = make_model(algo, venv, seed, params, tb_log, local_dim)
    return model, venv


def fit(
    model: Any,
    algo: str,
    timesteps: int,
    params: dict[str, Any],
    callbacks: list[BaseCallback],
    evaluator: KPIEvalCallback | None,
    progress_bar: bool,
    tb_log_name: str,
    resume: Resume | None = None,
) -> TrainResult:
    """Train for ``timesteps`` rounded up to whole rollouts (from a resumed checkpoint: the
    rest of them), then return the model the evaluator kept (the lowest validation cost),
    or the final one without an evaluator. A :class:`RolloutCheckpoints` among
    ``callbacks`` may stop training early (Ctrl-C): the result is then ``interrupted``, at
    the last completed rollout, with the learning curve up to it."""
    budget = rollout_budget(timesteps, params, model.n_envs)
    done = resume.checkpoint.steps if resume is not None else 0
    stopper = next((c for c in callbacks if isinstance(c, RolloutCheckpoints)), None)
    if evaluator is not None:
        evaluator.stop = stopper.stop if stopper is not None else None
        if resume is not None:
            evaluator.restore(resume.curve, done)
    start = time.perf_counter()
    if budget.trained > done:
        model.learn(
            budget.trained - done,
            callback=CallbackList(callbacks),
            progress_bar=progress_bar,
            tb_log_name=tb_log_name,
            reset_num_timesteps=done == 0,
        )
    seconds = time.perf_counter() - start
    interrupted = stopper is not None and stopper.interrupted
    steps = stopper.steps_done if interrupted else int(model.num_timesteps)
    selected = model
    if evaluator is not None:
        if evaluator.best_model_path is not None and evaluator.best_model_path.is_file():
            selected = ALGOS[algo].load(evaluator.best_model_path, device="cpu")
        elif evaluator.best_model_bytes is not None:
            selected = ALGOS[algo].load(io.BytesIO(evaluator.best_model_bytes), device="cpu")
    rows = evaluator.rows if evaluator else []
    curve = pd.DataFrame([r for r in rows if r["timesteps"] <= steps])
    return TrainResult(selected, model, curve, seconds, steps, params, budget, interrupted)
