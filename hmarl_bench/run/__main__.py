"""``python -m hmarl_bench.run``: train the shared store policy, then compare it with rules.

Seeds: the training env is seeded with ``--seed``; model selection uses validation seeds
``VALIDATION_SEED_BASE + i``; the final table uses held-out evaluation seeds
``EVAL_SEED_BASE + i``, the same for every run and every policy (common random numbers).
The three sets never overlap.

Every input is checked before the run folder is made (:mod:`hmarl_bench.run.args`, the
scenario, the hyperparameters, a minibatch no larger than a rollout, the folder itself),
so a bad one is one line and exit status 2 with nothing written. Ctrl-C during training
saves a checkpoint, ``config.json`` and the learning curve so far and exits with 130;
``--resume RUN_DIR`` continues it (:mod:`hmarl_bench.run.folder`) from its latest readable
checkpoint (a truncated one is named and passed over), with the learning curve up to it
(written after each point, so it survives even a kill). With no readable checkpoint left
it refuses, one line, rather than silently training from step 0: ``--resume RUN_DIR
--restart`` does that on purpose. ``--learners`` and ``--rounds`` runs go to
:mod:`hmarl_bench.run.rounds`.
"""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from hmarl_bench._atomic import save_atomic, write_atomic
from hmarl_bench.run.args import (
    EVAL_SEED_BASE,
    N_VALIDATION_SEEDS,
    VALIDATION_SEED_BASE,
    RunArgs,
    build_parser,
    is_store_only,
    parse_args,
    parse_overrides,
)
from hmarl_bench.run.folder import (
    RunFolderError,
    clear_training,
    code_record,
    default_run_folder,
    make_run_folder,
    resume_args,
    write_config,
)

__all__ = [
    "EVAL_SEED_BASE",
    "N_VALIDATION_SEEDS",
    "VALIDATION_SEED_BASE",
    "RunArgs",
    "build_parser",
    "main",
    "parse_args",
    "parse_overrides",
]

#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED = 130


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from hmarl_bench.config import ScenarioError, read_scenario_file, scenario_from_dict

    try:
        config: dict[str, Any] | None = None
        if args.resume is not None:
            args, config = resume_args(args, argv)
            scenario = scenario_from_dict(config["scenario"])
            source = config.get("scenario_source", {})
        else:
            scenario_file = read_scenario_file(args.scenario)
            scenario = scenario_from_dict(
                {"name": scenario_file.label, **scenario_file.data}, str(scenario_file.path)
            )
            source = {"label": scenario_file.label, **scenario_file.provenance()}
        overrides = parse_overrides(args.hp)
    except (ScenarioError, RunFolderError, ValueError) as err:
        return _error(str(err))
    if args.restart and not is_store_only(args):
        return _error("--restart is for the store-only run (--learners stores, one round)")
    try:
        if not is_store_only(args):
            from hmarl_bench.run.rounds import run_rounds

            return run_rounds(args, scenario, source, overrides, config)
        return _run(args, scenario, source, overrides, config)
    except KeyboardInterrupt:
        print(
            "\ninterrupted: stopped at once; --resume RUN_DIR continues from the last checkpoint",
            file=sys.stderr,
        )
        return INTERRUPTED
    except RunFolderError as err:
        return _error(str(err))
    except OSError as err:  # a full disk: every run file is written atomically
        print(f"error: {err}; files written before are intact (checkpoints: --resume "
              f"{args.out} continues from the last one)", file=sys.stderr)  # fmt: skip
        return 1


def _plan(args: RunArgs, scenario: Any, overrides: dict[str, Any]) -> tuple[dict, Any]:
    """The resolved hyperparameters and the budget (raises ValueError for bad ones)."""
    from hmarl_bench.learn.budget import check_batch_size, rollout_budget
    from hmarl_bench.learn.hyperparam_keys import (
        check_role_algo,
        hyperparams_file,
        load_hyperparams,
    )

    check_role_algo("stores", args.algo)
    path = hyperparams_file("stores", args.algo, overrides.get("interface", "seed"))
    params = load_hyperparams(args.algo, overrides, path)
    params["n_envs"] = int(args.n_envs or params["n_envs"])
    params["timesteps"] = int(args.timesteps or params["timesteps"])
    slots = params["n_envs"] * scenario.n_slots
    if not args.eval_only:
        check_batch_size(params, slots)
    return params, rollout_budget(params["timesteps"], params, slots)


