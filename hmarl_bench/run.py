"""``python -m hmarl_bench.run``: train the shared store policy, then compare it with rules.

Seeds: the training env is seeded with ``--seed``; model selection uses validation seeds
``VALIDATION_SEED_BASE + i``; the final table uses held-out evaluation seeds
``EVAL_SEED_BASE + i``, the same for every run and every policy (common random numbers).
The three sets never overlap.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

VALIDATION_SEED_BASE = 500_000
EVAL_SEED_BASE = 1_000_000
N_VALIDATION_SEEDS = 10
#: Baselines of the final table (names in hmarl_bench.baselines).
RUN_BASELINES = ("seed_ss_actions", "fixed_forecast_actions", "random")


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
            "reward (mean and 95%% bootstrap CI over episodes). Outputs go to --out."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--algo",
        choices=["ppo", "maskable_ppo"],
        default="ppo",
        help="learner: SB3 PPO or sb3-contrib MaskablePPO",
    )
    parser.add_argument(
        "--scenario",
        default="default",
        help=f"scenario name ({', '.join(list_scenarios())}) or .toml path",
    )
    parser.add_argument("--seed", type=int, default=0, help="training seed")
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
        help="copies of the chain trained in parallel (slots = copies x stores x SKUs)",
    )
    parser.add_argument("--out", default=None, help="run folder (default: runs/<name>-<time>)")
    parser.add_argument(
        "--eval-episodes",
        type=int,
        default=20,
        help="held-out evaluation episodes for the final table",
    )
    parser.add_argument(
        "--eval-freq",
        type=int,
        default=0,
        help="agent-steps between validation evaluations (0: ten per run)",
    )
    parser.add_argument(
        "--load",
        default=None,
        help="a saved model .zip to start from (unpickled: trusted files only)",
    )
    parser.add_argument(
        "--eval-only", action="store_true", help="skip training; evaluate the --load model"
    )
    parser.add_argument(
        "--hp",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a hyperparameter of experiments/hyperparams/<algo>.toml",
    )
    parser.add_argument(
        "--no-progress", dest="progress", action="store_false", help="no progress bar"
    )
    return parser


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
    return args


def mean_ci(values: np.ndarray, seed: int = 0) -> tuple[float, float, float]:
    """Mean and 95% percentile-bootstrap CI (scipy) of per-episode values."""
    from scipy.stats import bootstrap

    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < 2 or np.ptp(values) == 0:
        return mean, mean, mean
    res = bootstrap(
        (values,),
        np.mean,
        confidence_level=0.95,
        n_resamples=2000,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    return mean, float(res.confidence_interval.low), float(res.confidence_interval.high)


TABLE_COLUMNS = {
    "total_cost": "total cost",
    "fill_rate": "fill rate",
    "lost_sales": "lost sales [units]",
    "mean_store_inventory": "store inventory [units]",
    "store_reward": "seed reward",
}


def summary_table(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per policy: mean, 95% CI low and high of each KPI over episodes."""
    rows = []
    for policy, frame in frames.items():
        row: dict[str, Any] = {"policy": policy, "episodes": len(frame)}
        for col in TABLE_COLUMNS:
            mean, low, high = mean_ci(frame[col].to_numpy())
            row[col], row[f"{col}_ci_low"], row[f"{col}_ci_high"] = mean, low, high
        rows.append(row)
    return pd.DataFrame(rows)


def _fmt(value: float, col: str) -> str:
    if col == "fill_rate":
        return f"{value:.4f}"
    return f"{value:,.1f}" if abs(value) < 1000 else f"{value:,.0f}"


