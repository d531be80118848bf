"""Alternating training (iterated best response) of the chain's learners, round by round.

Each round trains every learner once, in chain order (stores, then warehouse, then
supplier), each with the other roles fixed at their current policies: rules until a role
has learned, then its latest model. From round 2 on a learner continues from its own
previous model. After each round the chain runs on the held-out evaluation seeds and the
round's models, learning curves and KPIs (total cost, fill rate, lost sales, inventories)
and the system-level reward (:func:`~hmarl_bench.learn.hierarchy.system_reward`) are written to
``<out>/round_<k>/`` and one row per round to ``<out>/rounds.csv``.

Seeds: round ``k`` trains with ``seed + ROUND_SEED_STRIDE x (k - 1)``, so round 1 uses the
run's seed (``--learners stores --rounds 1`` is the store-only run) and later rounds see
new demand.

With ``schedule = "joint"`` in the hyperparams a round trains every learner at once
(:func:`~hmarl_bench.learn.joint.train_joint`: concurrent updates from one rollout) for the
largest of the learners' budgets, in copy-days; its learning curve is stored under the
name ``joint``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from hmarl_bench.config import Scenario, load_scenario
from hmarl_bench.learn.hierarchy import Learner, Policies, evaluate_policies, train_learner

__all__ = [
    "ROUND_COLUMNS",
    "ROUND_SEED_STRIDE",
    "RoundResult",
    "round_summary",
    "train_rounds",
]

ROUND_SEED_STRIDE = 1000
#: The per-episode columns summarized for every round (mean and 95% bootstrap CI).
ROUND_COLUMNS = (
    "total_cost",
    "fill_rate",
    "lost_sales",
    "mean_store_inventory",
    "mean_warehouse_inventory",
    "system_reward",
)


@dataclass
class RoundResult:
    """One round: the policies after it, their held-out evaluation, the learning curves."""

    round: int
    policies: Policies
    episodes: pd.DataFrame
    curves: dict[str, pd.DataFrame] = field(default_factory=dict)
    train_seconds: dict[str, float] = field(default_factory=dict)
    timesteps: dict[str, int] = field(default_factory=dict)


def round_summary(result: RoundResult) -> dict[str, Any]:
    """One row for ``rounds.csv``: mean and 95% bootstrap CI of every :data:`ROUND_COLUMNS`."""
    from hmarl_bench.run_report import mean_ci

    row: dict[str, Any] = {"round": result.round, "episodes": len(result.episodes)}
    for column in ROUND_COLUMNS:
        mean, low, high = mean_ci(result.episodes[column].to_numpy())
        row[column], row[f"{column}_ci_low"], row[f"{column}_ci_high"] = mean, low, high
    for name, seconds in result.train_seconds.items():
        row[f"{name}_train_seconds"] = seconds
    return row


def _budget(timesteps: Mapping[str, int] | int | None, learner: Learner) -> int | None:
    if timesteps is None or isinstance(timesteps, int):
        return timesteps
    return timesteps.get(learner.name)


def train_rounds(
    scenario: Scenario | str,
    learners: Sequence[Learner],
    rounds: int = 1,
    algo: str = "ppo",
    seed: int = 0,
    timesteps: Mapping[str, int] | int | None = None,
    n_envs: int | None = None,
    hyperparams: dict[str, Any] | None = None,
    validation_seeds: Sequence[int] = (),
    eval_seeds: Sequence[int] = (),
    eval_freq: int = 0,
    out: Path | None = None,
    progress_bar: bool = False,
    on_round: Callable[[RoundResult], None] | None = None,
) -> list[RoundResult]:
    """Alternate ``learners`` for ``rounds`` rounds; returns every round's result.

    ``timesteps``: one budget for every learner, a budget per learner name, or ``None``
    for each learner's hyperparams file. ``hyperparams`` overrides apply to every learner.
    ``eval_freq`` 0: ten validation points per learner and round. With ``out``, round k's
    models go to ``out/round_<k>/<learner>.zip`` (reload with
    :func:`~hmarl_bench.agents.policy.load_model` or ``PolicyAgent.from_file``), its
    learning curves to ``<learner>_learning_curve.csv`` and its held-out episodes to
    ``episodes.csv``; ``out/rounds.csv`` gets one row per round. ``on_round`` is called
    after each round (the CLI prints it).
    """
    scenario = load_scenario(scenario)
    if rounds < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds}")
    if not learners:
        raise ValueError("need at least one learner")
    if not eval_seeds:
        raise ValueError("need evaluation seeds to score every round")
    policies = Policies(interface=(hyperparams or {}).get("interface", "seed"))
    results: list[RoundResult] = []
    for number in range(1, rounds + 1):
        folder = None if out is None else Path(out) / f"round_{number}"
        result = RoundResult(number, policies, pd.DataFrame())
        if (hyperparams or {}).get("schedule") == "joint":
            policies = _joint_round(
                result, scenario, learners, algo, seed + ROUND_SEED_STRIDE * (number - 1),
                max(trained_budget(lrn, algo, _budget(timesteps, lrn), policies.interface)
                    for lrn in learners),
                n_envs, hyperparams, validation_seeds, eval_freq, policies,
            )  # fmt: skip
            if folder is not None:
                folder.mkdir(parents=True, exist_ok=True)
                for learner in learners:
                    getattr(policies, learner.name).save(folder / f"{learner.name}.zip")
                result.curves["joint"].to_csv(folder / "joint_learning_curve.csv", index=False)
        for learner in () if "joint" in result.curves else learners:
            budget = _budget(timesteps, learner)
            log_dir = None if folder is None else folder / learner.name
            trained = train_learner(
                learner,
                scenario,
                algo,
                policies,
                timesteps=budget,
                seed=seed + ROUND_SEED_STRIDE * (number - 1),
                n_envs=n_envs,
                hyperparams=hyperparams,
                log_dir=log_dir,
                eval_seeds=validation_seeds,
                eval_freq=eval_freq
                or max(int(trained_budget(learner, algo, budget, policies.interface)) // 10, 1),
                progress_bar=progress_bar,
                initial_model=getattr(policies, learner.name),
            )
            policies = learner.with_model(policies, trained.model)
            result.curves[learner.name] = trained.learning_curve
            result.train_seconds[learner.name] = trained.seconds
            result.timesteps[learner.name] = trained.timesteps
            if folder is not None:
                trained.model.save(folder / f"{learner.name}.zip")
                trained.learning_curve.to_csv(
                    folder / f"{learner.name}_learning_curve.csv", index=False
                )
        result.policies = policies
        result.episodes = evaluate_policies(scenario, policies, eval_seeds)
        if folder is not None:
            result.episodes.to_csv(folder / "episodes.csv", index=False)
            rows = [round_summary(r) for r in [*results, result]]
            pd.DataFrame(rows).to_csv(Path(out) / "rounds.csv", index=False)
        results.append(result)
        if on_round is not None:
            on_round(result)
    return results


def _joint_round(
    result: RoundResult,
    scenario: Scenario,
    learners: Sequence[Learner],
    algo: str,
    seed: int,
    budget: int,
    n_envs: int | None,
    hyperparams: dict[str, Any] | None,
    validation_seeds: Sequence[int],
    eval_freq: int,
    policies: Policies,
) -> Policies:
    """One round of joint training; fills ``result``'s curve, seconds and budget."""
    from hmarl_bench.learn.joint import train_joint

    trained = train_joint(
        scenario, learners, algo, timesteps=budget, seed=seed, n_envs=n_envs,
        hyperparams=hyperparams, validation_seeds=validation_seeds,
        eval_freq=eval_freq or max(budget // 10, 1), policies=policies,
    )  # fmt: skip
    result.curves["joint"] = trained.learning_curve
    result.train_seconds["joint"] = trained.seconds
    result.timesteps["joint"] = trained.timesteps
    return trained.policies


def trained_budget(
    learner: Learner, algo: str, timesteps: int | None, interface: str = "seed"
) -> int:
    """The budget a learner trains for: ``timesteps``, or its hyperparams file's."""
    if timesteps is not None:
        return int(timesteps)
    from hmarl_bench.learn.train import load_hyperparams

    path = learner.hyperparams_path(algo, interface)
    return int(load_hyperparams(algo, None, path)["timesteps"])