def _run(
    args: RunArgs,
    scenario: Any,
    source: dict[str, Any],
    overrides: dict[str, Any],
    config: dict[str, Any] | None,
) -> int:
    resuming = config is not None
    try:  # before torch is imported: a bad hyperparameter is one line at once
        params, budget = _plan(args, scenario, overrides)
        if resuming and params != config["hyperparams"]:
            raise ValueError(
                "the hyperparameters differ from the run's config.json (a hyperparams file "
                "changed since it started), so resuming would not continue the same run"
            )
    except ValueError as err:
        return _error(str(err))
    from hmarl_bench.agents.continuous import continuous_role, is_continuous
    from hmarl_bench.agents.interfaces import make_roles
    from hmarl_bench.agents.policy import ModelLoadError, check_spaces, load_model
    from hmarl_bench.learn.hyperparam_keys import track_name
    from hmarl_bench.run.report import versions

    model: Any = None
    if args.load and not (resuming and config.get("status") == "trained"):
        try:  # checked before anything is written
            model = load_model(args.load, args.algo)
            store_role = make_roles(scenario, track_name(params, args.algo))[0]
            if is_continuous(model):  # SAC, TD3, ...: levels on a line
                store_role = continuous_role(store_role)
            check_spaces(model, store_role, f"model {args.load}")
        except ModelLoadError as err:
            return _error(str(err))
    if resuming:
        out = Path(args.out)
    else:
        label = source.get("label", scenario.name)
        out = Path(args.out or default_run_folder(f"{label}-{args.algo}-seed{args.seed}"))
        try:
            make_run_folder(out, args.force)
        except RunFolderError as err:
            return _error(str(err))
        config = {
            "status": "evaluating" if args.eval_only else "training",
            "args": asdict(args),
            "hyperparams": params,
            "budget": budget.as_dict(),
            "scenario": scenario.to_dict(),
            "scenario_source": source,
            "validation_seeds": [VALIDATION_SEED_BASE + i for i in range(N_VALIDATION_SEEDS)],
            "eval_seeds": [EVAL_SEED_BASE + i for i in range(args.eval_episodes)],
            "train_seconds": 0.0,
            "timesteps_trained": 0,
            "versions": versions(),
            "code": code_record(),
        }
        write_config(out, config)
    if args.restart:
        config["status"] = "training"
    if not args.eval_only and config["status"] != "trained":
        model = train_run(args, scenario, overrides, budget, out, config, model)
        if isinstance(model, int):
            return model
    elif config["status"] == "trained":
        model = load_model(out / "model.zip", args.algo)
    return evaluate_run(args, scenario, out, config, model)


def _resume_point(args: RunArgs, out: Path, budget: Any, config: dict[str, Any]) -> Any:
    """The latest readable checkpoint an interrupted run continues from, with its learning
    curve up to it; raises RunFolderError when there is none (never a silent restart)."""
    import numpy as np
    import pandas as pd

    from hmarl_bench.learn.checkpoints import Resume, latest_checkpoint

    bad: list[str] = []
    checkpoint = latest_checkpoint(out / "checkpoints", args.algo, budget.rollout, bad)
    if checkpoint is None:
        found = f"{len(bad)} unreadable" if bad else "none saved"
        raise RunFolderError(
            f"no readable checkpoint in {out / 'checkpoints'} ({found}): cannot resume; "
            f"train the run again from step 0 with: python -m hmarl_bench.run --resume "
            f"{out} --restart"
        )
    path = out / "learning_curve.csv"
    try:
        curve = pd.read_csv(path).to_dict("records") if path.is_file() else []
    except (OSError, ValueError) as err:
        raise RunFolderError(
            f"cannot read {path} ({err}); --resume {out} --restart trains again from step 0"
        ) from None
    seed = int(np.random.SeedSequence([args.seed, checkpoint.steps]).generate_state(1)[0])
    print(
        f"resuming {out} at {checkpoint.steps:,} of {budget.trained:,} agent-steps "
        f"(checkpoint {checkpoint.model.name}; new training episodes from here)"
    )
    return Resume(checkpoint, curve, seed)


