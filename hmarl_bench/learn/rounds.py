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
Interrupts: with a :class:`~hmarl_bench.learn.checkpoints.StopFlag` set (Ctrl-C), the
learner in training stops at a checkpoint (``round_<k>/<learner>/checkpoints``) and
:class:`RoundsInterrupted` says where; :func:`rounds_start` rebuilds that point from the
files in ``out`` and ``train_rounds(..., start=...)`` continues there.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hmarl_bench._atomic import save_atomic, write_atomic
from hmarl_bench.config import Scenario, load_scenario
from hmarl_bench.learn.checkpoints import Resume, StopFlag, latest_checkpoint, rollout_budget
from hmarl_bench.learn.hierarchy import Learner, Policies, evaluate_policies, train_learner
from hmarl_bench.learn.hyperparam_keys import env_options, track_name
from hmarl_bench.learn.train import TrainResult

__all__ = [
    "ROUND_COLUMNS",
    "ROUND_SEED_STRIDE",
    "RoundResult",
    "RoundsInterrupted",
    "RoundsStart",
    "round_summary",
    "rounds_start",
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
    timesteps: dict[str, int] = field(default_factory=dict)  # agent-steps trained
    timesteps_requested: dict[str, int] = field(default_factory=dict)


@dataclass
class RoundsStart:
    """Where :func:`train_rounds` continues: the finished rounds, the round in progress
    (its learners trained so far in ``current``), the index of the next learner to train,
    every role's policy by then and that learner's checkpoint (``None``: start it anew)."""

    round: int
    learner: int
    policies: Policies
    results: list[RoundResult]
    current: RoundResult
    resume: Resume | None = None


class RoundsInterrupted(Exception):
    """Training stopped (Ctrl-C) before learner ``learner`` (an index) of round ``round``
    finished; ``results`` are the finished rounds."""

    def __init__(self, round: int, learner: int, results: list[RoundResult]) -> None:
        super().__init__(f"interrupted in round {round}, learner {learner}")
        self.round = round
        self.learner = learner
        self.results = results


def round_summary(result: RoundResult) -> dict[str, Any]:
    """One row for ``rounds.csv``: mean and 95% bootstrap CI of every :data:`ROUND_COLUMNS`."""
    from hmarl_bench.confidence import mean_ci

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
    stop: StopFlag | None = None,
    start: RoundsStart | None = None,
    on_learner: Callable[[int, Learner, TrainResult], None] | None = None,
) -> list[RoundResult]:
    """Alternate ``learners`` for ``rounds`` rounds; returns every round's result.

    ``timesteps``: one budget for every learner, a budget per learner name, or ``None``
    for each learner's hyperparams file. ``hyperparams`` overrides apply to every learner.
    ``eval_freq`` 0: ten validation points per learner and round. With ``out``, round k's
    models go to ``out/round_<k>/<learner>.zip`` (reload with
    :func:`~hmarl_bench.agents.policy.load_model` or ``PolicyAgent.from_file``), its
    learning curves to ``<learner>_learning_curve.csv`` and its held-out episodes to
    ``episodes.csv``; ``out/rounds.csv`` gets one row per round. ``on_round`` is called
    after each round (the CLI prints it), ``on_learner(round, learner, result)`` after each
    learner. ``stop`` and ``start``: interrupting and continuing (module docstring); each
    learner's budget is rounded up to whole rollouts.
    """
    scenario = load_scenario(scenario)
    if rounds < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds}")
    if not learners:
        raise ValueError("need at least one learner")
    if not eval_seeds:
        raise ValueError("need evaluation seeds to score every round")
    interface = track_name(hyperparams or {}, algo)
    policies = start.policies if start else Policies(interface=interface)
    results: list[RoundResult] = list(start.results) if start else []
    joint = (hyperparams or {}).get("schedule") == "joint"
    for number in range(start.round if start else 1, rounds + 1):
        folder = None if out is None else Path(out) / f"round_{number}"
        resuming = start is not None and number == start.round
        result = start.current if resuming else RoundResult(number, policies, pd.DataFrame())
        if joint:  # every learner at once; a round cut short is trained again from its start
            if stop is not None and stop.is_set:
                raise RoundsInterrupted(number, 0, results)
            policies = _joint_round(
                result, scenario, learners, algo, seed + ROUND_SEED_STRIDE * (number - 1),
                max(trained_budget(lrn, algo, _budget(timesteps, lrn), interface)
                    for lrn in learners),
                n_envs, hyperparams, validation_seeds, eval_freq, policies,
            )  # fmt: skip
            if folder is not None:
                folder.mkdir(parents=True, exist_ok=True)
                for learner in learners:
                    model = getattr(policies, learner.name)
                    save_atomic(folder / f"{learner.name}.zip", model.save)
                curve = result.curves["joint"].to_csv(index=False)
                write_atomic(folder / "joint_learning_curve.csv", curve)
        for index, learner in enumerate(() if joint else learners):
            if resuming and index < start.learner:
                continue
            if stop is not None and stop.is_set:
                raise RoundsInterrupted(number, index, results)
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
                or max(int(trained_budget(learner, algo, budget, interface)) // 10, 1),
                progress_bar=progress_bar,
                initial_model=getattr(policies, learner.name),
                stop=stop,
                resume=start.resume if resuming and index == start.learner else None,
            )
            if folder is not None:
                write_atomic(
                    folder / f"{learner.name}_learning_curve.csv",
                    trained.learning_curve.to_csv(index=False),
                )
            if trained.interrupted:
                raise RoundsInterrupted(number, index, results)
            options = env_options(trained.hyperparams, algo)  # the track as trained (view:k)
            policies = dataclasses.replace(
                learner.with_model(policies, trained.model),
                interface=options["interface"],
                horizon_mask=options["horizon_mask"],
            )
            result.curves[learner.name] = trained.learning_curve
            result.train_seconds[learner.name] = trained.seconds
            result.timesteps[learner.name] = trained.timesteps
            result.timesteps_requested[learner.name] = trained.budget.requested
            if folder is not None:
                save_atomic(folder / f"{learner.name}.zip", trained.model.save)
            if on_learner is not None:
                on_learner(number, learner, trained)
        result.policies = policies
        result.episodes = evaluate_policies(scenario, policies, eval_seeds)
        if folder is not None:
            write_atomic(folder / "episodes.csv", result.episodes.to_csv(index=False))
            rows = [round_summary(r) for r in [*results, result]]
            write_atomic(Path(out) / "rounds.csv", pd.DataFrame(rows).to_csv(index=False))
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
    result.timesteps_requested["joint"] = budget
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


