"""The role learners as a :class:`~hmarl_bench.learn.api.Learner`: stores, warehouse and
supplier trained in alternating (or joint) rounds by :func:`~hmarl_bench.learn.rounds.train_rounds`,
the roles that do not learn on their rules.

Registered as ``rounds`` (:mod:`hmarl_bench.learn.registry`); a benchmark's ``[[algos]]``
entry with ``learners = "warehouse"``, ``"stores+warehouse"``, ... (planner track and joint
schedule through ``hyperparams``) runs it. ``task.options``:

- ``learners``: the roles that learn (``("stores", "warehouse")`` or ``"stores+warehouse"``);
- ``rounds``: rounds of alternating training (default 1);
- ``timesteps``: a budget per role (a mapping or ``(role, steps)`` pairs; default
  ``task.timesteps`` for each).

The controller is the last round's chain. The learning curve runs over the learners one
after the other (stores, then warehouse, ... round after round), so its ``timesteps`` are
cumulative and its ``learner`` / ``round`` columns say which model was training.
``info``: ``train_seconds``, ``timesteps``, ``timesteps_requested`` (sums over the rounds)
and, once the harness has the evaluation seeds, ``rounds``: each round's policies scored
on them (:func:`~hmarl_bench.learn.rounds.round_summary`). Later rounds continue training
a round's models in place, so each round's policies are copied before the next starts.
Artifacts: ``<role>.zip`` per learning role. Transfer: the last round's policies elsewhere.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Mapping
from typing import Any

import pandas as pd

from hmarl_bench.learn.api import LearnerTask, Trained
from hmarl_bench.learn.hierarchy import Learner as RoleLearner
from hmarl_bench.learn.hierarchy import Policies, evaluate_policies, parse_learners
from hmarl_bench.learn.rounds import RoundResult, round_summary, train_rounds
from hmarl_bench.learn.sb3_trained import check_role_hyperparams, model_bytes, policies_transfer

__all__ = ["LEARNER", "RoundsLearner", "curve_rows"]

_ROLES = ("stores", "warehouse", "supplier")


class RoundsLearner:
    """Role learners in rounds (module docstring)."""

    def check(self, task: LearnerTask) -> None:
        """Refuse bad options or hyperparameter overrides before any cell runs (ValueError)."""
        learners, _, _ = _options(task)
        check_role_hyperparams(task, learners)

    def train(self, task: LearnerTask) -> Trained:
        learners, rounds, budgets = _options(task)
        hyperparams = dict(task.hyperparams) or None
        copies: dict[int, Policies] = {}

        def keep(result: RoundResult) -> None:
            if result.round < rounds:  # the next round trains these models further
                copies[result.round] = _copy(result.policies)

        results = train_rounds(
            task.scenario,
            learners,
            rounds=rounds,
            algo=task.algo,
            seed=task.training_seed,
            timesteps=budgets,
            n_envs=task.n_envs,
            hyperparams=hyperparams,
            validation_seeds=task.validation_seeds,
            eval_seeds=task.validation_seeds,  # scored again on the evaluation seeds below
            eval_freq=task.eval_freq,
            on_round=keep,
        )
        final = results[-1]

        def rounds_info(seeds: tuple[int, ...]) -> dict[str, Any]:
            summaries = []
            for result in results:
                policies = copies.get(result.round, result.policies)
                episodes = evaluate_policies(task.scenario, policies, seeds)
                scored = dataclasses.replace(result, policies=policies, episodes=episodes)
                summaries.append(round_summary(scored))
            return {"rounds": summaries}

        return Trained(
            controller=final.policies.controller(task.scenario),
            info={
                "train_seconds": float(sum(sum(r.train_seconds.values()) for r in results)),
                "timesteps": int(sum(sum(r.timesteps.values()) for r in results)),  # rollouts
                "timesteps_requested": int(
                    sum(sum(r.timesteps_requested.values()) for r in results)
                ),
            },
            learning_curve=pd.DataFrame(curve_rows(results)),
            artifacts={
                f"{learner.name}.zip": model_bytes(getattr(final.policies, learner.name))
                for learner in learners
            },
            transfer=policies_transfer(final.policies),
            evaluation_info=rounds_info,
        )


def curve_rows(results: list[RoundResult]) -> list[dict[str, Any]]:
    """Every learner's curve of every round, one after the other, ``timesteps`` cumulative."""
    rows, offset = [], 0
    for result in results:
        for name, curve in result.curves.items():
            for row in curve.to_dict("records"):
                rows.append(
                    {**row, "timesteps": offset + int(row["timesteps"]), "learner": name,
                     "round": result.round}
                )  # fmt: skip
            offset += int(result.timesteps[name])
    return rows


def _options(task: LearnerTask) -> tuple[tuple[RoleLearner, ...], int, dict[str, int]]:
    """The learners, rounds and per-role budgets of ``task.options`` (ValueError if bad)."""
    options = dict(task.options)
    unknown = sorted(set(options) - {"learners", "rounds", "timesteps"})
    if unknown:
        raise ValueError(f"unknown options {unknown} of the rounds learner; it takes "
                         "learners, rounds and timesteps")  # fmt: skip
    names = options.get("learners", "stores")
    learners = parse_learners(names if isinstance(names, str) else list(names))
    rounds = options.get("rounds", 1)
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise ValueError(f"rounds must be a whole number >= 1, got {rounds!r}")
    given = options.get("timesteps") or {}
    budgets = dict(given.items() if isinstance(given, Mapping) else given)
    unknown = sorted(set(budgets) - {learner.name for learner in learners})
    if unknown:
        raise ValueError(f"timesteps for {unknown}, which do not learn here")
    budgets = {lrn.name: int(budgets.get(lrn.name, task.timesteps)) for lrn in learners}
    return learners, rounds, budgets


def _copy(policies: Policies) -> Policies:
    """``policies`` with every model copied (saved and loaded: the same weights)."""
    copies = {}
    for role in _ROLES:
        model = getattr(policies, role)
        if model is not None:
            copies[role] = type(model).load(io.BytesIO(model_bytes(model)), device="cpu")
    return dataclasses.replace(policies, **copies)


#: The registered instance (``rounds``).
LEARNER = RoundsLearner()
