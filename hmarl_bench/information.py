"""What knowing the hidden demand regime is worth to a benchmark's reference rule.

``python -m hmarl_bench.information frontier`` asks, on every scenario of a benchmark with a
hidden demand regime (``[demand.regimes]``), how much the benchmark's *reference* (its best
rule on the tuning seeds, a tuned :class:`~hmarl_bench.baselines.chain_rule.LevelChain`
family) would gain if it were told the regime that no policy observes. It reruns the
reference with its stored tuned parameters and multiplies every node's levels (reorder
points and order-up-to levels of the stores and of the warehouse) by ``m ** a``, where
``m`` is the regime's demand multiplier on a given day and ``a`` an exponent chosen on the
tuning seeds from :data:`EXPONENTS`:

- ``today``: the regime of the day the order is placed. This is the most a policy could
  ever learn about the regime from the demand it has seen (it can only infer it, with a
  delay), so the gain is what *perfect regime inference* adds to this rule family; the
  rule's own live correction (``forecast_weight``, from the stores' smoothed forecasts)
  already follows part of it;
- ``week ahead``: the regime seven days later: future information no policy has; with the
  clairvoyant bound, which knows every day's demand, it splits the reference's gap to the
  bound into what the present hidden state explains and what only the future does.

These are *diagnostics*, as the clairvoyant bound is: they read the twin's hidden state
(``TwinState.demand_regime``), which :class:`~hmarl_bench.twin.view.ChainView` keeps from
every controller, and run outside the controller interface on purpose. They are lower
bounds on the value of the information (a policy could use it better than by scaling the
rule's levels), measured on the benchmark's evaluation seeds with the paired bootstrap of
the benchmark's tables (:func:`~hmarl_bench.harness.stats.paired_difference`).

The reference's stored cell (its tuned parameters and evaluation rows) and the clairvoyant
cell must be current (``python -m hmarl_bench.benchmark <name> --status``); the rerun with
``a = 0`` must reproduce the stored rows exactly, or the command stops. Writes
``results/<name>/information/regime_value.csv`` and ``.md``; ``--readme`` copies the table
into a Markdown page (``docs/results/<name>.md``) between ``<!-- information:<name> -->``
markers.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from hmarl_bench._atomic import write_atomic
from hmarl_bench.baselines.chain_rule import LevelChain
from hmarl_bench.baselines.registry import SEARCHED
from hmarl_bench.cli_parser import OneLineParser, add_readme_argument, check_outputs
from hmarl_bench.config import Scenario, load_scenario
from hmarl_bench.harness.cells import BASELINE, CLAIRVOYANT, CellStore, build_cells
from hmarl_bench.harness.readme import replace_marked
from hmarl_bench.harness.spec import BenchmarkError, load_benchmark
from hmarl_bench.harness.stats import paired_difference
from hmarl_bench.reconciliation import day_total_cost
from hmarl_bench.twin import DigitalTwin

__all__ = [
    "EXPONENTS",
    "InformationError",
    "LAGS",
    "README_KEY",
    "informed_costs",
    "main",
    "regime_value",
]

#: Exponents ``a`` of the level factor ``m ** a`` tried on the tuning seeds (0: the rule).
EXPONENTS = (0.0, 0.125, 0.25, 0.375, 0.5, 0.75, 1.0)
#: Which day's regime the rule is told: name -> days after the day of the order.
LAGS = {"today": 0, "week ahead": 7}
README_KEY = "information"


class InformationError(ValueError):
    """The stored results cannot answer: cells missing or stale, or no hidden regimes."""


def _scaled(family: type[LevelChain]) -> type[LevelChain]:
    """``family`` with its levels multiplied by per-copy factors (B, 1) set each day."""

    class Scaled(family):  # type: ignore[misc, valid-type]
        factor = np.ones((1, 1))

        def store_levels(self, view):
            reorder, order_up_to = super().store_levels(view)
            return reorder * self.factor, order_up_to * self.factor

        def warehouse_levels(self, view):
            reorder, order_up_to = super().warehouse_levels(view)
            return reorder * self.factor, order_up_to * self.factor

    Scaled.__name__ = f"RegimeInformed{family.__name__}"
    return Scaled


def informed_costs(
    scenario: Scenario,
    family: type[LevelChain],
    params: dict,
    seeds: Sequence[int],
    exponents: Sequence[float],
    lag: int,
) -> np.ndarray:
    """Total cost (len(exponents), len(seeds)) of ``family(**params)`` with its levels
    multiplied each day by ``m ** a``, m the regime multiplier ``lag`` days later (the last
    day's past the horizon), one exponent per block of copies facing the same episodes."""
    seeds = [int(s) for s in seeds]
    n = len(seeds)
    twin = DigitalTwin(scenario, batch_size=n * len(exponents))
    twin.reset_tiled(seeds)
    rule = _scaled(family)(**params)
    rule.reset(scenario, twin.batch_size)
    multipliers = np.asarray(scenario.demand.regimes.multipliers, dtype=float)
    power = np.repeat(np.asarray(exponents, dtype=float), n)[:, None]  # (B, 1)
    total = np.zeros(twin.batch_size)
    last = scenario.episode_days - 1
    while not twin.done:
        state = twin.state
        regime = state.demand_regime[:, min(state.day + lag, last)]
        rule.factor = multipliers[regime][:, None] ** power
        outcome = twin.step(*rule.decide(twin.view()))
        if outcome.day >= scenario.warmup_days:
            total += day_total_cost(outcome, scenario)
    return total.reshape(len(exponents), n)


def regime_value(name: str, results: Path = Path("results")) -> pd.DataFrame:
    """One row per hidden-regime scenario of benchmark ``name`` and lag (module docstring)."""
    spec = load_benchmark(name)
    root = Path(results) / spec.name
    headline = root / "tables" / "headline.csv"
    if not headline.is_file():
        raise InformationError(f"{headline} not found: run python -m hmarl_bench.benchmark {name}")
    references = pd.read_csv(headline).groupby("scenario")["best_baseline"].first().to_dict()
    cells = {
        (c.scenario, c.policy): c for c in build_cells(spec) if c.kind in (BASELINE, CLAIRVOYANT)
    }
    store = CellStore(root)
    rows = []
    for scenario_name in spec.scenarios:
        scenario = load_scenario(scenario_name)
        if not scenario.demand.regimes.enabled:
            continue
        reference = references.get(scenario_name)  # chosen on the tuning seeds
        if reference not in SEARCHED:
            raise InformationError(
                f"{name}/{scenario_name}: the reference {reference!r} is not a searched "
                f"level family ({sorted(SEARCHED)}); run the benchmark first"
            )
        found = store.load(cells[(scenario_name, reference)])
        bound_key = (scenario_name, "clairvoyant")
        bound_cell = store.load(cells[bound_key]) if bound_key in cells else None
        if found is None or bound_cell is None:
            raise InformationError(
                f"{name}/{scenario_name}: the {reference} or clairvoyant cell is not stored "
                f"under the current code; run python -m hmarl_bench.benchmark {name} first"
            )
        family, params = SEARCHED[reference], found["info"]["tuned_params"]
        evaluation = pd.Series({r["seed"]: r["total_cost"] for r in found["rows"]})
        bound = pd.Series({r["seed"]: r["total_cost"] for r in bound_cell["rows"]})
        seeds = list(evaluation.index)
        for label, lag in LAGS.items():
            tuning = informed_costs(scenario, family, params, spec.tuning_seeds, EXPONENTS, lag)
            best = int(np.argmin(tuning.mean(axis=1)))  # first minimum: a = 0 wins ties
            costs = informed_costs(scenario, family, params, seeds, (0.0, EXPONENTS[best]), lag)
            if not np.array_equal(costs[0], evaluation.to_numpy(dtype=float)):
                raise InformationError(
                    f"{name}/{scenario_name}: rerunning {reference} does not reproduce its "
                    "stored evaluation rows; the cell is stale or the code changed"
                )
            mine = pd.DataFrame({"training_seed": 0, "seed": seeds, "total_cost": costs[1]})
            diff = paired_difference(
                mine,
                evaluation,
                bound,
                n_resamples=spec.n_resamples,
                confidence_level=spec.confidence_level,
                rng=spec.bootstrap_seed,
            )
            rows.append(
                {
                    "scenario": scenario_name,
                    "reference": reference,
                    "told": label,
                    "exponent": EXPONENTS[best],
                    "reference_cost": float(evaluation.mean()),
                    "informed_cost": float(costs[1].mean()),
                    "bound": float(bound.reindex(seeds).mean()),
                    "diff_mean": diff.mean,
                    "diff_ci_low": diff.ci_low,
                    "diff_ci_high": diff.ci_high,
                    "diff_pct": 100.0 * diff.mean / float(evaluation.mean()),
                    "gap_closed": diff.gap_closed,
                    "gap_closed_ci_low": diff.gap_closed_ci_low,
                    "gap_closed_ci_high": diff.gap_closed_ci_high,
                }
            )
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame) -> str:
    """The table as the documentation page shows it."""
    lines = [
        "| Scenario | reference | told the regime of | a | reference cost | informed cost | "
        "paired difference [95% CI] | share of the gap to the bound closed [95% CI] |",
        "|:---|:---|:---|---:|---:|---:|---:|---:|",
    ]
    for r in table.itertuples():
        lines.append(
            f"| {r.scenario} | {r.reference} | {r.told} | {r.exponent:g} | "
            f"{r.reference_cost:,.0f} | {r.informed_cost:,.0f} | "
            f"{r.diff_mean:+,.0f} [{r.diff_ci_low:+,.0f}, {r.diff_ci_high:+,.0f}] "
            f"({r.diff_pct:+.1f}%) | {r.gap_closed:.2f} [{r.gap_closed_ci_low:.2f}, "
            f"{r.gap_closed_ci_high:.2f}] |"
        )
    lines.append("")
    lines.append(
        "Mean total cost over the evaluation episodes; the informed rule multiplies the "
        "reference's levels by m^a (m: the regime's demand multiplier on the day told, a "
        "chosen on the tuning seeds); paired difference to the reference on the same "
        "episodes; share of the reference's gap to the clairvoyant bound closed. Made by "
        "`python -m hmarl_bench.information`."
    )
    return "\n".join(lines) + "\n"