def rounds_start(
    out: Path,
    scenario: Scenario,
    learners: Sequence[Learner],
    algo: str,
    n_envs: int | None,
    hyperparams: dict[str, Any] | None,
    seed: int,
    done: Sequence[Mapping[str, Any]],
) -> RoundsStart:
    """Rebuild where an interrupted :func:`train_rounds` into ``out`` stopped.

    ``done``: one record per learner that finished, in order (``round``, ``learner``,
    ``train_seconds``, ``timesteps``, ``timesteps_requested``), as the CLI records them
    with ``on_learner``. Models, curves and held-out episodes come from ``out``; the next
    learner resumes from its latest checkpoint (a new seed for its new episodes).
    """
    from hmarl_bench.agents.policy import load_model
    from hmarl_bench.learn.train import training_params

    out = Path(out)
    per_round = len(learners)
    number, index = len(done) // per_round + 1, len(done) % per_round
    if index == 0 and number > 1 and not (out / f"round_{number - 1}" / "episodes.csv").is_file():
        number, index = number - 1, per_round  # every learner trained; the scoring was cut
    interface = track_name(hyperparams or {}, algo)
    policies, results = Policies(interface=interface), []
    result = RoundResult(number, policies, pd.DataFrame())
    for k in range(1, number + 1):
        folder = out / f"round_{k}"
        result = RoundResult(k, policies, pd.DataFrame())
        for record in (d for d in done if d["round"] == k):
            learner = next(lr for lr in learners if lr.name == record["learner"])
            policies = learner.with_model(
                policies, load_model(folder / f"{learner.name}.zip", algo)
            )
            result.curves[learner.name] = pd.read_csv(folder / f"{learner.name}_learning_curve.csv")
            result.train_seconds[learner.name] = float(record["train_seconds"])
            result.timesteps[learner.name] = int(record["timesteps"])
            result.timesteps_requested[learner.name] = int(record["timesteps_requested"])
        result.policies = policies
        if k < number:
            result.episodes = pd.read_csv(folder / "episodes.csv")
            results.append(result)
    resume = None
    if index < per_round:
        learner = learners[index]
        log_dir = out / f"round_{number}" / learner.name
        path = learner.hyperparams_path(algo, interface)
        params = training_params(algo, hyperparams, None, n_envs, path)
        rollout = rollout_budget(1, params, learner.slots(scenario, params["n_envs"])).rollout
        checkpoint = latest_checkpoint(log_dir / "checkpoints", algo, rollout)
        if checkpoint is not None:
            curve_path = out / f"round_{number}" / f"{learner.name}_learning_curve.csv"
            curve = pd.read_csv(curve_path).to_dict("records") if curve_path.is_file() else []
            entropy = [seed + ROUND_SEED_STRIDE * (number - 1), checkpoint.steps]
            resume_seed = int(np.random.SeedSequence(entropy).generate_state(1)[0])
            resume = Resume(checkpoint, curve, resume_seed)
    return RoundsStart(number, index, policies, results, result, resume)
