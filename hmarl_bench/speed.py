"""How fast the twin, the environments and PPO training run, beside Gymnasium's CartPole-v1.

``python -m hmarl_bench.speed [--train] [--seconds 3] [--sizes 1,16,256,1024x2,10,100]``

Every measurement races our callable against a reference measured in the same run, in
alternating windows (so a burst of load from other processes hits both), and reports the
best window's rate (the least disturbed one; the median is in the CSV):

- ``env``: :class:`HMARLEnvironment` with one copy, fixed valid actions, resets included
  (env-steps/s; agent-steps/s = env-steps x agents) vs CartPole-v1 with one env.
- ``twin``: :meth:`DigitalTwin.step` + :func:`reconcile` at B copies, store and warehouse
  orders from the rule policies (``rule``) or fixed quantities (``fixed``), resets not
  timed (store-steps/s = B x S x steps/s) vs CartPole-v1 with B x S envs.
- ``vec``: :class:`SharedPolicyVecEnv` stepping with random actions, auto-resets included
  (slot-steps/s) vs CartPole-v1 with as many envs.
- ``train`` (``--train``): SB3 PPO learning on :class:`SharedPolicyVecEnv` vs the same PPO
  (settings of ``experiments/hyperparams/ppo.toml``, CPU, one torch thread) on CartPole-v1
  through SB3's ``make_vec_env`` with as many slots (agent-steps/s, rollouts and updates).
- ``scaling``: the twin's time per step over copies x stores, to show that the cost grows
  linearly in B x S once the per-call overhead is amortized (table, CSV and figure).

References: CartPole-v1 through ``gymnasium.make_vec(..., vectorization_mode="sync")`` (one
Python env per slot, as SB3's DummyVecEnv) and, for batched rows, CartPole's own numpy-
batched vector env (``vectorization_mode="vector_entry_point"``). ``bytes/copy`` is the size
of the twin's state arrays (including the episode's pre-drawn demand) divided by B.

Timings depend on the machine and its load; compare rows of the same run, not across runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import platform
import shutil
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hmarl_bench.agents.roles import StoreRole, WarehouseRole
from hmarl_bench.config import Scenario, Store, load_scenario
from hmarl_bench.envs.parallel import HMARLEnvironment
from hmarl_bench.envs.vec import SharedPolicyVecEnv
from hmarl_bench.reconciliation import reconcile
from hmarl_bench.twin import DigitalTwin

__all__ = [
    "TARGETS",
    "Measurement",
    "bench_env",
    "bench_scaling",
    "bench_train",
    "bench_twin",
    "bench_vec",
    "main",
    "plot_scaling",
    "scenario_with_stores",
]

#: Targets on a 2-core machine: (section, name) -> minimum rate in the row's unit.
TARGETS = {("env", "HMARLEnvironment"): 20_000.0, ("twin", "rule"): 2_000_000.0}
TARGET_TWIN_COPIES = 1024
TARGET_TRAIN_RATIO = 0.9

#: A step callable returns the seconds of its work not to time (a reset), usually 0.
Stepper = Callable[[], float]


@dataclass
class Measurement:
    """One row of the CSV: a rate of ours beside the reference measured in the same run."""

    section: str
    name: str
    copies: int
    stores: int
    per_call: int  # units of ``unit`` per call (agents, slots, store-steps)
    calls: int
    seconds: float
    rate: float  # units per second, best window
    rate_median: float
    unit: str
    reference: str = ""
    reference_rate: float = math.nan
    batched_reference_rate: float = math.nan  # CartPole's numpy-batched vector env
    bytes_per_copy: float = math.nan
    target: float = math.nan  # the minimum rate; for ``train`` the minimum ratio

    @property
    def ratio(self) -> float:
        return self.rate / self.reference_rate

    @property
    def us_per_call(self) -> float:
        return 1e6 * self.per_call / self.rate

    @property
    def passed(self) -> bool | None:
        if math.isnan(self.target):
            return None
        return (self.ratio if self.section == "train" else self.rate) >= self.target

    def row(self) -> dict[str, object]:
        row = dataclasses.asdict(self)
        row.update(ratio=self.ratio, us_per_call=self.us_per_call, passed=self.passed)
        row["ns_per_unit"] = 1e9 / self.rate
        return row


def _race(steppers: Sequence[Stepper], seconds: float, windows: int = 5) -> list[list[float]]:
    """Calls/s of each stepper in ``windows`` alternating windows of ``seconds/windows`` each."""
    rates: list[list[float]] = [[] for _ in steppers]
    budget = seconds / windows
    for _ in range(windows):
        for i, stepper in enumerate(steppers):
            calls, excluded, start = 0, 0.0, time.perf_counter()
            while True:
                excluded += stepper()
                calls += 1
                elapsed = time.perf_counter() - start
                if elapsed >= budget + excluded:
                    break
            rates[i].append(calls / (elapsed - excluded))
    return rates


def _cartpole(n_envs: int, mode: str = "sync") -> Stepper:
    """CartPole-v1 with ``n_envs`` envs stepping with random actions (auto-resets included)."""
    import gymnasium

    env = gymnasium.make_vec("CartPole-v1", num_envs=n_envs, vectorization_mode=mode)
    env.reset(seed=0)
    actions = np.random.default_rng(0).integers(0, 2, size=(64, n_envs))
    counter = iter(range(1 << 62))

    def step() -> float:
        env.step(actions[next(counter) % 64])
        return 0.0

    return step


def _stats(rates: list[float], per_call: int) -> dict[str, float]:
    return {"rate": per_call * max(rates), "rate_median": per_call * statistics.median(rates)}


def scenario_with_stores(n_stores: int, base: Scenario | str = "default") -> Scenario:
    """``base`` with ``n_stores`` stores; the warehouse and supplier scale with the stores."""
    sc = load_scenario(base)
    stores = tuple(
        Store(f"store_{i + 1}", (1.2, 1.0, 1.5)[i % 3], 600, 1500, 250, 700)
        for i in range(n_stores)
    )
    k = max(n_stores / 2.0, 1.0)
    wh = sc.warehouse
    warehouse = dataclasses.replace(
        wh,
        initial_inventory=int(wh.initial_inventory * k),
        capacity=int(wh.capacity * k),
        reorder_point=int(wh.reorder_point * k),
        order_up_to=int(wh.order_up_to * k),
        order_quantities=tuple(int(q * k) for q in wh.order_quantities),
    )
    supplier = dataclasses.replace(sc.supplier, capacity=int(sc.supplier.capacity * k))
    return dataclasses.replace(
        sc, name=f"{sc.name}_{n_stores}", stores=stores, warehouse=warehouse, supplier=supplier
    )


def _state_bytes(twin: DigitalTwin) -> float:
    state = twin.state
    arrays = [v for v in vars(state).values() if isinstance(v, np.ndarray)]
    return sum(a.nbytes for a in arrays) / twin.batch_size


def _twin_stepper(scenario: Scenario, copies: int, orders: str) -> tuple[Stepper, DigitalTwin]:
    """One simulated day per call (policy, step, reconcile); resets are not timed."""
    twin = DigitalTwin(scenario, batch_size=copies)
    twin.reset(0)
    store_role, warehouse_role = StoreRole(scenario), WarehouseRole(scenario)
    supplier_action = np.zeros(copies, dtype=np.int64)
    fixed_store = np.tile(np.rint(twin.mean_demand[0]).astype(np.int64), (copies, 1))
    fixed_warehouse = np.full(copies, warehouse_role.quantities[1], dtype=np.int64)

    def step() -> float:
        excluded = 0.0
        if twin.done:
            start = time.perf_counter()
            twin.reset(0)
            excluded = time.perf_counter() - start
        state = twin.state
        if orders == "rule":
            s_orders = store_role.order_quantities(store_role.rule_actions(state), state)
            w_orders = warehouse_role.order_quantities(warehouse_role.rule_actions(state))
        else:
            s_orders, w_orders = fixed_store, fixed_warehouse
        reconcile(twin.step(s_orders, w_orders, supplier_action), scenario)
        return excluded

    return step, twin


def bench_env(scenario: Scenario | str = "default", seconds: float = 3.0) -> Measurement:
    """(a) HMARLEnvironment, one copy, fixed valid actions: env-steps/s vs CartPole-v1 x 1."""
    env = HMARLEnvironment(scenario)
    env.reset(seed=0)
    n = env.scenario.n_stores
    actions = {**dict.fromkeys(env.store_ids, 2), "warehouse_1": 1, "supplier_1": 0}

    def step() -> float:
        if not env.agents:
            env.reset()
        env.step(actions)
        return 0.0

    ours, ref = _race([step, _cartpole(1)], seconds * 2)
    return Measurement(
        "env",
        "HMARLEnvironment",
        1,
        n,
        1,
        0,
        seconds,
        **_stats(ours, 1),
        unit="env-steps/s",
        reference="CartPole-v1 sync x1",
        reference_rate=max(ref),
        bytes_per_copy=_state_bytes(env.twin),
        target=TARGETS["env", "HMARLEnvironment"],
    )


def bench_twin(
    scenario: Scenario | str = "default", copies: int = 1024, seconds: float = 3.0
) -> list[Measurement]:
    """(b) The batched twin with rule and with fixed orders: store-steps/s vs CartPole-v1."""
    sc = load_scenario(scenario)
    slots = copies * sc.n_stores
    rule, twin = _twin_stepper(sc, copies, "rule")
    fixed, _ = _twin_stepper(sc, copies, "fixed")
    rates = _race(
        [rule, fixed, _cartpole(slots), _cartpole(slots, "vector_entry_point")], 4 * seconds
    )
    rows = []
    for name, ours in (("rule", rates[0]), ("fixed", rates[1])):
        target = TARGETS.get(("twin", name), math.nan) if copies == TARGET_TWIN_COPIES else math.nan
        rows.append(
            Measurement(
                "twin",
                name,
                copies,
                sc.n_stores,
                slots,
                0,
                seconds,
                **_stats(ours, slots),
                unit="store-steps/s",
                reference=f"CartPole-v1 sync x{slots}",
                reference_rate=slots * max(rates[2]),
                batched_reference_rate=slots * max(rates[3]),
                bytes_per_copy=_state_bytes(twin),
                target=target,
            )
        )
    return rows


def bench_vec(
    scenario: Scenario | str = "default", copies: int = 16, seconds: float = 3.0
) -> Measurement:
    """(c) SharedPolicyVecEnv with random actions: slot-steps/s vs CartPole-v1 x slots."""
    venv = SharedPolicyVecEnv(scenario, n_envs=copies, seed=0)
    venv.reset()
    slots = venv.num_envs
    actions = np.random.default_rng(0).integers(0, 4, size=(64, slots))
    counter = iter(range(1 << 62))

    def step() -> float:
        venv.step_async(actions[next(counter) % 64])
        venv.step_wait()
        return 0.0

    rates = _race([step, _cartpole(slots), _cartpole(slots, "vector_entry_point")], 3 * seconds)
    return Measurement(
        "vec",
        "SharedPolicyVecEnv",
        copies,
        venv.n_stores,
        slots,
        0,
        seconds,
        **_stats(rates[0], slots),
        unit="slot-steps/s",
        reference=f"CartPole-v1 sync x{slots}",
        reference_rate=slots * max(rates[1]),
        batched_reference_rate=slots * max(rates[2]),
        bytes_per_copy=_state_bytes(venv.twin),
    )


def bench_train(
    scenario: Scenario | str = "default",
    copies: int | None = None,
    seconds: float = 3.0,
    overrides: dict | None = None,
) -> Measurement:
    """(d) PPO agent-steps/s on SharedPolicyVecEnv vs the same PPO on CartPole-v1.

    Both learners use the hyperparameters of ``ppo.toml`` (with ``overrides``), the same
    wrappers (monitor, reward normalization when set), the CPU and one torch thread; after
    one untimed warm-up rollout each, they alternate ``learn`` calls of one rollout each.
    """
    import torch
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecMonitor, VecNormalize

    from hmarl_bench.train import load_hyperparams, make_model

    sc = load_scenario(scenario)
    params = load_hyperparams("ppo", overrides)
    copies = int(params["n_envs"] if copies is None else copies)
    torch.set_num_threads(1)
    weights = dataclasses.replace(sc.store_reward, **params.get("reward", {}))
    ours = VecMonitor(SharedPolicyVecEnv(sc, n_envs=copies, seed=0, reward_weights=weights))
    theirs = make_vec_env("CartPole-v1", n_envs=ours.num_envs, seed=0)
    models = []
    for venv in (ours, theirs):
        if params.get("normalize_reward", False):
            venv = VecNormalize(venv, norm_obs=False, norm_reward=True, gamma=params["gamma"])
        models.append(make_model("ppo", venv, 0, params))
    rollout = int(params["n_steps"]) * ours.num_envs

    def stepper(model) -> Stepper:
        def learn() -> float:
            model.learn(rollout, reset_num_timesteps=False)
            return 0.0

        return learn

    steppers = [stepper(m) for m in models]
    for learn in steppers:  # warm-up: first rollout, buffers, torch kernels
        learn()
    rates = _race(steppers, 2 * seconds, windows=3)
    return Measurement(
        "train",
        "PPO on SharedPolicyVecEnv",
        copies,
        sc.n_stores,
        rollout,
        0,
        seconds,
        **_stats(rates[0], rollout),
        unit="agent-steps/s",
        reference=f"PPO on CartPole-v1 make_vec_env x{ours.num_envs}",
        reference_rate=rollout * max(rates[1]),
        target=TARGET_TRAIN_RATIO,
    )


def bench_scaling(
    copies: Sequence[int] = (1, 16, 256, 1024),
    stores: Sequence[int] = (2, 10, 100),
    seconds: float = 3.0,
    orders: str = "rule",
) -> list[Measurement]:
    """The twin's time per step (policy + step + reconcile) over copies x stores."""
    rows = []
    for n_stores in stores:
        sc = scenario_with_stores(n_stores)
        for b in copies:
            step, twin = _twin_stepper(sc, b, orders)
            (rates,) = _race([step], seconds)
            rows.append(
                Measurement(
                    "scaling",
                    orders,
                    b,
                    n_stores,
                    b * n_stores,
                    0,
                    seconds,
                    **_stats(rates, b * n_stores),
                    unit="store-steps/s",
                    bytes_per_copy=_state_bytes(twin),
                )
            )
    return rows


