"""Continuous order-up-to levels (SAC, TD3, TQC, DDPG): the action mapping against the grid
roles, the envs, the refusals, and ``python -m hmarl_bench.run`` end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_helpers import run_fails
from gymnasium import spaces

from hmarl_bench import load_scenario
from hmarl_bench.agents.continuous import (
    STORE_TOP_DAYS,
    WAREHOUSE_TOP_DAYS,
    ContinuousStoreRole,
    ContinuousWarehouseRole,
    HeadController,
    action_of_days,
    continuous_role,
)
from hmarl_bench.agents.interfaces import make_roles
from hmarl_bench.agents.planner import STORE_COVER_DAYS, WAREHOUSE_COVER_DAYS
from hmarl_bench.agents.policy import PolicyAgent, load_model
from hmarl_bench.envs.upper_vec import SupplierVecEnv, WarehouseVecEnv
from hmarl_bench.envs.vec import SharedPolicyVecEnv
from hmarl_bench.evaluation import evaluate
from hmarl_bench.learn.hierarchy import Policies, parse_learners
from hmarl_bench.learn.hyperparam_keys import (
    CONTINUOUS_ALGOS,
    check_role_algo,
    hyperparams_file,
    load_hyperparams,
    track_name,
)
from hmarl_bench.learn.rounds import train_rounds
from hmarl_bench.learn.train import train_store_policy
from hmarl_bench.run import main
from hmarl_bench.twin import DigitalTwin

TRACKS = ["planner", "view:3"]
SMALL = {"learning_starts": 32, "buffer_size": 2000, "batch_size": 32}


def _views(scenario: str, days: list[int], seed: int = 5, copies: int = 3, interface="planner"):
    """The views of ``days`` of one episode under the track's grid rules (a state per day)."""
    sc = load_scenario(scenario)
    twin = DigitalTwin(sc, copies)
    twin.reset(seed)
    stores, warehouse, supplier = make_roles(sc, interface)
    views = {}
    while not twin.done:
        view = twin.view()
        stores.observe(view), warehouse.observe(view)  # the view track's memory, day by day
        if view.day in days:
            views[view.day] = view
        twin.step(
            stores.order_quantities(stores.rule_actions(view), view),
            warehouse.order_quantities(warehouse.rule_actions(view), view),
            supplier.rule_actions(view),
        )
        if view.day == max(days):
            return sc, views
    return sc, views


# ------------------------------------------------------------------- the action mapping


@pytest.mark.parametrize("interface", TRACKS)
@pytest.mark.parametrize("scenario", ["default", "multi_sku"])
def test_a_store_action_on_a_grid_point_orders_what_the_grid_role_orders(scenario, interface):
    sc, views = _views(scenario, [0, 9, 40])
    grid = make_roles(sc, interface)[0]
    line = continuous_role(make_roles(sc, interface)[0])
    assert isinstance(line, ContinuousStoreRole)
    assert line.action_space == spaces.Box(-1.0, 1.0, (1,), np.float32)
    assert line.obs_dim == grid.obs_dim and line.obs_names == grid.obs_names
    for view in views.values():
        shape = view.forecast.shape
        np.testing.assert_array_equal(line.order_quantities(np.full(shape, -1.0), view), 0)
        for index, days in enumerate(STORE_COVER_DAYS):
            actions = np.full(shape, action_of_days(days, STORE_TOP_DAYS))
            expected = grid.order_quantities(np.full(shape, index), view)
            np.testing.assert_array_equal(line.order_quantities(actions, view), expected)
            # the (B, N, 1) actions of a VecEnv's Box(1,) slots give the same orders
            np.testing.assert_array_equal(line.order_quantities(actions[..., None], view), expected)
        top = grid.order_quantities(np.full(shape, len(STORE_COVER_DAYS) - 1), view)
        np.testing.assert_array_equal(line.order_quantities(np.ones(shape), view), top)
        assert top.sum() > 0


def test_an_interior_store_action_orders_level_minus_position():
    sc, views = _views("default", [12])
    view = views[12]
    line = continuous_role(make_roles(sc, "planner")[0])
    rng = np.random.default_rng(0)
    actions = rng.uniform(-1, 1, view.forecast.shape)
    days = (actions + 1) / 2 * STORE_COVER_DAYS.max()
    position = view.store_on_hand + view.store_pipeline.sum(axis=-1)
    expected = np.maximum(np.rint(days * view.forecast - position), 0).astype(np.int64)
    np.testing.assert_array_equal(line.order_quantities(actions, view), expected)
    # out of range: clipped to the ends
    np.testing.assert_array_equal(
        line.order_quantities(np.full(view.forecast.shape, 7.0), view),
        line.order_quantities(np.ones(view.forecast.shape), view),
    )


