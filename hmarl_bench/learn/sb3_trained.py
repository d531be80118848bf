"""What the SB3 learners' adapters share: models as artifact bytes, and the trained
policies as a controller on another scenario (the generalization rows).

Used by :mod:`~hmarl_bench.learn.store_learner` and :mod:`~hmarl_bench.learn.rounds_learner`
(the :class:`~hmarl_bench.learn.api.Learner` adapters of the store and role learners), and
their early check of hyperparameter overrides.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

from hmarl_bench.agents.policy import ModelLoadError
from hmarl_bench.config import Scenario
from hmarl_bench.evaluation import ChainController
from hmarl_bench.learn.api import LearnerTask
from hmarl_bench.learn.checkpoints import check_batch_size
from hmarl_bench.learn.hierarchy import Learner as RoleLearner
from hmarl_bench.learn.hierarchy import Policies
from hmarl_bench.learn.hyperparam_keys import check_role_algo
from hmarl_bench.learn.train import load_hyperparams

__all__ = ["check_role_hyperparams", "model_bytes", "policies_transfer"]


def model_bytes(model: Any) -> bytes:
    """An SB3 model saved as a zip archive, in memory (a cell's artifact)."""
    buffer = io.BytesIO()
    model.save(buffer)
    return buffer.getvalue()


def policies_transfer(policies: Policies) -> Callable[[Scenario], ChainController | None]:
    """The trained ``policies``, unchanged, as a controller on another scenario, or ``None``
    where a model's spaces do not fit it.

    Spaces allow most transfers: the store policy acts per store on observations normalized
    by each store's own scales, so it runs for any number of stores; the warehouse's seed
    observation is aggregates over the stores, normalized by the target's own scales. On
    the planner track the warehouse's pipeline by arrival day is as long as the scenario's
    longest supplier lead time, so it runs only where that is the same (elsewhere: None).
    """

    def transfer(target: Scenario) -> ChainController | None:
        try:
            return policies.controller(target)
        except ModelLoadError:  # another observation size
            return None

    return transfer


def check_role_hyperparams(task: LearnerTask, learners: Sequence[RoleLearner]) -> None:
    """Each role learner's algorithm (:func:`~hmarl_bench.learn.hyperparam_keys.check_role_algo`)
    and hyperparameters (its file and ``task.hyperparams``) on ``task.scenario``: unknown
    keys, bad values, a minibatch larger than a rollout (ValueError), before any cell runs."""
    for learner in learners:
        check_role_algo(learner.name, task.algo)
        path = learner.hyperparams_path(task.algo, task.hyperparams.get("interface", "seed"))
        params = load_hyperparams(task.algo, dict(task.hyperparams), path)
        n_envs = int(task.n_envs or params["n_envs"])
        check_batch_size(params, learner.slots(task.scenario, n_envs))