def plot_scaling(rows: Sequence[Measurement], out: Path) -> list[Path]:
    """Log-log: store-steps per call vs microseconds per step, one line per store count."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd
    import seaborn as sns

    frame = pd.DataFrame([r.row() for r in rows if r.section == "scaling"])
    frame["stores"] = frame["stores"].map(lambda s: f"{s} stores")
    sns.set_theme(style="whitegrid", palette="colorblind", context="notebook")
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4))
    for ax, y, label in (
        (axes[0], "us_per_call", "time per step [µs]"),
        (axes[1], "ns_per_unit", "time per store-step [ns]"),
    ):
        sns.lineplot(
            frame,
            x="per_call",
            y=y,
            hue="stores",
            style="stores",
            markers=True,
            dashes=False,
            markersize=8,
            ax=ax,
        )
        ax.set(
            xscale="log",
            yscale="log",
            xlabel="store-steps per call (copies B x stores S)",
            ylabel=label,
        )
        ax.legend(title=None)
    big = frame.loc[frame["per_call"].idxmax()]
    xs = np.array([frame["per_call"].min(), big["per_call"]], dtype=float)
    axes[0].plot(xs, big["us_per_call"] * xs / xs[-1], ":", color="grey", label="linear in B x S")
    axes[0].legend(title=None)
    axes[0].set_title("Cost of one day (rule policy + step + reconcile)")
    axes[1].set_title("Cost per store and copy")
    fig.tight_layout()
    paths = [out / "scaling.png", out / "scaling.pdf"]
    for path in paths:
        fig.savefig(path, dpi=150)
    plt.close(fig)
    return paths


def _fmt(value: float, digits: int = 0) -> str:
    return "" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def _mark(passed: bool | None) -> str:
    return "" if passed is None else ("PASS" if passed else "FAIL")


def _tables(rows: Sequence[Measurement]) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, cells) of the printed tables."""
    tables = []
    titles = {
        "env": "(a) HMARLEnvironment, one copy, fixed valid actions [env-steps/s]",
        "twin": "(b) Batched twin: policy + step + reconcile, resets not timed [store-steps/s]",
        "vec": "(c) SharedPolicyVecEnv, random actions, auto-resets included [slot-steps/s]",
    }
    for section, title in titles.items():
        head = ["measurement", "B", "S", "rate", "µs/call", "CartPole sync", "ratio",
                "CartPole batched", "ratio", "bytes/copy", "target", ""]  # fmt: skip
        cells = [
            [r.name, str(r.copies), str(r.stores), _fmt(r.rate), _fmt(r.us_per_call, 1),
             _fmt(r.reference_rate), _fmt(r.ratio, 2), _fmt(r.batched_reference_rate),
             _fmt(r.rate / r.batched_reference_rate, 2), _fmt(r.bytes_per_copy),
             _fmt(r.target), _mark(r.passed)]
            for r in rows if r.section == section
        ]  # fmt: skip
        if section == "env" and cells:  # one copy: also per agent
            r = next(r for r in rows if r.section == "env")
            agents = r.stores + 2
            cells.append(
                [
                    f"  x {agents} agents [agent-steps/s]",
                    "1",
                    str(r.stores),
                    _fmt(agents * r.rate),
                    "",
                    _fmt(agents * r.reference_rate),
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                ]
            )
        if cells:
            tables.append((title, head, cells))
    train = [r for r in rows if r.section == "train"]
    if train:
        head = ["learner", "B", "slots", "agent-steps/s", "CartPole PPO", "ratio", "target", ""]
        cells = [
            [r.name, str(r.copies), str(r.copies * r.stores), _fmt(r.rate),
             _fmt(r.reference_rate), _fmt(r.ratio, 2), f">= {r.target}", _mark(r.passed)]
            for r in train
        ]  # fmt: skip
        tables.append(("(d) PPO training, same settings, CPU, 1 torch thread", head, cells))
    scaling = [r for r in rows if r.section == "scaling"]
    if scaling:
        head = ["B", "S", "B x S", "µs/step", "ns/store-step", "store-steps/s", "bytes/copy"]
        cells = [
            [str(r.copies), str(r.stores), str(r.per_call), _fmt(r.us_per_call, 1),
             _fmt(1e9 / r.rate, 1), _fmt(r.rate), _fmt(r.bytes_per_copy)]
            for r in scaling
        ]  # fmt: skip
        tables.append(("Scaling of the twin (rule policy + step + reconcile)", head, cells))
    return tables