@pytest.mark.parametrize("interface", TRACKS)
@pytest.mark.parametrize("scenario", ["default", "multi_sku"])
def test_a_warehouse_action_on_a_grid_point_orders_what_the_grid_role_orders(scenario, interface):
    sc = load_scenario(scenario)
    _, views = _views(scenario, [0, 5, 30, sc.episode_days - 12])
    grid = make_roles(sc, interface)[1]
    line = continuous_role(make_roles(sc, interface)[1])
    assert isinstance(line, ContinuousWarehouseRole)
    assert line.action_space == spaces.Box(-1.0, 1.0, (sc.n_skus,), np.float32)
    for view in views.values():
        batch, k = view.warehouse_on_hand.shape
        np.testing.assert_array_equal(line.order_quantities(-np.ones((batch, k)), view), 0)
        for index, days in enumerate(WAREHOUSE_COVER_DAYS):
            actions = np.full((batch, k), action_of_days(days, WAREHOUSE_TOP_DAYS))
            grid_actions = (
                np.full((batch, k), index)[:, 0] if k == 1 else np.full((batch, k), index)
            )
            expected = grid.order_quantities(grid_actions, view)
            np.testing.assert_array_equal(line.order_quantities(actions, view), expected)
            table = grid._level_table[min(view.day, sc.episode_days - 1), index]  # (K,)
            # float32 actions (what SB3 gives) land on the same whole days
            for given in (actions, actions.astype(np.float32)):
                levels = line.levels(given, view)
                np.testing.assert_array_equal(levels, np.broadcast_to(table, (batch, k)))
                np.testing.assert_array_equal(line.order_quantities(given, view), expected)


def test_a_fractional_warehouse_level_adds_that_fraction_of_the_next_day():
    sc, views = _views("strong_seasonality", [20])
    view = views[20]
    line = continuous_role(make_roles(sc, "planner")[1])
    profile = line.chain_profile  # (T, K)
    days = 6.25
    level = line.levels(np.full((3, 1), action_of_days(days, WAREHOUSE_TOP_DAYS)), view)
    expected = profile[20:26].sum(axis=0) + 0.25 * profile[26]
    np.testing.assert_allclose(level, np.broadcast_to(expected, (3, 1)))
    six, eight = (
        line.levels(np.full((3, 1), action_of_days(d, WAREHOUSE_TOP_DAYS)), view) for d in (6, 8)
    )
    assert (six < level).all() and (level < eight).all()


def test_the_horizon_rule_is_the_grid_roles():
    sc = load_scenario("default")
    lead = sc.warehouse.lead_time
    echelon = sc.supplier.lead_time + lead
    end = sc.episode_days
    _, views = _views("default", [end - lead, end - lead - 1, end - echelon, end - echelon - 1])
    for mask in (True, False):
        stores = continuous_role(make_roles(sc, "planner", horizon_mask=mask)[0])
        warehouse = continuous_role(make_roles(sc, "planner", horizon_mask=mask)[1])
        grid = make_roles(sc, "planner", horizon_mask=mask)
        for view in views.values():
            top_s = stores.order_quantities(np.ones(view.forecast.shape), view)
            top_w = warehouse.order_quantities(np.ones((3, 1)), view)
            grid_s = grid[0].order_quantities(np.full(view.forecast.shape, 10), view)
            grid_w = grid[1].order_quantities(np.full(3, 13), view)
            np.testing.assert_array_equal(top_s, grid_s)
            np.testing.assert_array_equal(top_w, grid_w)
            if mask and view.day + lead >= sc.episode_days:
                assert top_s.sum() == 0  # cannot land before the horizon: nothing ordered
            if mask and view.day + echelon >= sc.episode_days:
                assert top_w.sum() == 0
        if not mask:
            assert top_s.sum() > 0 or top_w.sum() > 0


