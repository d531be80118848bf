"""``python -m hmarl_bench.run --learners stores,warehouse --rounds K``: the hierarchy's run.

Called by :mod:`hmarl_bench.run` when the learners are not the stores alone for one round
(that run keeps its own path). Trains with :func:`~hmarl_bench.learn.rounds.train_rounds`,
prints and writes every round's KPIs and system-level reward, then compares the last
round's chain with the rule-based baselines on the same held-out seeds.

Outputs under ``--out``: ``round_<k>/<learner>.zip`` (the round's selected models),
``round_<k>/<learner>_learning_curve.csv``, ``round_<k>/episodes.csv``, ``rounds.csv``
(one row per round), ``rounds.md``, ``results.csv`` / ``results.md`` / ``episodes.csv`` (the
last round against the baselines) and ``config.json``.
"""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hmarl_bench._atomic import write_atomic
from hmarl_bench.config import Scenario
from hmarl_bench.learn.hyperparam_keys import learner_names
from hmarl_bench.run.args import (
    EVAL_SEED_BASE,
    N_VALIDATION_SEEDS,
    VALIDATION_SEED_BASE,
    RunArgs,
)
from hmarl_bench.run.folder import (
    RunFolderError,
    code_record,
    default_run_folder,
    make_run_folder,
    write_config,
)

if TYPE_CHECKING:  # torch and pandas are imported once the inputs are checked
    import pandas as pd

    from hmarl_bench.learn.hierarchy import Learner
    from hmarl_bench.learn.rounds import RoundResult

__all__ = ["render_rounds", "run_rounds"]

_ROUND_TITLES = {
    "total_cost": "total cost",
    "fill_rate": "fill rate",
    "lost_sales": "lost sales [units]",
    "mean_store_inventory": "store inventory [units]",
    "mean_warehouse_inventory": "warehouse inventory [units]",
    "system_reward": "system reward",
}


def _cell(row: pd.Series | dict[str, Any], column: str) -> str:
    from hmarl_bench.run.report import mean_and_ci

    return mean_and_ci(row, column)


def render_rounds(rows: list[dict[str, Any]]) -> str:
    """The rounds as a Markdown table (mean [95% CI] over held-out episodes)."""
    from hmarl_bench.learn.rounds import ROUND_COLUMNS

    head = "| round | " + " | ".join(_ROUND_TITLES[c] for c in ROUND_COLUMNS) + " |"
    lines = [head, "|---" * (len(ROUND_COLUMNS) + 1) + "|"]
    for row in rows:
        cells = " | ".join(_cell(row, c) for c in ROUND_COLUMNS)
        lines.append(f"| {row['round']} | {cells} |")
    return "\n".join(lines) + "\n"


def _print_round(result: RoundResult, names: str) -> None:
    from rich.console import Console
    from rich.table import Table

    from hmarl_bench.learn.rounds import ROUND_COLUMNS, round_summary

    row = round_summary(result)
    table = Table(title=f"round {result.round} ({names}): {row['episodes']} held-out episodes")
    table.add_column("KPI")
    table.add_column("mean [95% CI]", justify="right")
    for column in ROUND_COLUMNS:
        table.add_row(_ROUND_TITLES[column], _cell(row, column))
    trained = ", ".join(f"{n} {s:.0f} s" for n, s in result.train_seconds.items())
    console = Console() if Console().is_terminal else Console(width=120)
    console.print(table)
    console.print(f"trained: {trained}")


def _plan(
    args: RunArgs, scenario: Scenario, roles: tuple[str, ...], overrides: dict[str, Any]
) -> tuple[dict[str, dict], dict[str, Any]]:
    """Each learning role's resolved hyperparameters and budget (ValueError for bad ones),
    without importing torch."""
    from hmarl_bench.learn.budget import check_batch_size, role_slots, rollout_budget
    from hmarl_bench.learn.hyperparam_keys import (
        check_role_algo,
        hyperparams_file,
        load_hyperparams,
    )

    params, budgets = {}, {}
    interface = overrides.get("interface", "seed")
    for role in roles:
        check_role_algo(role, args.algo)
        path = hyperparams_file(role, args.algo, interface)
        values = load_hyperparams(args.algo, overrides, path)
        values["n_envs"] = int(args.n_envs or values["n_envs"])
        values["timesteps"] = int(args.timesteps or values["timesteps"])
        slots = role_slots(role, scenario.n_slots, values["n_envs"])
        try:
            check_batch_size(values, slots)
        except ValueError as err:
            raise ValueError(f"{role}: {err}") from None
        params[role] = values
        budgets[role] = rollout_budget(values["timesteps"], values, slots)
    return params, budgets