def _print_tables(rows: Sequence[Measurement], notes: Sequence[str]) -> str:
    """Print with rich when available, else plain aligned text; return the plain text."""
    plain = []
    for title, head, cells in _tables(rows):
        widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(head)]
        plain.append(title)
        for line in [head, *cells]:
            plain.append("  ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)))
        plain.append("")
    plain.extend(notes)
    text = "\n".join(plain)
    try:
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table
    except ImportError:
        print(text)
        return text
    console = Console(width=max(shutil.get_terminal_size((150, 24)).columns, 150))
    for title, head, cells in _tables(rows):
        table = Table(title=escape(title), title_justify="left")
        for i, h in enumerate(head):
            table.add_column(h, justify="left" if i == 0 else "right")
        for line in cells:
            style = {"PASS": "green", "FAIL": "red"}.get(line[-1])
            table.add_row(*line[:-1], f"[{style}]{line[-1]}[/]" if style else line[-1])
        console.print(table)
    for note in notes:
        console.print(note)
    return text


def _parse_sizes(text: str) -> tuple[list[int], list[int]]:
    copies, _, stores = text.partition("x")
    try:
        parsed = [int(v) for v in copies.split(",")], [int(v) for v in stores.split(",")]
    except ValueError:
        parsed = [], []
    if not parsed[0] or not parsed[1] or min(parsed[0] + parsed[1]) < 1:
        raise argparse.ArgumentTypeError(f"expected COPIES x STORES like 1,16x2,10, got {text!r}")
    return parsed


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",")]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m hmarl_bench.speed",
        description=(
            "Throughput of the digital twin, HMARLEnvironment, SharedPolicyVecEnv and (with "
            "--train) PPO training, each beside Gymnasium's CartPole-v1 measured in the same "
            "run, with targets marked PASS/FAIL; then a table and figure of how the twin's "
            "step cost grows with copies x stores. Rates are the best of several alternating "
            "windows; on a loaded machine compare rows of one run, not runs."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=3.0,
        help="time budget of each measurement (ours and each reference)",
    )
    parser.add_argument(
        "--train",
        action="store_true",
        help="also measure PPO training on SharedPolicyVecEnv vs CartPole-v1",
    )
    parser.add_argument("--scenario", default="default", help="scenario of (a)-(d)")
    parser.add_argument(
        "--copies",
        type=_ints,
        default=[1, 64, 1024],
        help="copies B of the batched twin measurements (b)",
    )
    parser.add_argument(
        "--vec-copies",
        type=_ints,
        default=[16, 256],
        help="copies of SharedPolicyVecEnv (c); slots = copies x stores",
    )
    parser.add_argument(
        "--sizes",
        type=_parse_sizes,
        default=None,
        help="scaling grid: comma-separated copies B, 'x', comma-separated "
        "store counts S (scenarios built from 'default' with S stores); "
        "default 1,16,256,1024x2,10,100 (--quick: 1,16x2,10)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("results/speed"),
        help="directory for speed.csv, speed.txt and scaling.png/.pdf",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a few seconds in all: 0.2 s per measurement, small sizes and "
        "a tiny PPO (n_steps 32, batch 64, 2 epochs) with --train",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    seconds, overrides = args.seconds, None
    sizes = args.sizes or _parse_sizes("1,16x2,10" if args.quick else "1,16,256,1024x2,10,100")
    copies, stores = sizes
    if args.quick:
        seconds = min(seconds, 0.2)
        args.copies, args.vec_copies = [1, 64], [4]
        overrides = {"n_steps": 32, "batch_size": 64, "n_epochs": 2}
    args.out.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg() if hasattr(os, "getloadavg") else (math.nan,) * 3
    notes = [
        f"{platform.python_implementation()} {platform.python_version()}, numpy "
        f"{np.__version__}, {os.cpu_count()} CPUs, load average at start {load[0]:.2f}; "
        f"{seconds:g} s per measurement.",
        "Timings are noisy on a shared CPU: ratios against the reference measured in the "
        "same run are the robust figures.",
    ]
    rows: list[Measurement] = []

    def progress(label: str) -> None:
        print(f"  measuring {label} ...", flush=True)

    progress("HMARLEnvironment")
    rows.append(bench_env(args.scenario, seconds))
    for b in args.copies:
        progress(f"twin B={b}")
        rows.extend(bench_twin(args.scenario, b, seconds))
    for b in args.vec_copies:
        progress(f"SharedPolicyVecEnv B={b}")
        rows.append(bench_vec(args.scenario, b, seconds))
    if args.train:
        progress("PPO training")
        rows.append(bench_train(args.scenario, None, seconds, overrides))
    progress(f"scaling B in {copies} x S in {stores}")
    rows.extend(bench_scaling(copies, stores, seconds))
    load = os.getloadavg() if hasattr(os, "getloadavg") else (math.nan,) * 3
    notes.append(f"Load average at the end {load[0]:.2f}.")
    import pandas as pd

    pd.DataFrame([r.row() for r in rows]).to_csv(args.out / "speed.csv", index=False)
    figures = plot_scaling(rows, args.out)
    notes.append(f"Wrote {args.out / 'speed.csv'}, {', '.join(str(p) for p in figures)}.")
    text = _print_tables(rows, notes)
    (args.out / "speed.txt").write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