def test_capacity_is_cut_by_the_twin_as_for_the_grid_role():
    sc = load_scenario("default")
    outcomes = []
    for head in (False, True):
        twin = DigitalTwin(sc, 2)
        state = twin.reset(3)
        state.forecast[:] = 400.0  # a top level far past every store's capacity
        stores, warehouse, _ = make_roles(sc, "planner")
        view = twin.view()
        if head:
            stores, warehouse = continuous_role(stores), continuous_role(warehouse)
            s_orders = stores.order_quantities(np.ones((2, sc.n_slots)), view)
            w_orders = warehouse.order_quantities(np.ones((2, 1)), view)
        else:
            s_orders = stores.order_quantities(np.full((2, sc.n_slots), 10), view)
            w_orders = warehouse.order_quantities(np.full(2, 13), view)
        outcome = twin.step(s_orders, w_orders, np.zeros(2, dtype=np.int64))
        outcomes.append((s_orders, outcome))
    (grid_orders, grid), (line_orders, line) = outcomes
    np.testing.assert_array_equal(grid_orders, line_orders)
    capacity = np.array([s.capacity for s in sc.stores])
    assert (line_orders > capacity).all()  # asked for more than fits ...
    assert (line.store_requested < line_orders).all()  # ... and the twin cut it
    np.testing.assert_array_equal(grid.store_requested, line.store_requested)
    np.testing.assert_array_equal(grid.warehouse_ordered, line.warehouse_ordered)


@pytest.mark.parametrize("scenario", ["default", "multi_sku"])
def test_the_rule_through_the_continuous_head_costs_what_it_costs_on_the_grid(scenario):
    """The track's (s, S) rule, its grid levels given as continuous actions, runs the same
    episodes to the same cost: the head orders exactly what the grid orders."""

    class Rule:
        def __init__(self, head: bool) -> None:
            self.head = head

        def reset(self, sc, batch):
            self.roles = make_roles(sc, "view")
            if self.head:
                self.roles = (*map(continuous_role, self.roles[:2]), self.roles[2])

        def decide(self, view):
            s, w, p = self.roles
            s.observe(view), w.observe(view)
            return (
                s.order_quantities(s.rule_actions(view), view),
                w.order_quantities(w.rule_actions(view), view),
                p.rule_actions(view),
            )

    grid = evaluate(scenario, Rule(False), [1, 2])
    line = evaluate(scenario, Rule(True), [1, 2])
    np.testing.assert_array_equal(grid["total_cost"], line["total_cost"])


# ------------------------------------------------------------------------------- envs


def test_the_envs_act_on_levels_and_check_them():
    stores = SharedPolicyVecEnv("default", n_envs=2, seed=0, interface="view", continuous=True)
    assert stores.action_space == spaces.Box(-1.0, 1.0, (1,), np.float32)
    stores.reset()
    _, rewards, _, _ = stores.step(np.zeros((stores.num_envs, 1), dtype=np.float32))
    assert rewards.shape == (stores.num_envs,) and stores.action_masks().all()
    for bad, match in [
        (np.full((stores.num_envs, 1), 1.5), r"\[-1, 1\]"),
        (np.full((stores.num_envs, 1), np.nan), r"\[-1, 1\]"),
        (np.zeros((3, 1)), "expected 4 actions"),
    ]:
        with pytest.raises(ValueError, match=match):
            stores.step(bad)
    warehouse = WarehouseVecEnv("multi_sku", n_envs=2, seed=0, interface="planner", continuous=True)
    assert warehouse.action_space == spaces.Box(-1.0, 1.0, (3,), np.float32)
    warehouse.reset()
    obs, _, _, _ = warehouse.step(np.ones((2, 3), dtype=np.float32))
    assert obs.shape == (2, warehouse.observation_space.shape[0])


def test_the_seed_track_and_the_supplier_have_no_continuous_head():
    with pytest.raises(ValueError, match="planner or view track"):
        SharedPolicyVecEnv("default", n_envs=1, continuous=True)  # the seed track
    with pytest.raises(ValueError, match="supplier's actions are categorical"):
        SupplierVecEnv("default", n_envs=1, interface="planner", continuous=True)
    with pytest.raises(ValueError, match="heads are for the stores and the warehouse"):
        HeadController(heads=("supplier",)).reset(load_scenario("default"), 1)


# ----------------------------------------------------------------- algos and their files


