"""``python -m hmarl_bench.learn.search``: hyperparameters searched with Optuna on tuning seeds.

As rl-zoo3's ``--optimize`` does: a TPE sampler proposes hyperparameters, each trial trains
a learner (one role with :func:`~hmarl_bench.learn.hierarchy.train_learner`, or several
concurrently with :func:`~hmarl_bench.learn.joint.train_joint`) with those values over its
hyperparameters file, and scores it by the chain's mean total cost on the *validation*
seeds (100 .. 109 by default: the benchmark's tuning seeds, never its evaluation seeds
10000 ..); a median pruner stops trials whose validation cost lags the others' at the same
budget. Every trial goes to ``<out>/trials.csv`` (number, state, value, seconds, params);
the best trial's values over the learner's file go to ``<out>/best.toml``, to be copied
into ``experiments/hyperparams/`` with the CSV beside them.

Needs the ``search`` extra (``pip install -e ".[search]"``). Trials run one after another
in this process (one training at a time: the cores are shared).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from hmarl_bench._atomic import write_atomic
from hmarl_bench.agents.interfaces import INTERFACES

__all__ = ["SEARCH_SPACE", "main", "sample_params", "search"]

#: What a trial may change: name -> ("log", low, high) | ("float", low, high) | choices.
SEARCH_SPACE: dict[str, Any] = {
    "learning_rate": ("log", 1e-4, 3e-3),
    "n_steps": [64, 128, 256],
    "batch_size": [128, 256, 512],
    "n_epochs": [5, 10],
    "gamma": [0.98, 0.99, 0.995],
    "ent_coef": ("log", 1e-4, 3e-2),
    "clip_range": [0.1, 0.2, 0.3],
    "net_arch": ["64x64", "128x128"],
    "team_weight": [0.0, 0.5, 0.9, 1.0],
}


def sample_params(trial: Any, space: dict[str, Any] | None = None) -> dict[str, Any]:
    """One trial's hyperparameters (``net_arch`` as a list of layer sizes)."""
    params: dict[str, Any] = {}
    for name, spec in (space or SEARCH_SPACE).items():
        if isinstance(spec, tuple) and spec[0] == "log":
            params[name] = trial.suggest_float(name, spec[1], spec[2], log=True)
        elif isinstance(spec, tuple) and spec[0] == "float":
            params[name] = trial.suggest_float(name, spec[1], spec[2])
        else:
            params[name] = trial.suggest_categorical(name, list(spec))
    if "net_arch" in params:
        params["net_arch"] = [int(n) for n in str(params["net_arch"]).split("x")]
    return params


