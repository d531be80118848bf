"""The compiled day of HMARLEnvironment equals the numpy reference, bit for bit.

Every scenario of the suite plus variants whose code paths the files miss (lead times of
0, Poisson demand, several SKUs with a tight supplier, odd cost and weight values so float
rounding shows, supplier outages and demand regimes with several SKUs) runs under random
(unmasked) actions with ``compiled=True`` and ``compiled=False``; every output
(observations, rewards, terminations, truncations, infos with reports, masks and system
cost), the reconciliation report and the whole twin state must agree in type, dtype,
shape and bytes.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any

import golden
import numpy as np
import pytest
from gymnasium import spaces

import hmarl_bench
from hmarl_bench import DigitalTwin, HMARLEnvironment, load_scenario
from hmarl_bench.agents.roles import StoreRole, SupplierRole, WarehouseRole
from hmarl_bench.config import (
    Costs,
    DemandRegimes,
    RewardWeights,
    Scenario,
    Sku,
    SupplierDisruption,
)
from hmarl_bench.envs import fused_kernel
from hmarl_bench.envs.fused import SYSTEM_KEYS, FusedDay
from hmarl_bench.reconciliation import ROLE_TERMS, reconcile, reward, system_cost

REGIMES = DemandRegimes(multipliers=(0.5, 1.0, 2.0), mean_durations=(5.0, 10.0, 4.0))


def _variants() -> dict[str, Scenario]:
    base, multi = load_scenario("default"), load_scenario("multi_sku")
    odd_costs = Costs(0.37, 0.11, 7.7, 13.3, 2.5)
    odd_weights = RewardWeights(3.3, 0.7, 1.9, 0.013, 0.21)
    return {
        **golden._variants(),  # lead0 (lead times 0, late shipments), poisson3
        "multi_lead0": dataclasses.replace(
            multi,
            name="multi_lead0",
            warehouse=dataclasses.replace(multi.warehouse, lead_time=0),
            supplier=dataclasses.replace(
                multi.supplier, lead_time=0, reliability=0.5, capacity=700
            ),
        ),
        "odd": dataclasses.replace(
            load_scenario("three_stores"),
            name="odd",
            costs=odd_costs,
            store_reward=odd_weights,
            warehouse_reward=odd_weights,
            supplier_reward=odd_weights,
            forecast_smoothing=0.3,
            skus=(Sku("a", demand_scale=0.7), Sku("b", demand_scale=0.45)),
        ),
        "negative_binomial": dataclasses.replace(
            base,
            name="negative_binomial",
            demand=dataclasses.replace(base.demand, distribution="negative_binomial"),
        ),
        "multi_outages": dataclasses.replace(  # outages often, lead 0, regimes, several SKUs
            multi,
            name="multi_outages",
            demand=dataclasses.replace(multi.demand, regimes=REGIMES),
            supplier=dataclasses.replace(
                multi.supplier, lead_time=0, disruption=SupplierDisruption(6.0, 3.0)
            ),
        ),
    }


VARIANTS = _variants()
SCENARIOS = [*hmarl_bench.list_scenarios(), *VARIANTS]
SLOW = {"stores_1000"}


def _assert_same(ours: Any, reference: Any, where: str) -> None:
    """Equal in type, key order, dtype, shape and every bit."""
    assert type(ours) is type(reference), where
    if isinstance(reference, dict):
        assert list(ours) == list(reference), where
        for key in reference:
            _assert_same(ours[key], reference[key], f"{where}/{key}")
    elif isinstance(reference, list | tuple):
        assert len(ours) == len(reference), where
        for i, (a, b) in enumerate(zip(ours, reference, strict=True)):
            _assert_same(a, b, f"{where}[{i}]")
    elif isinstance(reference, np.ndarray):
        assert (ours.dtype, ours.shape) == (reference.dtype, reference.shape), where
        assert ours.tobytes() == reference.tobytes(), (where, ours, reference)
    elif isinstance(reference, float):
        assert np.float64(ours).tobytes() == np.float64(reference).tobytes(), (where, ours)
    else:
        assert ours == reference, where


def _random_actions(env: HMARLEnvironment, rng: np.random.Generator) -> dict[str, Any]:
    actions: dict[str, Any] = {}
    for agent in env.agents:
        space = env.action_space(agent)
        if isinstance(space, spaces.MultiDiscrete):
            actions[agent] = rng.integers(space.nvec)
        else:
            actions[agent] = int(rng.integers(space.n))
    return actions


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in SCENARIOS]
)
def test_compiled_day_equals_the_numpy_reference(name: str) -> None:
    scenario = VARIANTS.get(name, name)
    ours, reference = HMARLEnvironment(scenario), HMARLEnvironment(scenario, compiled=False)
    assert ours.compiled and not reference.compiled
    for seed in (0, 5):
        _assert_same(ours.reset(seed=seed), reference.reset(seed=seed), f"{name} reset")
        rng_ours, rng_ref = np.random.default_rng(seed), np.random.default_rng(seed)
        while reference.agents:
            where = f"{name} seed {seed} day {reference.day}"
            _assert_same(
                ours.step(_random_actions(ours, rng_ours)),
                reference.step(_random_actions(reference, rng_ref)),
                where,
            )
            _assert_same(vars(ours.twin_state), vars(reference.twin_state), f"{where} state")
            report = dataclasses.asdict(ours.last_report)
            _assert_same(report, dataclasses.asdict(reference.last_report), f"{where} report")
            _assert_same(ours.last_actions, reference.last_actions, where)
        assert not ours.agents
        _assert_same(ours.state(), reference.state(), f"{name} global state")


def test_a_report_read_later_keeps_its_day() -> None:
    env = HMARLEnvironment("default")
    env.reset(seed=0)
    env.step(env.rule_actions())
    first = env.last_report
    assert env.last_report is first  # built once per day
    demand = first.stores.demand.copy()
    env.step(env.rule_actions())
    assert env.last_report is not first and env.last_report.day == 1
    np.testing.assert_array_equal(first.stores.demand, demand)
    env.reset(seed=0)
    assert env.last_report is None


def test_observations_returned_earlier_are_not_overwritten() -> None:
    env = HMARLEnvironment("default")
    obs, _ = env.reset(seed=0)
    kept = {agent: o.copy() for agent, o in obs.items()}
    for _ in range(3):
        env.step(env.rule_actions())
    for agent, o in obs.items():
        np.testing.assert_array_equal(o, kept[agent])


def test_a_compiled_env_copies_and_pickles() -> None:
    env = HMARLEnvironment("multi_sku")
    env.reset(seed=2)
    env.step(_random_actions(env, np.random.default_rng(0)))
    twin = pickle.loads(pickle.dumps(copy.deepcopy(env)))
    actions = _random_actions(env, np.random.default_rng(1))
    _assert_same(twin.step(actions), env.step(actions), "copy")


@pytest.mark.parametrize("size", [*range(0, 140), 255, 256, 257, 1000, 1001, 3000, 20001])
def test_the_compiled_sum_is_numpys_sum(size: int) -> None:
    """np.add.reduce of a contiguous row (numpy's pairwise order), incl. -0.0 and signs."""
    rng = np.random.default_rng(size)
    for values in (
        rng.random(size) * 10.0 ** rng.uniform(-6, 6, size) * rng.choice([-1.0, 1.0], size),
        np.full(size, -0.0),
    ):
        expected = np.add.reduce(values[None, :], axis=1, keepdims=True)[0, 0]
        assert np.float64(fused_kernel._np_sum(values)).tobytes() == expected.tobytes()


@pytest.mark.parametrize(("stores", "skus"), [(1, 2), (7, 3), (200, 2), (1000, 3)])
def test_the_compiled_sum_over_stores_is_numpys(stores: int, skus: int) -> None:
    """over_stores with several SKUs: numpy sums a middle axis store by store."""
    rng = np.random.default_rng(stores)
    values = rng.random(stores * skus) * 10.0 ** rng.uniform(-6, 6, stores * skus)
    expected = np.add.reduce(values.reshape(1, stores, skus), axis=1)[0]
    ours = np.empty(skus)
    fused_kernel._over_stores(values, ours)
    assert ours.tobytes() == expected.tobytes()


def _expected_observations(state: Any, roles: tuple) -> tuple[np.ndarray, np.ndarray]:
    """The roles' observations and masks of every copy, flat in the env's agent order."""
    stores, warehouse, supplier = roles
    position, copies = state.store_position, state.batch_size
    obs = [stores.observe(state, position=position).reshape(copies, -1)]
    obs += [warehouse.observe(state), supplier.observe(state)]
    masks = [stores.action_masks(state, position=position).reshape(copies, -1)]
    masks += [warehouse.action_masks(state), supplier.action_masks(state)]
    return np.concatenate(obs, axis=1), np.concatenate(masks, axis=1)


@pytest.mark.parametrize("name", ["three_stores", "multi_lead0", "odd", "lead0", "multi_outages"])
def test_the_kernel_runs_several_copies_as_the_batched_twin(name: str) -> None:
    """FusedDay with B = 3 copies against DigitalTwin.step, reconcile and the roles."""
    sc, copies = load_scenario(VARIANTS.get(name, name)), 3
    reference, ours = DigitalTwin(sc, copies), DigitalTwin(sc, copies)
    roles = StoreRole(sc), WarehouseRole(sc), SupplierRole(sc)
    fused = FusedDay(sc, ours.params, *roles, copies=copies)
    weights = (sc.store_reward, sc.warehouse_reward, sc.supplier_reward)
    n, k = sc.n_slots, sc.n_skus
    rng = np.random.default_rng(3)
    reference.reset([4, 5, 6])
    _assert_same(
        fused.observe(ours.reset([4, 5, 6])), _expected_observations(reference.state, roles), name
    )
    while not reference.done:
        state = reference.state
        actions = np.concatenate(
            [rng.integers(0, 4, (copies, n + k)), rng.integers(0, 3, (copies, 1))], axis=1
        )
        warehouse_actions = actions[:, n] if k == 1 else actions[:, n : n + k]
        outcome = reference.step(
            roles[0].order_quantities(actions[:, :n], state),
            roles[1].order_quantities(warehouse_actions),
            actions[:, -1],
        )
        report = reconcile(outcome, sc)
        where = f"{name} day {outcome.day}"
        obs_masks = fused.step(ours.state, actions)
        _assert_same(obs_masks, _expected_observations(reference.state, roles), where)
        _assert_same(vars(fused.outcome()), vars(outcome), f"{where} outcome")
        _assert_same(vars(ours.state), vars(reference.state), f"{where} state")
        role_reports = (report.stores, report.warehouse, report.supplier)
        rewards = [
            reward(r, w).reshape(copies, -1) for r, w in zip(role_reports, weights, strict=True)
        ]
        _assert_same(fused.rewards, np.concatenate(rewards, axis=1), f"{where} rewards")
        for b in range(copies):
            terms = [*report.stores.agents_at(b), *report.warehouse.agents_at(b)]
            terms += report.supplier.agents_at(b)
            ours_terms = [
                dict(zip(ROLE_TERMS, row, strict=True)) for row in fused.terms[b].tolist()
            ]
            _assert_same(ours_terms, terms, f"{where} terms")
        cost = system_cost(report, sc)
        _assert_same(fused.system, np.stack([cost[key] for key in SYSTEM_KEYS], axis=1), where)