def test_the_continuous_algos_train_the_stores_and_the_warehouse_not_the_supplier():
    for algo in CONTINUOUS_ALGOS:
        check_role_algo("stores", algo)
        check_role_algo("warehouse", algo)
        with pytest.raises(ValueError, match=r"supplier's actions are categorical.*'ppo'"):
            check_role_algo("supplier", algo)
        for role in ("stores", "warehouse"):
            assert hyperparams_file(role, algo).name == f"planner_{role}_{algo}.toml"
            for track in ("planner", "view"):
                params = load_hyperparams(algo, None, hyperparams_file(role, algo, track))
                assert params["interface"] == track and params["net_arch"] == [64, 64]
        with pytest.raises(ValueError, match=r"seed track.*\['planner', 'view'\]"):
            load_hyperparams(algo, {"interface": "seed"}, hyperparams_file("stores", algo))
    assert track_name({}, "sac") == "planner" and track_name({}, "ppo") == "seed"
    with pytest.raises(ValueError, match="action_noise_std.*only"):
        train_store_policy("default", "ppo", 64, hyperparams={"action_noise_std": 0.1})
    with pytest.raises(ValueError, match="'ent_coef' must be a number or 'auto'"):
        load_hyperparams("sac", {"ent_coef": "often"}, hyperparams_file("stores", "sac"))


@pytest.mark.parametrize("algo", ["ddpg", "tqc"])
def test_a_trained_model_acts_deterministically_through_the_controllers(algo, tmp_path):
    sc = load_scenario("multi_sku")
    results = train_rounds(
        sc, parse_learners(["warehouse"]), algo=algo, timesteps=128, n_envs=2,
        hyperparams={**SMALL, "interface": "view", "memory_days": 2},
        validation_seeds=[200], eval_seeds=[10, 11],
    )  # fmt: skip
    policies = results[-1].policies
    model = policies.warehouse
    assert type(model).__name__.lower() == algo and policies.interface == "view:2"
    path = tmp_path / "warehouse.zip"
    model.save(path)
    again = Policies(warehouse=load_model(path, algo if algo == "ddpg" else None),
                     interface="view:2")  # fmt: skip
    first = evaluate(sc, policies.controller(sc), [10, 11])
    second = evaluate(sc, again.controller(sc), [10, 11])
    np.testing.assert_array_equal(first["total_cost"], second["total_cost"])
    np.testing.assert_array_equal(first["total_cost"], results[-1].episodes["total_cost"])
    agent = PolicyAgent(model, sc, "warehouse_1", interface="view:2")
    assert agent.continuous and isinstance(agent.role, ContinuousWarehouseRole)
    controller = policies.controller(sc)
    assert isinstance(controller, HeadController) and controller.heads == ("warehouse",)
    _orders_follow_the_model(controller, model, make_roles(sc, "view:2")[1], sc, 1)


def test_the_stores_and_the_warehouse_learn_on_levels_in_rounds():
    results = train_rounds(
        "default", parse_learners(["stores", "warehouse"]), rounds=2, algo="td3",
        timesteps=64, n_envs=2, hyperparams=SMALL, validation_seeds=[200], eval_seeds=[10],
    )  # fmt: skip
    policies = results[-1].policies
    assert type(policies.stores).__name__ == type(policies.warehouse).__name__ == "TD3"
    sc = load_scenario("default")
    controller = policies.controller(sc)
    assert controller.heads == ("stores", "warehouse")
    assert np.isfinite(results[-1].episodes["total_cost"]).all()
    _orders_follow_the_model(controller, policies.stores, make_roles(sc, "planner")[0], sc, 0)
    _orders_follow_the_model(controller, policies.warehouse, make_roles(sc, "planner")[1], sc, 1)


def _orders_follow_the_model(controller, model, role, sc, index: int):
    """Day after day, the controller's orders of one role (``index`` in its decision) are
    what the continuous head makes of the model's deterministic levels on its observation."""
    controller.reset(sc, 2)
    role = continuous_role(role)
    twin = DigitalTwin(sc, 2)
    twin.reset([10, 11])
    ordered = 0
    while not twin.done:
        view = twin.view()
        obs = role.observe(view)
        levels, _ = model.predict(obs.reshape(-1, obs.shape[-1]), deterministic=True)
        assert levels.dtype == np.float32 and not np.all(levels == np.rint(levels))
        orders = controller.decide(view)
        np.testing.assert_array_equal(orders[index], role.order_quantities(levels, view))
        ordered += int(np.sum(orders[index]))
        twin.step(*orders)
    assert ordered > 0


