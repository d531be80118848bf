"""The view track: what a ChainView controller reads plus memory, no peeking, the new algos."""

from __future__ import annotations

import numpy as np
import pytest

from hmarl_bench import load_scenario
from hmarl_bench.agents.actor import ModelActor
from hmarl_bench.agents.interfaces import make_roles, parse_interface
from hmarl_bench.agents.memory import DayMemory
from hmarl_bench.agents.view_track import DEFAULT_MEMORY_DAYS, ViewStoreRole, ViewWarehouseRole
from hmarl_bench.evaluation import ModelStores, RoleController, evaluate
from hmarl_bench.learn.hierarchy import parse_learners
from hmarl_bench.learn.hyperparam_keys import check_algo, env_options, load_hyperparams
from hmarl_bench.learn.rounds import train_rounds
from hmarl_bench.learn.train import train_store_policy
from hmarl_bench.twin import DigitalTwin

SCENARIOS = ["default", "multi_sku", "supplier_delay", "regime_switching", "supplier_outages"]


def _run(scenario: str, seed: int, edit=None, copies: int = 2, interface: str = "view"):
    """One episode of planner rules on the view track: every role's observation per day,
    the views (as a controller gets them) and the realized demand (for checks only)."""
    sc = load_scenario(scenario)
    twin = DigitalTwin(sc, copies)
    state = twin.reset(seed)
    if edit is not None:
        edit(state)
    stores, warehouse, supplier = make_roles(sc, interface)
    seen, demand = [], np.array(state.demand, copy=True)
    while not twin.done:
        view = twin.view()
        seen.append([stores.observe(view), warehouse.observe(view), supplier.observe(view)])
        twin.step(
            stores.order_quantities(stores.rule_actions(view), view),
            warehouse.order_quantities(warehouse.rule_actions(view), view),
            supplier.rule_actions(view),
        )
    return sc, seen, demand, (stores, warehouse)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_observations_within_bounds_and_named(scenario):
    sc, seen, _, (stores, warehouse) = _run(scenario, seed=3)
    spaces_ = [role.observation_space for role in make_roles(sc, "view")]
    for day in seen:
        for obs, space in zip(day, spaces_, strict=True):
            assert obs.dtype == np.float32
            assert obs.shape[-1] == space.shape[0]
            assert obs.min() >= 0.0 and obs.max() <= 1.0
    assert len(stores.obs_names) == stores.obs_dim
    assert len(warehouse.obs_names) == warehouse.obs_dim
    planner = make_roles(sc, "planner")
    assert stores.obs_dim > planner[0].obs_dim and warehouse.obs_dim > planner[1].obs_dim


@pytest.mark.parametrize("scenario", ["default", "multi_sku", "regime_switching"])
def test_memory_holds_yesterdays_observed_demand_exactly(scenario):
    """The demand recovered from the forecast history is the demand of the past k days."""
    sc = load_scenario(scenario)
    twin = DigitalTwin(sc, 3)
    state = twin.reset(5)
    demand = np.array(state.demand, copy=True)  # (B, T, N): for the check only
    stores, warehouse, _ = make_roles(sc, "view")
    k = stores.memory_days
    for day in range(20):
        view = twin.view()
        stores.observe(view)
        stores.observe(view)  # a second call on the same day changes nothing
        warehouse.observe(view)
        window = stores.memory.window("demand", state.store_on_hand.shape)  # (B, N, k)
        for lag in range(min(day, k)):
            np.testing.assert_allclose(window[..., lag], demand[:, day - 1 - lag], atol=1e-6)
        chain = warehouse.memory.window("demand", (3, sc.n_skus))
        if day:
            per_sku = demand[:, day - 1].reshape(3, -1, sc.n_skus).sum(axis=1)
            np.testing.assert_allclose(chain[..., 0], per_sku, atol=1e-6)
        twin.step(
            stores.order_quantities(stores.rule_actions(view), view),
            warehouse.order_quantities(warehouse.rule_actions(view), view),
            np.zeros(3, dtype=np.int64),
        )


@pytest.mark.parametrize("scenario", ["default", "multi_sku", "regime_switching"])
@pytest.mark.parametrize("cut", [5, 40])
def test_observations_use_no_future_or_hidden_information(scenario, cut):
    """Demand, lateness and every other exogenous array after day ``cut`` changed: every
    observation up to day ``cut`` is the same (memory included)."""

    def edit(state):
        state.demand[:, cut + 1 :] = state.demand[:, cut + 1 :] * 3 + 7
        state.supplier_late[:, cut + 1 :] = ~state.supplier_late[:, cut + 1 :]

    _, plain, _, _ = _run(scenario, seed=11)
    _, edited, _, _ = _run(scenario, seed=11, edit=edit)
    for day in range(cut + 1):
        for a, b in zip(plain[day], edited[day], strict=True):
            np.testing.assert_array_equal(a, b)
    assert any(
        not np.array_equal(a, b) for a, b in zip(plain[cut + 2], edited[cut + 2], strict=True)
    )


def test_memory_restarts_with_each_episode_and_names_its_days():
    memory = DayMemory(3)
    assert not memory.advance(0, 2)  # a new episode: nothing to push
    assert memory.advance(1, 2)
    memory.push("x", np.ones((2, 1)))
    assert not memory.advance(1, 2)  # the same day again
    assert memory.advance(2, 2)
    memory.push("x", 2 * np.ones((2, 1)))
    np.testing.assert_array_equal(memory.window("x", (2, 1))[0, 0], [2, 1, 0])
    assert not memory.advance(0, 2)  # the next episode
    np.testing.assert_array_equal(memory.window("x", (2, 1)), np.zeros((2, 1, 3)))
    with pytest.raises(ValueError, match="memory days"):
        DayMemory(0)