def train_run(
    args: RunArgs,
    scenario: Any,
    overrides: dict[str, Any],
    budget: Any,
    out: Path,
    config: dict[str, Any],
    initial_model: Any,
) -> Any:
    """Train (or continue training) in ``out``; the selected model, or an exit status:
    :data:`INTERRUPTED` after Ctrl-C (checkpoint, model so far, learning curve and
    config.json saved, one line printed), 2 when SB3 refuses the settings."""
    from hmarl_bench.learn.checkpoints import catch_sigint
    from hmarl_bench.learn.hyperparam_keys import track_note
    from hmarl_bench.learn.train import train_store_policy

    if args.restart:
        clear_training(out)
        config.update(train_seconds=0.0, timesteps_trained=0)
        print(f"restarting {out} from step 0 (--restart): its checkpoints and curve deleted")
    resume = _resume_point(args, out, budget, config) if args.resume and not args.restart else None
    freq = args.eval_freq or max(budget.requested // 10, 1)
    print(
        f"training {args.algo}{track_note(config['hyperparams'], args.algo)} on "
        f"'{scenario.name}' for {budget.describe()} "
        f"(seed {args.seed}); logs in {out}",
        flush=True,
    )
    with catch_sigint() as stop:
        try:
            result = train_store_policy(
                scenario,
                args.algo,
                budget.requested,
                args.seed,
                config["hyperparams"]["n_envs"],
                overrides,
                out,
                config["validation_seeds"],
                freq,
                args.progress,
                checkpoint_freq=max(budget.requested // 4, 1),
                initial_model=initial_model,
                stop=stop,
                resume=resume,
            )
        except (ValueError, AssertionError) as err:  # SB3 asserts on some settings
            return _error(f"training failed: {err}")
    save_atomic(out / "model.zip", result.model.save)
    write_atomic(out / "learning_curve.csv", result.learning_curve.to_csv(index=False))
    config["train_seconds"] = float(config.get("train_seconds", 0.0)) + result.seconds
    config["timesteps_trained"] = int(result.timesteps)
    if result.interrupted:
        config["status"] = "interrupted"
        write_config(out, config)
        print(
            f"\ninterrupted at {result.timesteps:,} of {budget.trained:,} agent-steps: "
            f"checkpoint, model so far, learning curve and config.json saved in {out}; "
            f"continue with: python -m hmarl_bench.run --resume {out}",
            file=sys.stderr,
        )
        return INTERRUPTED
    config["status"] = "trained"
    write_config(out, config)
    new = result.timesteps - (resume.checkpoint.steps if resume is not None else 0)
    print(
        f"trained {result.timesteps:,} agent-steps ({new:,} in {result.seconds:.0f} s, "
        f"{new / max(result.seconds, 1e-9):,.0f} agent-steps/s); model selected on "
        "validation cost"
    )
    return result.model


def evaluate_run(
    args: RunArgs, scenario: Any, out: Path, config: dict[str, Any], model: Any
) -> int:
    """Run the model and the baselines on the held-out seeds; write the tables."""
    import pandas as pd

    from hmarl_bench.agents.continuous import model_controller
    from hmarl_bench.evaluation import RoleController, evaluate
    from hmarl_bench.learn.hyperparam_keys import track_name
    from hmarl_bench.run.report import compare_with_baselines, plot_learning_curve, print_table

    validation_seeds, eval_seeds = config["validation_seeds"], config["eval_seeds"]
    params = config["hyperparams"]
    interface = track_name(params, args.algo)  # the track as trained
    horizon_mask = bool(params.get("horizon_mask", True))  # and its horizon rule
    controller = model_controller(model, interface=interface, horizon_mask=horizon_mask)
    learned = evaluate(scenario, controller, eval_seeds)
    table = compare_with_baselines(
        scenario, {args.algo: learned}, validation_seeds, eval_seeds, args.seed, out
    )
    curve_path = out / "learning_curve.csv"
    if not args.eval_only and curve_path.is_file():
        curve = pd.read_csv(curve_path)
        baseline_cost = evaluate(scenario, RoleController(), validation_seeds)["total_cost"].mean()
        plot_learning_curve(curve, float(baseline_cost), out / "learning_curve.png")
    config["status"] = "complete"
    write_config(out, config)
    print_table(
        table,
        f"{scenario.name}: {len(eval_seeds)} held-out episodes "
        f"(mean and 95% CI; costs in currency per episode, days "
        f"{scenario.warmup_days}-{scenario.episode_days - 1})",
    )
    written = [
        "model.zip",
        "learning_curve.csv",
        "best_model.zip",
        "tb/",
        "checkpoints/",
        "results.csv",
        "results.md",
        "episodes.csv",
        "config.json",
        "learning_curve.png",
    ]
    present = [name for name in written if (out / name.rstrip("/")).exists()]
    print(f"wrote in {out}: {', '.join(present)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
