"""``python -m hmarl_bench.run``: train the shared store policy, then compare it with rules.

Seeds: the training env is seeded with ``--seed``; model selection uses validation seeds
``VALIDATION_SEED_BASE + i``; the final table uses held-out evaluation seeds
``EVAL_SEED_BASE + i``, the same for every run and every policy (common random numbers).
The three sets never overlap.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from hmarl_bench.learn.hyperparam_keys import HYPERPARAM_KEYS
from hmarl_bench.run_report import (
    compare_with_baselines,
    plot_learning_curve,
    print_table,
    versions,
)

VALIDATION_SEED_BASE = 500_000
EVAL_SEED_BASE = 1_000_000
N_VALIDATION_SEEDS = 10


@dataclass
class RunArgs:
    """Everything a run depends on; the CLI is generated from and parsed into this."""

    algo: str = "ppo"
    scenario: str = "default"
    seed: int = 0
    timesteps: int | None = None  # None: the hyperparams file's budget
    n_envs: int | None = None  # None: the hyperparams file's value
    out: str | None = None  # None: runs/<scenario>-<algo>-seed<seed>-<time>
    eval_episodes: int = 20
    eval_freq: int = 0  # 0: about ten evaluations per run
    load: str | None = None
    eval_only: bool = False
    hp: list[str] = field(default_factory=list)
    progress: bool = True
    learners: str = "stores"  # roles that learn: a non-empty subset of stores,warehouse,supplier
    rounds: int = 1  # rounds of alternating training (hmarl_bench.learn.rounds)


def _parse_value(text: str) -> Any:
    from hmarl_bench._toml import tomllib

    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``["learning_rate=1e-4", "net_arch=[128,128]"]`` -> dict with parsed values."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--hp expects key=value, got {item!r}")
        out[key.strip()] = _parse_value(value.strip())
    return out


def build_parser() -> argparse.ArgumentParser:
    from hmarl_bench.config import list_scenarios

    parser = argparse.ArgumentParser(
        prog="python -m hmarl_bench.run",
        description=(
            "Train one store policy shared by all stores (CTDE) with PPO or MaskablePPO on "
            "a scenario, then run it and rule-based baselines on the same held-out demand "
            "and print total cost, fill rate, lost sales, mean inventory and the seed "
            "reward (mean and 95% bootstrap CI over episodes). Outputs go to --out."
        ),
        epilog=(
            "examples:\n"
            "  python -m hmarl_bench.run --algo ppo\n"
            "  python -m hmarl_bench.run --algo maskable_ppo --scenario three_stores --seed 3\n"
            "  python -m hmarl_bench.run --algo ppo --hp learning_rate=1e-4 --hp n_epochs=5\n"
            "  python -m hmarl_bench.run --algo ppo --load runs/X/model.zip --eval-only\n"
            "  python -m hmarl_bench.run --algo ppo --learners stores,warehouse --rounds 2\n"
            "\nModel files are pickles: --load unpickles them; load only files you trust."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--algo",
        choices=["ppo", "maskable_ppo"],
        default="ppo",
        help="learner: SB3 PPO or sb3-contrib MaskablePPO (default: ppo)",
    )
    parser.add_argument(
        "--scenario",
        default="default",
        help=f"scenario name ({', '.join(list_scenarios())}) or a .toml path (default: default)",
    )
    parser.add_argument("--seed", type=int, default=0, help="training seed (default: 0)")
    parser.add_argument(
        "--timesteps",
        type=int,
        default=None,
        help="agent-steps to train (default: the hyperparams file's budget)",
    )
    parser.add_argument(
        "--n-envs",
        type=int,
        default=None,
        help="copies of the chain trained in parallel, slots = copies x stores x SKUs "
        "(default: the hyperparams file's n_envs)",
    )
    parser.add_argument("--out", default=None, help="run folder (default: runs/<name>-<time>)")
    parser.add_argument(
        "--eval-episodes",
        type=int,
        default=20,
        help="held-out evaluation episodes for the final table (default: 20)",
    )
    parser.add_argument(
        "--eval-freq",
        type=int,
        default=0,
        help="agent-steps between validation evaluations (default 0: ten per run)",
    )
    parser.add_argument(
        "--load",
        default=None,
        help="a saved model .zip: training continues from it, or with --eval-only it is only "
        "evaluated (unpickled: trusted files only)",
    )
    parser.add_argument(
        "--eval-only", action="store_true", help="skip training; evaluate the --load model"
    )
    parser.add_argument(
        "--hp",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a value of experiments/hyperparams/<algo>.toml (repeatable); keys: "
        + ", ".join(HYPERPARAM_KEYS),
    )
    parser.add_argument(
        "--no-progress", dest="progress", action="store_false", help="hide the progress bar"
    )
    parser.add_argument(
        "--learners",
        default="stores",
        help="roles that learn, comma-separated: any of stores,warehouse,supplier; the others "
        "follow their rules. More than one alternate (iterated best response)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="rounds of alternating training; each round's models are saved and evaluated",
    )
    return parser


def is_store_only(args: RunArgs) -> bool:
    """Whether the run is the store-only run (``--learners stores --rounds 1``)."""
    return args.learners.strip() == "stores" and args.rounds == 1


def parse_args(argv: list[str] | None = None) -> RunArgs:
    parser = build_parser()
    ns = parser.parse_args(argv)
    args = RunArgs(**vars(ns))
    if args.timesteps is not None and args.timesteps <= 0:
        parser.error(f"--timesteps must be > 0, got {args.timesteps}")
    if args.n_envs is not None and args.n_envs <= 0:
        parser.error(f"--n-envs must be > 0, got {args.n_envs}")
    if args.eval_episodes <= 0:
        parser.error(f"--eval-episodes must be > 0, got {args.eval_episodes}")
    if args.eval_only and not args.load:
        parser.error("--eval-only needs --load MODEL")
    if args.rounds <= 0:
        parser.error(f"--rounds must be > 0, got {args.rounds}")
    from hmarl_bench.learn.hierarchy import parse_learners

    try:
        parse_learners(args.learners)
    except ValueError as err:
        parser.error(f"--learners: {err}")
    if args.load and not is_store_only(args):
        parser.error("--load and --eval-only are for the store-only run (--learners stores)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from hmarl_bench.config import ScenarioError, load_scenario

    try:
        scenario = load_scenario(args.scenario)
        overrides = parse_overrides(args.hp)
    except (ScenarioError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if not is_store_only(args):
        from hmarl_bench.rounds_cli import run_rounds

        return run_rounds(args, scenario, overrides)
    return _run(args, scenario, overrides)


def _run(args: RunArgs, scenario, overrides: dict[str, Any]) -> int:
    from hmarl_bench.agents.interfaces import make_roles
    from hmarl_bench.agents.policy import ModelLoadError, check_spaces, load_model
    from hmarl_bench.evaluation import ModelStores, RoleController, evaluate
    from hmarl_bench.learn.hyperparams import hyperparams_file
    from hmarl_bench.learn.train import load_hyperparams, train_store_policy

    interface = overrides.get("interface", "seed")
    try:
        path = hyperparams_file("stores", args.algo, interface)
        params = load_hyperparams(args.algo, overrides, path)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    model = None
    if args.load:  # checked before anything is written
        try:
            model = load_model(args.load, args.algo)
            check_spaces(model, make_roles(scenario, interface)[0], f"model {args.load}")
        except ModelLoadError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path(args.out or f"runs/{scenario.name}-{args.algo}-seed{args.seed}-{stamp}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        print(f"error: cannot use {out} as the run folder: {err}", file=sys.stderr)
        return 2
    validation_seeds = [VALIDATION_SEED_BASE + i for i in range(N_VALIDATION_SEEDS)]
    eval_seeds = [EVAL_SEED_BASE + i for i in range(args.eval_episodes)]
    written: list[str] = []
    curve = pd.DataFrame()
    seconds = 0.0
    if not args.eval_only:
        timesteps = args.timesteps or int(params["timesteps"])
        freq = args.eval_freq or max(timesteps // 10, 1)
        print(
            f"training {args.algo} on '{scenario.name}' for {timesteps:,} agent-steps "
            f"(seed {args.seed}); logs in {out}"
        )
        try:
            result = train_store_policy(
                scenario,
                args.algo,
                timesteps,
                args.seed,
                args.n_envs,
                overrides,
                out,
                validation_seeds,
                freq,
                args.progress,
                checkpoint_freq=max(timesteps // 4, 1),
                initial_model=model,
            )
        except (ValueError, AssertionError) as err:  # SB3 asserts on some settings
            print(f"error: training failed: {err}", file=sys.stderr)
            return 2
        model, curve, seconds = result.model, result.learning_curve, result.seconds
        params = result.hyperparams
        model.save(out / "model.zip")
        curve.to_csv(out / "learning_curve.csv", index=False)
        written += ["model.zip", "learning_curve.csv", "best_model.zip", "tb/", "checkpoints/"]
        print(
            f"trained in {seconds:.0f} s ({result.timesteps / max(seconds, 1e-9):,.0f} "
            "agent-steps/s); model selected on validation cost"
        )

    controller = RoleController(stores=ModelStores(model), interface=interface)
    learned = evaluate(scenario, controller, eval_seeds)
    table = compare_with_baselines(
        scenario, {args.algo: learned}, validation_seeds, eval_seeds, args.seed, out
    )
    written += ["results.csv", "results.md", "episodes.csv", "config.json"]
    if not curve.empty:
        baseline_cost = evaluate(scenario, RoleController(), validation_seeds)["total_cost"].mean()
        plot_learning_curve(curve, float(baseline_cost), out / "learning_curve.png")
        written.append("learning_curve.png")
    config = {
        "args": asdict(args),
        "hyperparams": params,
        "scenario": scenario.to_dict(),
        "validation_seeds": validation_seeds,
        "eval_seeds": eval_seeds,
        "train_seconds": seconds,
        "versions": versions(),
    }
    (out / "config.json").write_text(json.dumps(config, indent=2, default=str), encoding="utf-8")
    print_table(
        table,
        f"{scenario.name}: {len(eval_seeds)} held-out episodes "
        f"(mean and 95% CI; costs in currency per episode, days "
        f"{scenario.warmup_days}-{scenario.episode_days - 1})",
    )
    present = [name for name in written if (out / name.rstrip("/")).exists()]
    print(f"wrote in {out}: {', '.join(present)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
