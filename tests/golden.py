"""Digests of whole single-SKU episodes, so refactors can prove they change no outcome.

Committed reference results and trained models depend on single-SKU scenarios behaving
exactly as when ``tests/data/golden_single_sku.json`` was recorded: the same demand draws,
the same outcomes, observations, masks, rewards, infos and KPIs, to the bit. Each entry is
a SHA-256 over one episode's values in a fixed order. Arrays are hashed by dtype and raw
values (raveled), not by shape, so moving a value into an axis of length one is not a
change of behaviour, but any changed number, dtype or order is.

Regenerate only from code whose behaviour is the reference (never to make a test pass)::

    python tests/golden.py --write
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from hmarl_bench import HMARLEnvironment, load_scenario
from hmarl_bench.agents.roles import StoreRole, SupplierRole, WarehouseRole
from hmarl_bench.baselines import make_baseline
from hmarl_bench.config import Scenario
from hmarl_bench.envs.vec import SharedPolicyVecEnv
from hmarl_bench.evaluation import evaluate
from hmarl_bench.reconciliation import reconcile
from hmarl_bench.twin import DayOutcome, DigitalTwin

GOLDEN_PATH = Path(__file__).resolve().parent / "data" / "golden_single_sku.json"

ENV_SCENARIOS = (
    "default",
    "three_stores",
    "demand_spike",
    "strong_seasonality",
    "supplier_delay",
    "high_variability",
)
ENV_SEEDS = (0, 7)
BASELINE_NAMES = (
    "random",
    "seed_ss_actions",
    "seed_ss_free",
    "order_up_to_actions",
    "order_up_to_free",
    "fixed_forecast_actions",
)
STATE_FIELDS = (
    "store_on_hand",
    "store_pipeline",
    "warehouse_on_hand",
    "warehouse_pipeline",
    "forecast",
    "forecast_var",
    "recent_service",
    "stockout_yesterday",
    "warehouse_last_order",
    "supplier_last_shipped",
    "days_to_delivery",
    "demand",
    "supplier_late",
)
OUTCOME_FIELDS = tuple(f.name for f in dataclasses.fields(DayOutcome))
#: The evaluation frame's columns when the KPI digests were recorded; KPI columns added
#: since (the holding cost split by node) are new values, not changed ones.
RECORDED_KPI_COLUMNS = (
    "seed",
    "total_cost",
    "holding_cost",
    "lost_sales_cost",
    "ordering_cost",
    "fill_rate",
    "lost_sales",
    "mean_store_inventory",
    "mean_warehouse_inventory",
    "store_reward",
)


class Digest:
    """A running SHA-256 over values: arrays by dtype and raveled bytes, floats as float64."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()

    def add(self, value: Any) -> None:
        if isinstance(value, dict):
            for key in sorted(value):
                self._hash.update(str(key).encode())
                self.add(value[key])
        elif isinstance(value, list | tuple):
            for item in value:
                self.add(item)
        elif isinstance(value, bool | np.bool_):
            self._hash.update(b"T" if value else b"F")
        elif isinstance(value, int | float | np.number):
            self._hash.update(np.float64(value).tobytes())
        elif isinstance(value, np.ndarray):
            array = np.ascontiguousarray(value).ravel()
            self._hash.update(array.dtype.str.encode())
            self._hash.update(array.tobytes())
        elif isinstance(value, str):
            self._hash.update(value.encode())
        else:  # pragma: no cover - a new type in an info
            raise TypeError(f"cannot digest {type(value)}")

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def _variants() -> dict[str, Scenario]:
    """Scenarios whose code paths the suite's files miss: lead times of zero."""
    base = load_scenario("default")
    return {
        "lead0": dataclasses.replace(
            base,
            name="lead0",
            warehouse=dataclasses.replace(base.warehouse, lead_time=0),
            supplier=dataclasses.replace(base.supplier, lead_time=0, reliability=0.6),
        ),
        "poisson3": dataclasses.replace(
            load_scenario("three_stores"),
            name="poisson3",
            demand=dataclasses.replace(base.demand, distribution="poisson"),
            supplier=dataclasses.replace(base.supplier, capacity=900, reliability=0.8),
        ),
    }