def search(
    scenario: str,
    learners: str,
    algo: str,
    interface: str,
    trials: int,
    timesteps: int,
    seed: int,
    validation_seeds: Sequence[int],
    out: Path,
    evaluations: int = 5,
    fixed: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Run the study; write ``trials.csv`` and ``best.toml`` under ``out``; return the trials.

    ``fixed`` hyperparameters hold in every trial (and are not searched)."""
    import optuna

    from hmarl_bench.learn.hierarchy import parse_learners, train_learner
    from hmarl_bench.learn.joint import train_joint
    from hmarl_bench.learn.train import load_hyperparams

    roles = parse_learners(learners)
    out.mkdir(parents=True, exist_ok=True)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1),
    )
    eval_freq = max(timesteps // evaluations, 1)
    seconds: dict[int, float] = {}

    def objective(trial: Any) -> float:
        space = {k: v for k, v in SEARCH_SPACE.items() if k not in (fixed or {})}
        params = {**sample_params(trial, space), **(fixed or {}), "interface": interface}
        points: list[float] = []

        def on_eval(step: int, cost: float) -> bool:
            points.append(cost)
            trial.report(min(points), len(points))
            return not trial.should_prune()

        start = time.perf_counter()
        if len(roles) == 1:
            result = train_learner(
                roles[0], scenario, algo, timesteps=timesteps, seed=seed, hyperparams=params,
                eval_seeds=validation_seeds, eval_freq=eval_freq, on_eval=on_eval,
            )  # fmt: skip
        else:
            result = train_joint(
                scenario, roles, algo, timesteps=timesteps, seed=seed, hyperparams=params,
                validation_seeds=validation_seeds, eval_freq=eval_freq, on_eval=on_eval,
            )  # fmt: skip
        seconds[trial.number] = time.perf_counter() - start
        del result
        if trial.should_prune():
            raise optuna.TrialPruned()
        return min(points)

    study.optimize(objective, n_trials=trials)
    frame = study.trials_dataframe(attrs=("number", "state", "value", "params"))
    frame.insert(3, "seconds", frame["number"].map(seconds))
    frame.insert(0, "learners", learners)
    frame.insert(0, "scenario", scenario)
    write_atomic(out / "trials.csv", frame.to_csv(index=False))
    completed = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if completed:
        space = {k: v for k, v in SEARCH_SPACE.items() if k not in (fixed or {})}
        best = {**sample_params(optuna.trial.FixedTrial(study.best_params), space), **(fixed or {})}
        lines = [
            f"# best of {len(study.trials)} trials on {scenario} (validation seeds "
            f"{validation_seeds[0]}..{validation_seeds[-1]}): "
            f"mean total cost {study.best_value:.1f}",
        ]
        for role in roles:
            values = load_hyperparams(algo, {**best, "interface": interface},
                                      role.hyperparams_path(algo, interface))  # fmt: skip
            lines.append(f"[{role.name}]")
            lines += [f"{k} = {json.dumps(v)}" for k, v in values.items() if k != "reward"]
            for k, v in values.get("reward", {}).items():
                lines.append(f"reward.{k} = {json.dumps(v)}")
        write_atomic(out / "best.toml", "\n".join(lines) + "\n")
    return frame


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m hmarl_bench.learn.search",
        description=(
            "Search a learner's hyperparameters with Optuna (TPE sampler, median pruner) on "
            "validation seeds; writes <out>/trials.csv and <out>/best.toml. Search space: "
            + ", ".join(SEARCH_SPACE)
        ),
    )
    parser.add_argument("--scenario", default="default", help="scenario name or TOML path")
    parser.add_argument(
        "--learners", default="warehouse",
        help="one role (stores, warehouse or supplier) or several joined by '+' (trained "
             "concurrently, hmarl_bench.learn.joint)",
    )  # fmt: skip
    parser.add_argument("--algo", default="maskable_ppo", choices=["ppo", "maskable_ppo"])
    parser.add_argument("--interface", default="planner", choices=list(INTERFACES))
    parser.add_argument("--trials", type=int, default=8, help="trials to run (default 8)")
    parser.add_argument(
        "--timesteps", type=int, default=100_000,
        help="training budget per trial (role decisions; copy-days when joint)",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="sampler and training seed")
    parser.add_argument(
        "--validation-seeds", default="100-109",
        help="episodes that score a trial, 'a-b' or comma-separated (default 100-109, the "
             "tuning seeds; keep them apart from evaluation seeds)",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path("runs/search"), help="output folder")
    parser.add_argument(
        "--hp", action="append", default=[], metavar="KEY=VALUE",
        help="a hyperparameter fixed in every trial (not searched), e.g. central_critic=true",
    )  # fmt: skip
    return parser


def _seeds(text: str) -> list[int]:
    if "-" in text:
        low, high = (int(v) for v in text.split("-", 1))
        return list(range(low, high + 1))
    return [int(v) for v in text.split(",") if v.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    from hmarl_bench.cli_parser import check_outputs

    parser = _parser()
    args = parser.parse_args(argv)
    check_outputs(parser, args.out, None, "")  # before any trial: the folder takes files
    try:
        seeds = _seeds(args.validation_seeds)
        if not seeds or args.trials < 1 or args.timesteps < 1:
            raise ValueError("need validation seeds, --trials >= 1 and --timesteps >= 1")
        if max(seeds) >= 10000:
            raise ValueError("validation seeds must not be the evaluation seeds 10000..")
        from hmarl_bench.run.args import parse_overrides

        frame = search(
            args.scenario, args.learners, args.algo, args.interface, args.trials,
            args.timesteps, args.seed, seeds, args.out, fixed=parse_overrides(args.hp),
        )  # fmt: skip
    except ModuleNotFoundError as err:
        print(f"error: {err.name} is missing; pip install -e '.[search]'", file=sys.stderr)
        return 2
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(frame.to_string(index=False))
    print(f"wrote {args.out / 'trials.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