def write(table: pd.DataFrame, block: str, folder: Path) -> None:
    """``regime_value.csv`` and ``regime_value.md`` (``block``, the page's copy)."""
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / "regime_value.csv", table.to_csv(index=False, float_format="%.6g"))
    write_atomic(folder / "regime_value.md", block)


def update_readme(readme: Path, name: str, block: str) -> None:
    """Copy ``block`` between the page's ``information:<name>`` markers."""
    try:
        replace_marked(readme, f"{README_KEY}:{name}", block)
    except BenchmarkError as err:
        raise InformationError(str(err)) from None


def _parser() -> OneLineParser:
    parser = OneLineParser(
        prog="python -m hmarl_bench.information",
        description=(
            "What knowing the hidden demand regime would be worth to a benchmark's "
            "reference rule: the rule rerun with its levels scaled by the regime of the day "
            "(perfect regime inference) or of a week later (future information), on the "
            "evaluation seeds, against the stored reference and the clairvoyant bound. A "
            "diagnostic that reads the hidden state, like the bound; never a policy."
        ),
    )
    parser.add_argument("benchmark", help="a benchmark name or .toml whose cells are stored")
    parser.add_argument("--results", type=Path, default=Path("results"), help="results folder")
    parser.add_argument(
        "--out", type=Path, help="write under OUT/<benchmark>/information (default: --results)"
    )
    add_readme_argument(parser, f"{README_KEY}:NAME", "docs/results/NAME.md")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        name = load_benchmark(args.benchmark).name
    except BenchmarkError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    folder = (args.out or args.results) / name / "information"
    # before the minutes of work: a README without the block, an unwritable folder
    check_outputs(parser, folder, args.readme, f"{README_KEY}:{name}")
    try:
        table = regime_value(args.benchmark, args.results)
        if table.empty:
            raise InformationError(f"{args.benchmark} has no scenario with hidden demand regimes")
        block = markdown(table)
        try:
            write(table, block, folder)
        except OSError as err:
            raise InformationError(f"cannot write to {folder}: {err.strerror or err}") from None
        if args.readme:
            update_readme(args.readme, name, block)
    except (InformationError, BenchmarkError, OSError) as err:  # OSError: an unreadable README
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(block)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