def _as_recorded(infos: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The env's infos with each action mask viewed as bool, the dtype it had when the
    digests were recorded. The env hands out Gymnasium's int8 masks since issue 13: the same
    bytes (0 and 1), a different dtype, which the digest hashes; the view keeps every mask
    value in the digest, so a changed mask still changes it."""
    out = {}
    for agent, info in infos.items():
        mask = info["action_mask"]
        assert mask.dtype == np.int8, f"{agent}'s mask should be int8, got {mask.dtype}"
        out[agent] = {**info, "action_mask": mask.view(np.bool_)}
    return out


def env_episode(scenario: Scenario | str, seed: int, mode: str, compiled: bool = True) -> str:
    """HMARLEnvironment for one episode: rule actions, or uniform random (unmasked) actions.

    ``compiled=False`` runs the env's numpy reference path instead of its compiled day.
    """
    env = HMARLEnvironment(scenario, compiled=compiled)
    digest = Digest()
    obs, infos = env.reset(seed=seed)
    digest.add([obs, _as_recorded(infos)])
    rng = np.random.default_rng(seed + 1)
    while env.agents:
        if mode == "rule":
            actions = env.rule_actions()
        else:
            actions = {a: int(rng.integers(env.action_space(a).n)) for a in env.agents}
        result = env.step(actions)
        digest.add([*result[:4], _as_recorded(result[4])])
        digest.add(env.state())
    return digest.hexdigest()


def twin_episode(scenario: Scenario | str, seed: Any, copies: int) -> dict[str, str]:
    """The batched twin under rule orders scaled at random (cuts and shortages happen)."""
    sc = load_scenario(scenario)
    twin = DigitalTwin(sc, batch_size=copies)
    state = twin.reset(seed)
    stores, warehouse, supplier = StoreRole(sc), WarehouseRole(sc), SupplierRole(sc)
    rng = np.random.default_rng(12345)
    digests = {name: Digest() for name in (*OUTCOME_FIELDS, *STATE_FIELDS, "observations")}
    while not twin.done:
        position = state.store_position
        obs = [
            stores.observe(state, position=position),
            stores.action_masks(state, position=position),
            stores.rule_actions(state, position=position),
            warehouse.observe(state),
            warehouse.action_masks(state),
            warehouse.rule_actions(state),
            supplier.observe(state),
        ]
        digests["observations"].add(obs)
        scale = rng.choice([0, 1, 3], size=(copies, sc.n_stores))
        store_orders = stores.order_quantities(stores.rule_actions(state), state) * scale
        store_orders += rng.integers(0, 400, size=store_orders.shape)
        warehouse_order = rng.choice([0, 800, 3000, 40000], size=copies)
        outcome = twin.step(store_orders, warehouse_order, rng.integers(0, 3, copies))
        report = reconcile(outcome, sc)
        for name in OUTCOME_FIELDS:
            digests[name].add(getattr(outcome, name))
        for name in STATE_FIELDS:
            digests[name].add(getattr(state, name))
        digests["observations"].add(
            [dataclasses.asdict(getattr(report, role)) for role in ("stores", "warehouse")]
        )
        digests["observations"].add(dataclasses.asdict(report.supplier))
    return {name: d.hexdigest() for name, d in digests.items()}


def vec_episodes(scenario: str, copies: int, seed: int) -> str:
    """SharedPolicyVecEnv with random actions over two episodes (one auto-reset)."""
    venv = SharedPolicyVecEnv(scenario, n_envs=copies, seed=seed)
    digest = Digest()
    digest.add(venv.reset())
    rng = np.random.default_rng(seed)
    for _ in range(2 * venv.scenario.episode_days):
        venv.step_async(rng.integers(0, 4, venv.num_envs))
        obs, rewards, dones, infos = venv.step_wait()
        digest.add([obs, rewards, dones, [dict(i) for i in infos], venv.action_masks()])
    return digest.hexdigest()


def evaluation_kpis(scenario: str, name: str) -> str:
    """KPIs of a baseline on three evaluation seeds."""
    frame = evaluate(scenario, make_baseline(name, scenario, (11, 12), seed=3), (0, 1, 2))
    digest = Digest()
    for column in RECORDED_KPI_COLUMNS:
        digest.add(column)
        digest.add(frame[column].to_numpy())
    return digest.hexdigest()


def compute() -> dict[str, Any]:
    """Every digest, by a stable key."""
    out: dict[str, Any] = {}
    variants = _variants()
    scenarios: Iterable[tuple[str, Scenario | str]] = [
        *((n, n) for n in ENV_SCENARIOS),
        *variants.items(),
    ]
    for name, scenario in scenarios:
        for seed in ENV_SEEDS:
            for mode in ("rule", "random"):
                out[f"env/{name}/{seed}/{mode}"] = env_episode(scenario, seed, mode)
    for name, scenario, seed in (
        ("default", "default", 3),
        ("three_stores", "three_stores", [5, 6, 7]),
        ("supplier_delay", "supplier_delay", 9),
        ("lead0", variants["lead0"], 4),
        ("poisson3", variants["poisson3"], [1, 2]),
    ):
        copies = len(seed) if isinstance(seed, list) else 3
        out[f"twin/{name}"] = twin_episode(scenario, seed, copies)
    for name in ("default", "three_stores"):
        out[f"vec/{name}"] = vec_episodes(name, 3, 21)
        for baseline in BASELINE_NAMES:
            out[f"kpis/{name}/{baseline}"] = evaluation_kpis(name, baseline)
    out["kpis/default/tuned_ss_free"] = evaluation_kpis("default", "tuned_ss_free")
    out["kpis/three_stores/tuned_order_up_to_actions"] = evaluation_kpis(
        "three_stores", "tuned_order_up_to_actions"
    )
    return out


def differences(expected: dict[str, Any], actual: dict[str, Any]) -> list[str]:
    """Keys (with ``/field`` for twin entries) whose digest changed."""
    changed = []
    for key, value in expected.items():
        if isinstance(value, dict):
            changed += [f"{key}/{f}" for f, v in value.items() if actual[key].get(f) != v]
        elif actual.get(key) != value:
            changed.append(key)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="record the current behaviour")
    args = parser.parse_args(argv)
    digests = compute()
    if args.write:
        GOLDEN_PATH.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN_PATH.write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n")
        print(f"wrote {len(digests)} entries to {GOLDEN_PATH}")
        return 0
    changed = differences(json.loads(GOLDEN_PATH.read_text()), digests)
    print("\n".join(changed) or "all digests match")
    return 1 if changed else 0


if __name__ == "__main__":
    raise SystemExit(main())
