"""The residual learner as a :class:`~hmarl_bench.learn.api.Learner`: PPO corrections to
the tuned reference rule (:func:`~hmarl_bench.learn.residual.train_residual`).

Registered as ``residual`` (:mod:`hmarl_bench.learn.registry`); a benchmark's
``[[algos]]`` entry with ``learners = "residual"`` runs it. The base rule,
``tuned_echelon_free``, is tuned inside the cell on the benchmark's tuning seeds with its
``[tuning]`` budget, exactly as the baseline cell tunes it: the spec puts both in
``task.hyperparams`` under :data:`~hmarl_bench.learn.hyperparam_keys.BASE_TUNING_KEYS` (so a
change of either makes the cell stale); the rest of the hyperparameters override
``experiments/hyperparams/residual_ppo.toml``. The policy kept is the best on the
validation seeds, step 0 (the rule itself) included.

``info``: the base rule's ``tuned_params`` (equal to the baseline cell's for the same
inputs) and ``tuning``, ``train_seconds``, ``tune_seconds``, ``timesteps``,
``timesteps_requested``, the reward's ``cost_scale``, the rule's mean cost on the tuning
and validation seeds, ``selected_timesteps`` (0: the rule was kept), ``rule_selected``,
``factors``, ``logit_bias`` and, after the evaluation, ``factor_shares`` /
``factor_counts``: how often the selected policy chose a factor other than 1.0 on the
evaluation episodes (copy-days; stores, warehouse, either). Learning curve: validation
cost per evaluation, step 0 first, with ``learner = "residual"``. Artifact: ``model.zip``
(at step 0 the untrained model: factor 1.0, the rule). No transfer: the base rule is tuned
per scenario, so a residual policy does not run unchanged elsewhere.
"""

from __future__ import annotations

from typing import Any

from hmarl_bench.learn.api import LearnerTask, Trained
from hmarl_bench.learn.checkpoints import check_batch_size
from hmarl_bench.learn.hyperparam_keys import BASE_TUNING_KEYS, RESIDUAL
from hmarl_bench.learn.residual import load_residual_hyperparams, train_residual
from hmarl_bench.learn.sb3_trained import model_bytes

__all__ = ["LEARNER", "ResidualLearner"]


class ResidualLearner:
    """PPO factors on the tuned reference rule (module docstring)."""

    def check(self, task: LearnerTask) -> None:
        """The overrides against ``residual_<algo>.toml`` on ``task.scenario`` (ValueError)."""
        overrides = {k: v for k, v in task.hyperparams.items() if k not in BASE_TUNING_KEYS}
        params = load_residual_hyperparams(task.algo, overrides, task.scenario, n_envs=task.n_envs)
        check_batch_size(params, params["n_envs"])

    def train(self, task: LearnerTask) -> Trained:
        overrides = dict(task.hyperparams)
        missing = [k for k in BASE_TUNING_KEYS if k not in overrides]
        if missing:
            raise ValueError(
                f"the residual learner needs {missing} in its hyperparams (the spec adds them)"
            )
        tuning_seeds, budget, search_seed = (overrides.pop(k) for k in BASE_TUNING_KEYS)
        trained = train_residual(
            task.scenario,
            tuning_seeds=[int(s) for s in tuning_seeds],
            validation_seeds=list(task.validation_seeds),
            candidate_episodes=int(budget),
            tuning_seed=int(search_seed),
            seed=task.training_seed,
            timesteps=task.timesteps or None,
            n_envs=task.n_envs,
            hyperparams=overrides or None,
            eval_freq=task.eval_freq,
        )
        controller = trained.controller()
        params = trained.hyperparams

        def factor_use(seeds: tuple[int, ...]) -> dict[str, Any]:
            """How often the controller left factor 1.0 on the episodes just evaluated."""
            return {
                "factor_shares": controller.factor_shares(),
                "factor_counts": {
                    "stores": controller.factor_counts[0].tolist(),
                    "warehouse": controller.factor_counts[1].tolist(),
                },
            }

        return Trained(
            controller=controller,
            info={
                "base_rule": "tuned_echelon_free",
                "tuned_params": trained.base_params,
                "tuning": trained.tuning_info,
                "train_seconds": float(trained.train_seconds),
                "tune_seconds": float(trained.tune_seconds),
                "timesteps": int(trained.timesteps),  # whole rollouts
                "timesteps_requested": int(trained.budget.requested) if trained.budget else None,
                "cost_scale": trained.cost_scale,
                "rule_tuning_cost": trained.rule_tuning_cost,
                "rule_validation_cost": trained.rule_validation_cost,
                "selected_timesteps": trained.selected_timesteps,
                "rule_selected": trained.rule_selected,
                "factors": list(params["factors"]),
                "logit_bias": params["logit_bias"],
            },
            learning_curve=trained.learning_curve.assign(learner=RESIDUAL),
            artifacts={"model.zip": model_bytes(trained.model)},
            evaluation_info=factor_use,
        )


#: The registered instance (``residual``).
LEARNER = ResidualLearner()