def run_rounds(
    args: RunArgs,
    scenario: Scenario,
    source: dict[str, Any],
    overrides: dict[str, Any],
    config: dict[str, Any] | None = None,
) -> int:
    """Train the learners for ``args.rounds`` rounds, log every round, compare with rules.

    ``config``: the recorded config.json of the run to resume (``args.resume``), or None.
    """
    roles = learner_names(args.learners)
    names = "+".join(roles)
    try:  # before torch is imported: a bad hyperparameter is one line at once
        params, budgets = _plan(args, scenario, roles, overrides)
        if config is not None and params != config["hyperparams"]:
            raise ValueError(
                "the hyperparameters differ from the run's config.json (a hyperparams file "
                "changed since it started), so resuming would not continue the same run"
            )
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    from hmarl_bench.learn.checkpoints import catch_sigint
    from hmarl_bench.learn.hierarchy import parse_learners
    from hmarl_bench.learn.hyperparam_keys import track_note
    from hmarl_bench.learn.rounds import (
        RoundsInterrupted,
        round_summary,
        rounds_start,
        train_rounds,
    )
    from hmarl_bench.run.report import compare_with_baselines, print_table, versions

    learners = parse_learners(roles)
    if config is None:
        label = source.get("label", scenario.name)
        default = default_run_folder(f"{label}-{args.algo}-{names}-seed{args.seed}")
        out = Path(args.out or default)
        try:
            make_run_folder(out, args.force)
        except RunFolderError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        config = {
            "status": "training",
            "args": asdict(args),
            "learners": [learner.name for learner in learners],
            "hyperparams": params,
            "budget": {name: b.as_dict() for name, b in budgets.items()},
            "scenario": scenario.to_dict(),
            "scenario_source": source,
            "validation_seeds": [VALIDATION_SEED_BASE + i for i in range(N_VALIDATION_SEEDS)],
            "eval_seeds": [EVAL_SEED_BASE + i for i in range(args.eval_episodes)],
            "done": [],
            "versions": versions(),
            "code": code_record(),
        }
        write_config(out, config)
        start = None
    else:
        out = Path(args.out)
        start = rounds_start(
            out, scenario, learners, args.algo, args.n_envs, overrides, args.seed, config["done"]
        )
        at = learners[start.learner].name if start.learner < len(learners) else "scoring"
        print(f"resuming {out} in round {start.round} at {at}")
    validation_seeds, eval_seeds = config["validation_seeds"], config["eval_seeds"]
    each = ", ".join(f"{name} {budget.describe()}" for name, budget in budgets.items())
    print(
        f"training {names} with {args.algo}{track_note(params[roles[0]], args.algo)} on "
        f"'{scenario.name}' for {args.rounds} round(s) "
        f"(seed {args.seed}), per round: {each}; outputs in {out}",
        flush=True,
    )

    def record(number: int, learner: Learner, trained: Any) -> None:
        config["done"].append(
            {
                "round": number,
                "learner": learner.name,
                "train_seconds": trained.seconds,
                "timesteps": trained.timesteps,
                "timesteps_requested": trained.budget.requested,
            }
        )
        write_config(out, config)

    with catch_sigint() as stop:
        try:
            results = train_rounds(
                scenario,
                learners,
                args.rounds,
                args.algo,
                args.seed,
                args.timesteps,
                args.n_envs,
                overrides,
                validation_seeds,
                eval_seeds,
                args.eval_freq,
                out,
                args.progress,
                on_round=lambda result: _print_round(result, names),
                stop=stop,
                start=start,
                on_learner=record,
            )
        except RoundsInterrupted as stopped:
            config["status"] = "interrupted"
            write_config(out, config)
            learner = learners[stopped.learner].name
            print(
                f"\ninterrupted in round {stopped.round} while training {learner}: its "
                f"checkpoint, the finished models and learning curves and config.json are "
                f"saved in {out}; continue with: python -m hmarl_bench.run --resume {out}",
                file=sys.stderr,
            )
            return 130
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    rows = [round_summary(r) for r in results]
    write_atomic(out / "rounds.md", render_rounds(rows))

    final = results[-1]
    label = f"{args.algo}:{names}"
    # the last round, evaluated on eval_seeds
    table = compare_with_baselines(
        scenario, {label: final.episodes}, validation_seeds, eval_seeds, args.seed, out
    )
    config["train_seconds"] = [r.train_seconds for r in results]
    config["timesteps"] = [r.timesteps for r in results]
    config["timesteps_requested"] = [r.timesteps_requested for r in results]
    config["status"] = "complete"
    write_config(out, config)
    print_table(
        table,
        f"{scenario.name}, after round {final.round}: {len(eval_seeds)} held-out episodes "
        "(mean and 95% CI; costs in currency per episode)",
    )
    print(f"wrote {out}/rounds.csv, rounds.md, round_<k>/, results.csv, results.md, config.json")
    return 0
