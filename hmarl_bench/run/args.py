"""The arguments of ``python -m hmarl_bench.run``: one dataclass, its parser and its checks.

Every check that needs no training runs here, before a run folder is made: a bad value is
one line on stderr and exit status 2, and nothing is written.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, fields
from typing import Any

from hmarl_bench.cli_parser import OneLineParser
from hmarl_bench.learn.hyperparam_keys import (
    ALGO_NAMES,
    HYPERPARAM_KEYS,
    check_algo,
    learner_names,
)

__all__ = [
    "EVAL_SEED_BASE",
    "N_VALIDATION_SEEDS",
    "VALIDATION_SEED_BASE",
    "RunArgs",
    "build_parser",
    "given_options",
    "is_store_only",
    "parse_args",
    "parse_overrides",
]

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
    force: bool = False  # --out may be an existing run folder: its run files are replaced
    resume: str | None = None  # continue the interrupted run in this folder
    restart: bool = False  # with resume: train it again from step 0 (no readable checkpoint)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> RunArgs:
        """The args recorded in a run's ``config.json`` (keys it does not know ignored)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})


def _algo(value: str) -> str:
    """argparse type of ``--algo``: a learner algorithm, or the one-line reason it is not."""
    try:
        check_algo(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return value


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

    parser = OneLineParser(
        prog="python -m hmarl_bench.run",
        description=(
            "Train one store policy shared by all stores (CTDE) with PPO or another --algo on "
            "a scenario (other roles: --learners), then run it and rule-based baselines on "
            "the same held-out demand and print total cost, fill rate, lost sales, mean "
            "inventory and the seed reward (mean and 95% bootstrap CI over episodes). Outputs "
            "go to --out."
        ),
        epilog=(
            "examples:\n"
            "  python -m hmarl_bench.run --algo ppo\n"
            "  python -m hmarl_bench.run --algo maskable_ppo --scenario three_stores --seed 3\n"
            "  python -m hmarl_bench.run --algo ppo --hp learning_rate=1e-4 --hp n_epochs=5\n"
            "  python -m hmarl_bench.run --algo ppo --load runs/X/model.zip --eval-only\n"
            "  python -m hmarl_bench.run --algo ppo --learners stores,warehouse --rounds 2\n"
            "  python -m hmarl_bench.run --algo sac    # continuous levels, planner track\n"
            "  python -m hmarl_bench.run --algo td3 --learners warehouse --hp interface=view\n"
            "  python -m hmarl_bench.run --resume runs/X    # after Ctrl-C\n"
            "\nBudgets: PPO trains whole rollouts (n_steps x slots agent-steps), so --timesteps "
            "is rounded up\nto whole rollouts; the run says so before training and config.json "
            "records both numbers.\nOff-policy algorithms (DQN, QR-DQN, SAC, TD3, TQC, DDPG) "
            "count train_freq x slots agent-steps\nper collection step instead of n_steps x "
            "slots.\nCtrl-C during training saves a checkpoint, config.json and "
            "the learning curve so far and\nexits with status 130; --resume RUN_DIR continues "
            "to the same budget with the same configuration.\n"
            "\nModel files are pickles: --load unpickles them; load only files you trust."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--algo",
        type=_algo,
        default="ppo",
        metavar="{" + ",".join(ALGO_NAMES) + "}",
        help=(
            "learner: SB3 PPO or A2C, sb3-contrib MaskablePPO, RecurrentPPO (an LSTM policy) "
            "or TRPO (default: ppo); DQN and QR-DQN for the warehouse or supplier learner "
            "alone (--learners); SAC, TD3, TQC (sb3-contrib) and DDPG set continuous "
            "order-up-to levels for the stores or the warehouse, on the planner track unless "
            "--hp interface=view (the seed track has no levels and the supplier's actions are "
            "categorical: both refused)"
        ),
    )
    parser.add_argument(
        "--scenario",
        default="default",
        help=f"scenario name ({', '.join(list_scenarios())}) or a .toml path (default: default)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="training seed, a whole number >= 0 (default: 0)"
    )
    parser.add_argument(
        "--timesteps",
        type=int,
        default=None,
        help="agent-steps to train, rounded up to whole rollouts of n_steps x slots "
        "(off-policy: collection steps of train_freq x slots) (default: the hyperparams "
        "file's budget)",
    )
    parser.add_argument(
        "--n-envs",
        type=int,
        default=None,
        help="copies of the chain trained in parallel, slots = copies x stores x SKUs "
        "(default: the hyperparams file's n_envs)",
    )
    parser.add_argument(
        "--out",
        default=None,
        help="run folder, new or empty (default: runs/<scenario file>-<algo>-seed<k>-<time>)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="let --out be an existing run folder: the files a run writes are deleted first",
    )
    parser.add_argument(
        "--resume",
        default=None,
        metavar="RUN_DIR",
        help="continue an interrupted run from its last readable checkpoint (a truncated "
        "one is named and passed over), to the same budget with the configuration in "
        "RUN_DIR/config.json (give no other options but --no-progress and --restart)",
    )
    parser.add_argument(
        "--restart",
        action="store_true",
        help="with --resume RUN_DIR: train the run again from step 0 with its recorded "
        "configuration, deleting its checkpoints, models and learning curve (what to do "
        "when --resume finds no readable checkpoint)",
    )
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
        help="agent-steps between validation evaluations, >= 0 (default 0: ten per run)",
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


def given_options(argv: list[str]) -> dict[str, Any]:
    """The options written on the command line (not their defaults), by RunArgs field."""
    parser = build_parser()
    for action in parser._actions:  # every default suppressed: only given options remain
        action.default = argparse.SUPPRESS
    return vars(parser.parse_args(argv))


def _check(parser: argparse.ArgumentParser, args: RunArgs) -> None:
    positive = {"--timesteps": args.timesteps, "--n-envs": args.n_envs, "--rounds": args.rounds}
    for flag, value in positive.items():
        if value is not None and value <= 0:
            parser.error(f"{flag} must be > 0, got {value}")
    if args.eval_episodes <= 0:
        parser.error(f"--eval-episodes must be > 0, got {args.eval_episodes}")
    if args.seed < 0:
        parser.error(f"--seed must be a whole number >= 0, got {args.seed}")
    if args.eval_freq < 0:
        parser.error(f"--eval-freq must be >= 0 (0: ten evaluations per run), got {args.eval_freq}")
    if args.eval_only and not args.load:
        parser.error("--eval-only needs --load MODEL")
    try:
        learner_names(args.learners)
    except ValueError as err:
        parser.error(f"--learners: {err}")
    if args.load and not is_store_only(args):
        parser.error("--load and --eval-only are for the store-only run (--learners stores)")


def parse_args(argv: list[str] | None = None) -> RunArgs:
    """Parse and check the command line (exits with status 2 and one line on bad input).

    With ``--resume RUN_DIR`` the other fields come later from ``RUN_DIR/config.json``;
    options given beside it are checked against it by the caller (:func:`given_options`).
    """
    parser = build_parser()
    args = RunArgs(**vars(parser.parse_args(argv)))
    if args.resume is None:
        if args.restart:
            parser.error("--restart goes with --resume RUN_DIR (it restarts that run)")
        _check(parser, args)
    elif args.force:
        parser.error("--resume continues a run in its own folder; leave out --force")
    return args
