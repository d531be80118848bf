"""The store learner as a :class:`~hmarl_bench.learn.api.Learner`: one SB3 policy shared
by every store (:func:`~hmarl_bench.learn.train.train_store_policy`), the warehouse and the
supplier on their rules.

Registered as ``stores`` (:mod:`hmarl_bench.learn.registry`); a benchmark's ``[[algos]]``
entry without ``learners`` (or with ``learners = "stores"``) runs it. ``task.algo`` is
``ppo`` or ``maskable_ppo``; ``task.hyperparams`` override ``experiments/hyperparams/<algo>.toml``
(with ``interface = "planner"``: ``planner_stores_<algo>.toml``); the model with the lowest
mean total cost on the validation seeds is kept.

``info``: ``train_seconds``, ``timesteps`` (trained, in whole rollouts) and
``timesteps_requested``. Learning curve: one row per validation evaluation
(``timesteps``, ``mean_total_cost``, ``mean_reward``, ``fill_rate``). Artifact:
``model.zip``. Transfer: the same model on another scenario's stores.
"""

from __future__ import annotations

from hmarl_bench.agents.continuous import model_controller
from hmarl_bench.learn.api import LearnerTask, Trained
from hmarl_bench.learn.hierarchy import Policies, StoresLearner
from hmarl_bench.learn.hyperparam_keys import track_name
from hmarl_bench.learn.sb3_trained import check_role_hyperparams, model_bytes, policies_transfer
from hmarl_bench.learn.train import train_store_policy

__all__ = ["LEARNER", "StoreLearner"]


class StoreLearner:
    """The shared store policy (module docstring)."""

    def check(self, task: LearnerTask) -> None:
        """Refuse bad hyperparameter overrides, or a minibatch larger than a rollout on
        ``task.scenario``, before any cell runs (ValueError)."""
        check_role_hyperparams(task, [StoresLearner()])

    def train(self, task: LearnerTask) -> Trained:
        hyperparams = dict(task.hyperparams)
        trained = train_store_policy(
            task.scenario,
            algo=task.algo,
            timesteps=task.timesteps or None,
            seed=task.training_seed,
            n_envs=task.n_envs,
            hyperparams=hyperparams or None,
            eval_seeds=task.validation_seeds,
            eval_freq=task.eval_freq,
            progress_bar=False,
        )
        interface = track_name(trained.hyperparams, task.algo)  # as trained ("view:k")
        return Trained(
            controller=model_controller(trained.model, interface=interface),
            info={
                "train_seconds": float(trained.seconds),
                "timesteps": int(trained.timesteps),  # whole rollouts
                "timesteps_requested": int(trained.budget.requested),
            },
            learning_curve=trained.learning_curve,
            artifacts={"model.zip": model_bytes(trained.model)},
            transfer=policies_transfer(Policies(stores=trained.model, interface=interface)),
        )


#: The registered instance (``stores``).
LEARNER = StoreLearner()