# ------------------------------------------------------------------- the CLI, end to end

TINY = ["--timesteps", "250", "--n-envs", "2", "--eval-episodes", "2", "--no-progress"]


@pytest.mark.parametrize("algo", ["sac", "td3", "tqc"])
def test_run_trains_the_stores_on_levels(algo, tmp_path, capsys):
    out = tmp_path / "run"
    hps = [item for k, v in SMALL.items() for item in ("--hp", f"{k}={v}")]
    assert main(["--algo", algo, *TINY, *hps, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"training {algo} (planner track, continuous order-up-to levels)" in printed
    # off-policy budgets: collection steps of train_freq (1) x 4 slots, rounded up
    assert "252 agent-steps (250 asked" in printed
    config = json.loads((out / "config.json").read_text())
    assert config["status"] == "complete" and config["timesteps_trained"] == 252
    assert config["hyperparams"]["interface"] == "planner"
    assert type(load_model(out / "model.zip")).__name__.lower() == algo
    again = tmp_path / "again"
    argv = ["--algo", algo, "--load", str(out / "model.zip"), "--eval-only"]
    assert main([*argv, "--eval-episodes", "2", "--no-progress", "--out", str(again)]) == 0
    assert (out / "results.csv").read_text() == (again / "results.csv").read_text()


@pytest.mark.parametrize("algo", ["sac", "td3", "tqc"])
def test_run_trains_the_warehouse_on_levels(algo, tmp_path, capsys):
    out = tmp_path / "run"
    hps = [item for k, v in SMALL.items() for item in ("--hp", f"{k}={v}")]
    argv = ["--algo", algo, "--learners", "warehouse", *TINY, *hps, "--out", str(out)]
    assert main(argv) == 0
    assert f"warehouse with {algo} (planner track" in capsys.readouterr().out
    config = json.loads((out / "config.json").read_text())
    assert config["status"] == "complete" and config["timesteps"] == [{"warehouse": 250}]
    assert type(load_model(out / "round_1" / "warehouse.zip")).__name__.lower() == algo


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--algo", "sac", "--hp", "interface=seed"], ["seed track", "'planner', 'view'"]),
        (["--algo", "td3", "--learners", "supplier"], ["supplier's actions are categorical"]),
        (
            ["--algo", "tqc", "--learners", "stores,warehouse", "--hp", "schedule=joint"],
            ["joint schedule", "ppo"],
        ),
    ],
)
def test_run_refuses_what_has_no_levels_in_one_line(argv, expected, tmp_path, capsys):
    out = tmp_path / "out"
    err = run_fails([*argv, *TINY, "--out", str(out)], capsys)
    assert len(err.strip().splitlines()) == 1
    for text in expected:
        assert text in err
    assert not (out / "results.csv").exists()


def test_off_policy_model_files_load_as_their_algo(tmp_path):
    from stable_baselines3 import DDPG, DQN, SAC

    from hmarl_bench.agents.policy import ModelLoadError

    store_env = SharedPolicyVecEnv("default", n_envs=1, interface="planner", continuous=True)
    grid_env = WarehouseVecEnv("default", n_envs=1, interface="planner")
    for cls, env in [(SAC, store_env), (DDPG, store_env), (DQN, grid_env)]:
        path = tmp_path / f"{cls.__name__}.zip"
        cls("MlpPolicy", env, buffer_size=100, device="cpu").save(path)
        name = cls.__name__.lower()
        assert type(load_model(path, name)).__name__ == cls.__name__
        with pytest.raises(ModelLoadError, match="not PPO; pass --algo"):
            load_model(path, "ppo")
    assert type(load_model(tmp_path / "SAC.zip")).__name__ == "SAC"  # found in the file
    assert type(load_model(tmp_path / "DDPG.zip")).__name__ == "TD3"  # TD3's policy: pass ddpg


def test_the_rule_and_bound_cells_run_none_of_the_continuous_head():
    """Rule, bound and brought-policy cells stay current when the head changes: their code
    closures hold none of it (only learner cells do)."""
    from hmarl_bench.harness import cells

    for kind in (cells.BASELINE, cells.CLAIRVOYANT, cells.EXTERNAL):
        assert "hmarl_bench.agents.continuous" not in cells.code_modules(kind)
    assert "hmarl_bench.agents.continuous" in cells.learner_modules(
        "hmarl_bench.learn.store_learner"
    )