def render_markdown(table: pd.DataFrame) -> str:
    head = "| policy | " + " | ".join(TABLE_COLUMNS.values()) + " |"
    lines = [head, "|---" * (len(TABLE_COLUMNS) + 1) + "|"]
    for _, row in table.iterrows():
        cells = [
            f"{_fmt(row[c], c)} [{_fmt(row[c + '_ci_low'], c)}, {_fmt(row[c + '_ci_high'], c)}]"
            for c in TABLE_COLUMNS
        ]
        lines.append(f"| {row['policy']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def print_table(table: pd.DataFrame, title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    rich_table = Table(title=title)
    rich_table.add_column("policy")
    for label in TABLE_COLUMNS.values():
        rich_table.add_column(label, justify="right")
    for _, row in table.iterrows():
        rich_table.add_row(
            str(row["policy"]),
            *[
                f"{_fmt(row[c], c)} [{_fmt(row[c + '_ci_low'], c)}, {_fmt(row[c + '_ci_high'], c)}]"
                for c in TABLE_COLUMNS
            ],
        )
    console = Console()
    if not console.is_terminal:
        console = Console(width=160)
    console.print(rich_table)


def plot_learning_curve(curve: pd.DataFrame, baseline_cost: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(context="paper", style="whitegrid", palette="colorblind")
    fig, ax = plt.subplots(figsize=(6, 3.5))
    sns.lineplot(
        data=curve,
        x="timesteps",
        y="mean_total_cost",
        marker="o",
        ax=ax,
        label="learned store policy",
    )
    ax.axhline(
        baseline_cost, ls="--", color=sns.color_palette("colorblind")[1], label="seed rule (s,S)"
    )
    ax.set_xlabel("training agent-steps")
    ax.set_ylabel("validation total cost [currency / episode]")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from hmarl_bench.config import ScenarioError, load_scenario

    try:
        scenario = load_scenario(args.scenario)
        overrides = parse_overrides(args.hp)
    except (ScenarioError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return _run(args, scenario, overrides)


def _run(args: RunArgs, scenario, overrides: dict[str, Any]) -> int:
    from hmarl_bench.agents.policy import ModelLoadError, check_spaces, load_model
    from hmarl_bench.agents.roles import StoreRole
    from hmarl_bench.baselines import make_baseline
    from hmarl_bench.evaluation import ModelStores, RoleController, evaluate
    from hmarl_bench.train import load_hyperparams, train_store_policy

    try:
        params = load_hyperparams(args.algo, overrides)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path(args.out or f"runs/{scenario.name}-{args.algo}-seed{args.seed}-{stamp}")
    out.mkdir(parents=True, exist_ok=True)
    validation_seeds = [VALIDATION_SEED_BASE + i for i in range(N_VALIDATION_SEEDS)]
    eval_seeds = [EVAL_SEED_BASE + i for i in range(args.eval_episodes)]

    model = None
    if args.load:
        try:
            model = load_model(args.load, args.algo)
            check_spaces(model, StoreRole(scenario), f"model {args.load}")
        except ModelLoadError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
    curve = pd.DataFrame()
    seconds = 0.0
    if not args.eval_only:
        timesteps = args.timesteps or int(params["timesteps"])
        freq = args.eval_freq or max(timesteps // 10, 1)
        print(
            f"training {args.algo} on '{scenario.name}' for {timesteps:,} agent-steps "
            f"(seed {args.seed}); logs in {out}"
        )
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
        model, curve, seconds = result.model, result.learning_curve, result.seconds
        params = result.hyperparams
        model.save(out / "model.zip")
        curve.to_csv(out / "learning_curve.csv", index=False)
        print(
            f"trained in {seconds:.0f} s ({result.timesteps / max(seconds, 1e-9):,.0f} "
            "agent-steps/s); model selected on validation cost"
        )

    frames = {args.algo: evaluate(scenario, RoleController(stores=ModelStores(model)), eval_seeds)}
    for name in RUN_BASELINES:
        controller = make_baseline(name, scenario, tuning_seeds=validation_seeds, seed=args.seed)
        frames[name] = evaluate(scenario, controller, eval_seeds)
    table = summary_table(frames)
    per_episode = pd.concat([f.assign(policy=p) for p, f in frames.items()], ignore_index=True)
    per_episode.to_csv(out / "episodes.csv", index=False)
    table.to_csv(out / "results.csv", index=False)
    (out / "results.md").write_text(render_markdown(table), encoding="utf-8")
    if not curve.empty:
        baseline_cost = evaluate(scenario, RoleController(), validation_seeds)["total_cost"].mean()
        plot_learning_curve(curve, float(baseline_cost), out / "learning_curve.png")
    config = {
        "args": asdict(args),
        "hyperparams": params,
        "scenario": scenario.to_dict(),
        "validation_seeds": validation_seeds,
        "eval_seeds": eval_seeds,
        "train_seconds": seconds,
        "versions": _versions(),
    }
    (out / "config.json").write_text(json.dumps(config, indent=2, default=str), encoding="utf-8")
    print_table(
        table,
        f"{scenario.name}: {len(eval_seeds)} held-out episodes "
        f"(mean and 95% CI; costs in currency per episode, days "
        f"{scenario.warmup_days}-{scenario.episode_days - 1})",
    )
    print(f"wrote {out}/results.csv, results.md, episodes.csv, config.json, model.zip")
    return 0


def _versions() -> dict[str, str]:
    import gymnasium
    import sb3_contrib
    import stable_baselines3
    import torch

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "stable_baselines3": stable_baselines3.__version__,
        "sb3_contrib": sb3_contrib.__version__,
        "gymnasium": gymnasium.__version__,
    }


if __name__ == "__main__":
    raise SystemExit(main())