def test_interface_names_and_memory_days():
    assert parse_interface("view") == ("view", DEFAULT_MEMORY_DAYS)
    assert parse_interface("view:14") == ("view", 14)
    assert parse_interface("planner") == ("planner", 0)
    for bad in ("view:0", "view:x", "planner:3", "viewer"):
        with pytest.raises(ValueError):
            parse_interface(bad)
    sc = load_scenario("default")
    roles = make_roles(sc, "view:3")
    assert isinstance(roles[0], ViewStoreRole) and roles[0].memory_days == 3
    assert isinstance(roles[1], ViewWarehouseRole) and roles[1].memory_days == 3
    params = load_hyperparams("ppo", {"interface": "view", "memory_days": 3})
    assert env_options(params)["interface"] == "view:3"
    with pytest.raises(ValueError, match="memory_days"):
        load_hyperparams("ppo", {"memory_days": 3})  # the seed track has no memory


def test_every_sb3_algorithm_is_known_and_another_is_refused_with_the_list():
    for algo in ("ddpg", "sac", "tqc", "td3", "dqn", "qrdqn", "trpo"):
        check_algo(algo)  # continuous ones: tests/test_continuous.py
    with pytest.raises(ValueError, match=r"unknown algo 'her'.*'sac'"):
        check_algo("her")


class _RecordingModel:
    """A stand-in recurrent model: records the state and episode starts it is given."""

    def __init__(self) -> None:
        self.calls: list[tuple[object, bool]] = []

    def predict(self, obs, state=None, episode_start=None, deterministic=True):
        self.calls.append((state, bool(episode_start.all())))
        return np.zeros(len(obs), dtype=np.int64), ("lstm", len(self.calls))


_RecordingModel.__name__ = "RecurrentStandIn"


def test_a_recurrent_model_carries_its_state_day_to_day():
    model = _RecordingModel()
    actor = ModelActor(model)
    assert actor.recurrent
    obs = np.zeros((4, 3), dtype=np.float32)
    actor.predict(obs, 0)
    actor.predict(obs, 1)
    actor.predict(obs, 1)  # the same day again: the state the day started with
    actor.predict(obs, 2)
    actor.predict(obs, 0)  # a new episode
    assert model.calls == [
        (None, True),
        (("lstm", 1), False),
        (("lstm", 1), False),
        (("lstm", 3), False),
        (None, True),
    ]


@pytest.mark.parametrize("algo", ["a2c", "trpo", "recurrent_ppo"])
def test_the_store_learner_trains_and_evaluates_with_each_algo(algo):
    sc = load_scenario("default")
    small = {"n_steps": 32} if algo == "a2c" else {"n_steps": 32, "batch_size": 64}
    trained = train_store_policy(sc, algo=algo, timesteps=256, n_envs=2, hyperparams=small, seed=0)
    assert type(trained.model).__name__.lower().replace("_", "") == algo.replace("_", "")
    frame = evaluate(sc, RoleController(stores=ModelStores(trained.model)), [10, 11])
    assert len(frame) == 2 and np.isfinite(frame["total_cost"]).all()


@pytest.mark.parametrize(
    ("learners", "algo"),
    [(["warehouse"], "ppo"), (["warehouse"], "recurrent_ppo"), (["stores", "warehouse"], "ppo")],
)
def test_view_track_learners_train_and_evaluate(learners, algo):
    results = train_rounds(
        "default",
        parse_learners(learners),
        algo=algo,
        timesteps=256,
        n_envs=2,
        hyperparams={"interface": "view", "n_steps": 64, "batch_size": 64, "memory_days": 4},
        validation_seeds=[200, 201],
        eval_seeds=[10, 11],
    )
    final = results[-1]
    frame = evaluate(load_scenario("default"), final.policies.controller(load_scenario("default")),
                     [10, 11])  # fmt: skip
    assert len(frame) == 2 and np.isfinite(frame["total_cost"]).all()
    model = getattr(final.policies, learners[-1])
    role = make_roles(load_scenario("default"), "view:4")[1]
    assert model.observation_space.shape == role.observation_space.shape


@pytest.mark.parametrize(("algo", "interface"), [("dqn", "view"), ("qrdqn", "seed")])
def test_value_based_learners_train_the_warehouse_alone(algo, interface):
    results = train_rounds(
        "default",
        parse_learners(["warehouse"]),
        algo=algo,
        timesteps=512,
        n_envs=4,
        hyperparams={"interface": interface, "learning_starts": 64, "buffer_size": 1000},
        validation_seeds=[200, 201],
        eval_seeds=[10, 11],
    )
    model = results[-1].policies.warehouse
    assert type(model).__name__.lower() == algo
    assert np.isfinite(results[-1].episodes["total_cost"]).all()


def test_value_based_algos_refuse_the_shared_store_policy_and_joint_needs_ppo():
    with pytest.raises(ValueError, match="not the stores' shared policy"):
        train_store_policy("default", algo="dqn", timesteps=64)
    with pytest.raises(ValueError, match="not the stores' shared policy"):
        train_rounds("default", parse_learners(["stores"]), algo="qrdqn", timesteps=64,
                     eval_seeds=[10])  # fmt: skip
    with pytest.raises(ValueError, match="joint schedule"):
        train_rounds("default", parse_learners(["stores", "warehouse"]), algo="a2c",
                     timesteps=64, hyperparams={"schedule": "joint"}, eval_seeds=[10])  # fmt: skip
