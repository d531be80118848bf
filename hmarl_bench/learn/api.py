"""The learner interface: a scenario, seeds and a budget in; a controller the harness scores out.

Every learning method in the suite (PPO on the seed track, the planner track's roles, the
residual corrections, HDPO, a user's own) is a :class:`Learner`: one ``train`` call that gets
a :class:`LearnerTask` (the scenario, the training seed, the validation and tuning seeds, the
budget, the hyperparameters) and returns a :class:`Trained`: a
:class:`~hmarl_bench.evaluation.ChainController` that the harness evaluates on the held-out
evaluation seeds exactly like a rule, plus ``info`` (JSON-able facts about the run: train
seconds, selected checkpoint, ...), a learning curve and optional artifacts (saved models).

The harness never sees the evaluation seeds' episodes during training: a learner receives
only ``training_seed`` (for its own episodes and randomness), ``validation_seeds`` (to pick
a checkpoint) and ``tuning_seeds`` (to tune a base rule, as the baseline cells do). Its
controller decides from a :class:`~hmarl_bench.twin.view.ChainView`, so no future or
hidden information reaches it at evaluation.

Learners are found by name in :mod:`hmarl_bench.learn.registry` (built-in ones) or by an
import path ``"package.module:attribute"`` (a user's own); see there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import pandas as pd

from hmarl_bench.config import Scenario

if TYPE_CHECKING:
    from hmarl_bench.evaluation import ChainController

__all__ = ["CURVE_COLUMNS", "Learner", "LearnerTask", "Trained"]

#: The columns every learning curve has (a learner may add ``learner`` / ``round``):
#: ``timesteps`` (decisions or samples trained on so far, the learner's own unit, step 0
#: first where the learner evaluates its starting point) and ``validation_cost`` (mean
#: total cost on the validation seeds). The SB3 learners name the latter
#: ``mean_total_cost`` (the name the tables and figures read); the harness copies a
#: curve's ``validation_cost`` to ``mean_total_cost`` where the curve has only the former.
CURVE_COLUMNS = ("timesteps", "validation_cost")


@dataclass(frozen=True)
class LearnerTask:
    """What a learner is asked to do.

    ``scenario``: the scenario to train on. ``training_seed``: seeds the learner's own
    episodes and randomness (never an evaluation seed). ``validation_seeds``: episodes on
    which the learner may pick its checkpoint. ``tuning_seeds``: episodes on which a base
    rule may be tuned (as the baseline cells tune theirs). ``timesteps``: the budget in the
    learner's own unit (decisions for SB3 learners, sampled copy-days for HDPO).
    ``eval_freq``: how often (same unit) to score on the validation seeds. ``algo``: the
    algorithm's name where the learner offers several (``ppo``, ``maskable_ppo``, ...).
    ``hyperparams``: overrides of the learner's hyperparameter file. ``options``: the
    benchmark entry's learner-specific values (roles that learn, rounds, per-role budgets,
    a base rule's tuning budget, ...). ``n_envs``: parallel copies, where it applies.
    """

    scenario: Scenario
    training_seed: int
    validation_seeds: tuple[int, ...]
    tuning_seeds: tuple[int, ...] = ()
    timesteps: int = 0
    eval_freq: int = 0
    algo: str = "ppo"
    hyperparams: Mapping[str, Any] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    n_envs: int | None = None


@dataclass
class Trained:
    """What a learner returns.

    ``controller``: scored by the harness on the evaluation seeds like any rule.
    ``info``: JSON-able facts (``train_seconds`` at least). ``learning_curve``: one row per
    validation evaluation with :data:`CURVE_COLUMNS`. ``artifacts``: file name -> bytes
    stored beside the cell (saved models). ``transfer``: optional, the same trained
    policy's controller on another scenario (``None`` where it cannot run there), for the
    generalization rows. ``evaluation_info``: optional, called by the harness once it has
    scored ``controller`` on the evaluation seeds, with those seeds; what it returns is
    added to ``info`` (facts about the held-out episodes: how often the controller left
    its base rule, each round's policies scored on the same seeds). The learner never
    sees those seeds while it trains.
    """

    controller: ChainController
    info: dict[str, Any]
    learning_curve: pd.DataFrame
    artifacts: dict[str, bytes] = field(default_factory=dict)
    transfer: Callable[[Scenario], ChainController | None] | None = None
    evaluation_info: Callable[[tuple[int, ...]], dict[str, Any]] | None = None


@runtime_checkable
class Learner(Protocol):
    """Anything with ``train(task) -> Trained`` (a class instance or a module object).

    It may also have ``check(task) -> None``, which the benchmark calls once per scenario
    before any cell runs, to refuse bad hyperparameters or options early (ValueError).
    """

    def train(self, task: LearnerTask) -> Trained: ...
