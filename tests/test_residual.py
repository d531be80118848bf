"""The residual learner: factors on the tuned rule's levels (env, trainer, harness cell)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from stable_baselines3.common.vec_env import VecEnv

import hmarl_bench.harness.cells as cells_module
from hmarl_bench import benchmark
from hmarl_bench.baselines import registry
from hmarl_bench.baselines.chain_rule import LevelChain
from hmarl_bench.baselines.frontier import EchelonFree
from hmarl_bench.config import load_scenario
from hmarl_bench.envs.residual_vec import (
    FACTORS,
    OBSERVATION,
    ResidualChain,
    ResidualVecEnv,
    scaled_rule_class,
)
from hmarl_bench.evaluation import KPI_COLUMNS, evaluate, total_costs
from hmarl_bench.harness.cells import build_cells
from hmarl_bench.harness.spec import BenchmarkError, benchmark_from_dict, load_benchmark
from hmarl_bench.learn.residual import (
    ResidualController,
    ResidualResult,
    init_factor_one,
    load_residual_hyperparams,
    train_residual,
    tune_base_rule,
)
from hmarl_bench.learn.train import prepare_model
from hmarl_bench.reconciliation import day_total_cost
from hmarl_bench.twin import DigitalTwin

ROOT = Path(__file__).resolve().parents[1]
ONE = FACTORS.index(1.0)


def stored_params(scenario: str) -> dict:
    """The tuned parameters of results/frontier's tuned_echelon_free cell of ``scenario``."""
    path = ROOT / "results" / "frontier" / "cells" / f"{scenario}__tuned_echelon_free.json"
    return json.loads(path.read_text(encoding="utf-8"))["info"]["tuned_params"]


def _run(env: ResidualVecEnv, actions: np.ndarray, edit=None):
    """Observations of one whole episode (day 0 .. T - 1) and the terminal infos."""
    observations = [env.reset()]
    if edit is not None:
        edit(env.twin.state)
    while True:
        obs, _, dones, infos = env.step(actions[len(observations) - 1])
        if dones[0]:
            return np.array(observations), infos
        observations.append(obs)


# --------------------------------------------------------------------------- the env


@pytest.mark.parametrize(
    ("scenario", "params"),
    [("regime_switching", "stored"), ("six_stores_regimes_outages", "stored"), ("multi_sku", None)],
)
def test_factor_one_on_both_levels_is_the_rule_bit_for_bit(scenario, params) -> None:
    params = stored_params(scenario) if params == "stored" else {}
    sc = load_scenario(scenario)
    seeds = [100, 101, 10000]
    env = ResidualVecEnv(sc, params, cost_scale=1.0, fixed_seeds=seeds)
    actions = np.full((sc.episode_days, len(seeds), 2), ONE)
    _, infos = _run(env, actions)
    got = np.array([info["episode_total_cost"] for info in infos])
    np.testing.assert_array_equal(got, total_costs(sc, EchelonFree(**params), seeds))


class _FixedLevels(LevelChain):
    """s = 100, S = 200 at every slot; s_w = 1000, S_w = 2000 per SKU (installation stock)."""

    def store_levels(self, view):
        return np.full(view.n_slots, 100.0), np.full(view.n_slots, 200.0)

    def warehouse_levels(self, view):
        return np.full(view.n_skus, 1000.0), np.full(view.n_skus, 2000.0)


def test_factors_multiply_the_levels_a_hand_checked_case() -> None:
    sc = load_scenario("default")  # two stores, one SKU, lead time 2 to the stores
    twin = DigitalTwin(sc, 3)
    state = twin.reset([0, 1, 2])
    state.store_on_hand[:] = 80  # position 80 everywhere (nothing in transit on day 0)
    state.warehouse_on_hand[:] = 1500
    rule = scaled_rule_class(_FixedLevels)()
    rule.reset(sc, 3)
    rule.set_factors(np.array([0.5, 1.0, 1.5]), np.array([0.5, 1.0, 1.5]))
    view = twin.view()
    reorder, up_to = rule.store_levels(view)
    np.testing.assert_array_equal(reorder, [[50, 50], [100, 100], [150, 150]])
    np.testing.assert_array_equal(up_to, [[100, 100], [200, 200], [300, 300]])
    stores, warehouse, supplier = rule.decide(view)
    # copy 0: 80 > s = 50, no order; copy 1: 80 <= 100, up to 200; copy 2: 80 <= 150, up to 300
    np.testing.assert_array_equal(stores, [[0, 0], [120, 120], [220, 220]])
    # the warehouse's position 1500: above 500 and 1000; at s_w = 1500 it orders up to 3000
    np.testing.assert_array_equal(warehouse, [[0], [0], [1500]])
    np.testing.assert_array_equal(supplier, [0, 0, 0])


def test_factors_scale_the_tuned_rules_levels_push_included() -> None:
    sc = load_scenario("regime_switching")
    params = stored_params("regime_switching")
    assert np.any(params["store_push_days"])  # the push is part of the store levels here
    twin = DigitalTwin(sc, 2)
    twin.reset([3, 4])
    chain = ResidualChain(params)
    chain.reset(sc, 2)
    view = twin.view()
    (s, up_to), (s_w, up_to_w) = chain.rule.base_levels(view)
    base = EchelonFree(**params)
    base.reset(sc, 2)
    base.today = {"warehouse_levels": base.warehouse_levels(view)}
    np.testing.assert_array_equal(up_to, base.store_levels(view)[1])
    np.testing.assert_array_equal(up_to_w, base.today["warehouse_levels"][1])
    chain.rule.set_factors(np.array([1.2, 0.8]), np.array([1.0, 1.0]))
    chain.rule.today = {"warehouse_levels": chain.rule.warehouse_levels(view)}
    scaled = chain.rule.store_levels(view)
    np.testing.assert_allclose(scaled[0], s * np.array([[1.2], [0.8]]))
    np.testing.assert_allclose(scaled[1], up_to * np.array([[1.2], [0.8]]))
    chain.rule.set_factors(np.array([1.0, 1.0]), np.array([1.5, 0.6]))
    np.testing.assert_allclose(chain.rule.warehouse_levels(view)[0], s_w * np.array([[1.5], [0.6]]))


@pytest.mark.parametrize("cut", [30, 90])
def test_observations_use_no_future_or_hidden_information(cut) -> None:
    """Demand, regimes, outages and late days changed after day ``cut``: every observation up
    to day ``cut`` is the same (and later ones are not)."""
    sc = load_scenario("six_stores_regimes_outages")  # hidden regimes and supplier outages
    params = stored_params("six_stores_regimes_outages")
    actions = np.random.default_rng(0).integers(len(FACTORS), size=(sc.episode_days, 3, 2))

    def edit(state):
        after = slice(cut + 1, None)
        state.demand[:, after] = state.demand[:, after] * 2 + 5
        state.demand_regime[:, after] = (state.demand_regime[:, after] + 1) % 3
        state.supplier_up[:, after] = ~state.supplier_up[:, after]
        state.supplier_late[:, after] = ~state.supplier_late[:, after]

    def episode(edit=None):
        env = ResidualVecEnv(sc, params, cost_scale=1.0, fixed_seeds=[5, 6, 7])
        return _run(env, actions, edit)[0]

    plain, edited = episode(), episode(edit)
    np.testing.assert_array_equal(plain[: cut + 1], edited[: cut + 1])
    assert not np.array_equal(plain[cut + 2 :], edited[cut + 2 :])
    low = np.array([o[1] for o in OBSERVATION])
    high = np.array([o[2] for o in OBSERVATION])
    assert plain.shape[-1] == len(OBSERVATION) and plain.dtype == np.float32
    assert (plain >= low).all() and (plain <= high).all()
    assert plain[:, :, 16].max() > 0  # the outage signal fires on this scenario


def test_the_docstring_table_is_the_observation() -> None:
    rows = [line.split() for line in ResidualVecEnv.__doc__.splitlines()]
    rows = [r for r in rows if len(r) > 3 and r[0].isdigit()]
    assert [(int(r[0]), r[1]) for r in rows] == [(i, o[0]) for i, o in enumerate(OBSERVATION)]
    bounds = [r[2] + r[3] for r in rows]
    assert bounds == [f"[{o[1]:g},{o[2]:g}]" if o[0] != "ordered_yesterday" else "{0,1}"
                      for o in OBSERVATION]  # fmt: skip


def test_vecenv_contract_rewards_and_seeding() -> None:
    sc = load_scenario("default")
    env = ResidualVecEnv(sc, {}, cost_scale=500.0, n_envs=3, seed=1)
    assert isinstance(env, VecEnv) and env.num_envs == 3
    assert env.action_space.nvec.tolist() == [len(FACTORS)] * 2
    first = env.reset()
    assert first.shape == (3, len(OBSERVATION)) and env.observation_space.contains(first[0])
    actions = np.random.default_rng(2).integers(len(FACTORS), size=(sc.episode_days, 3, 2))
    rewards = []
    for day in range(sc.episode_days):
        obs, reward, dones, infos = env.step(actions[day])
        rewards.append(reward)
        assert dones.all() == (day == sc.episode_days - 1) and dones.all() == dones.any()
        if not dones.any():
            assert dict(infos[0]) == {}
    rewards = np.array(rewards)
    assert rewards.dtype == np.float32 and (rewards[: sc.warmup_days] == 0).all()
    assert (rewards[sc.warmup_days :] < 0).all()
    total = np.array([info["episode_total_cost"] for info in infos])
    np.testing.assert_allclose(-rewards.sum(axis=0, dtype=np.float64) * 500.0, total, rtol=1e-5)
    assert all(info["TimeLimit.truncated"] for info in infos)
    assert infos[0]["terminal_observation"].shape == (len(OBSERVATION),)
    assert obs.shape == (3, len(OBSERVATION)) and obs[0, 0] == 0.0  # the next episode, day 0
    # the training seed fixes the stream of episodes; another seed draws others
    again = ResidualVecEnv(sc, {}, cost_scale=500.0, n_envs=3, seed=1)
    other = ResidualVecEnv(sc, {}, cost_scale=500.0, n_envs=3, seed=2)
    again.reset(), other.reset()
    ours = [again.step(actions[d])[0] for d in range(20)]
    theirs = [other.step(actions[d])[0] for d in range(20)]
    first_env = ResidualVecEnv(sc, {}, cost_scale=500.0, n_envs=3, seed=1)
    first_env.reset()
    np.testing.assert_array_equal(ours[-1], [first_env.step(actions[d])[0] for d in range(20)][-1])
    assert not np.array_equal(ours[-1], theirs[-1])


def test_bad_actions_factors_and_scale_are_refused() -> None:
    env = ResidualVecEnv("default", {}, cost_scale=1.0, n_envs=2, seed=0)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.zeros((2, 2), dtype=int))
    env.reset()
    with pytest.raises(ValueError, match="expected"):
        env.step(np.zeros(2, dtype=int))
    with pytest.raises(ValueError, match=r"in \[0, 11\)"):
        env.step(np.full((2, 2), 11))
    with pytest.raises(ValueError, match="1.0"):
        ResidualVecEnv("default", {}, cost_scale=1.0, factors=[0.8, 0.9, 1.1])
    with pytest.raises(ValueError, match="increase"):
        ResidualVecEnv("default", {}, cost_scale=1.0, factors=[1.0, 0.9])
    with pytest.raises(ValueError, match="cost_scale"):
        ResidualVecEnv("default", {}, cost_scale=0.0)


def test_reward_is_the_day_total_cost_over_the_scale() -> None:
    sc = load_scenario("regime_switching")
    env = ResidualVecEnv(sc, stored_params("regime_switching"), cost_scale=250.0, fixed_seeds=[9])
    env.reset()
    twin = DigitalTwin(sc, 1)
    twin.reset([9])
    rule = EchelonFree(**stored_params("regime_switching"))
    rule.reset(sc, 1)
    for day in range(sc.episode_days):
        _, reward, _, _ = env.step(np.array([[ONE, ONE]]))
        cost = day_total_cost(twin.step(*rule.decide(twin.view())), sc)
        expected = 0.0 if day < sc.warmup_days else -cost[0] / 250.0
        assert reward[0] == np.float32(expected)


# --------------------------------------------------------------------------- the learner


def _untrained(sc, params, hyper=None):
    hp = load_residual_hyperparams(
        "ppo", {"batch_size": 60, **(hyper or {})}, sc, timesteps=360, n_envs=2
    )
    env = ResidualVecEnv(sc, params, cost_scale=1.0, n_envs=2, seed=0)
    model, _ = prepare_model("ppo", env, 0, hp, None)
    init_factor_one(model, hp["factors"], hp["logit_bias"])
    return model


def test_untrained_policy_evaluates_to_the_rule_bit_for_bit() -> None:
    sc = load_scenario("supplier_outages")
    params = stored_params("supplier_outages")
    model = _untrained(sc, params)
    seeds = [10000, 10001, 10002, 10003]
    controller = ResidualController(model, params)
    learned = evaluate(sc, controller, seeds)
    rule = evaluate(sc, EchelonFree(**params), seeds)
    for column in KPI_COLUMNS:
        np.testing.assert_array_equal(learned[column], rule[column], err_msg=column)
    assert controller.factor_shares() == {"stores": 0.0, "warehouse": 0.0, "either": 0.0}
    assert controller.factor_counts[:, ONE].tolist() == [len(seeds) * sc.episode_days] * 2
    # stochastic, the same policy explores: factor 1.0 on about e^3 / (e^3 + 10) of days
    explore = ResidualController(model, params, deterministic=False)
    evaluate(sc, explore, seeds)
    assert 0.5 < 1 - explore.factor_shares()["stores"] < 0.8


def test_tuned_base_params_equal_the_baseline_cells() -> None:
    sc = load_scenario("default")
    registry._searched.cache_clear()  # tune again from scratch, not from the cache
    params, info = tune_base_rule(sc, [100, 101], candidate_episodes=600, tuning_seed=3)
    registry._searched.cache_clear()
    baseline = registry.make_baseline(
        "tuned_echelon_free", sc, [100, 101], budget=registry.SearchBudget(600, 3)
    )
    assert params == baseline.tuned_params
    assert info["tuned_mean_total_cost"] <= info["untuned_mean_total_cost"]


def test_training_keeps_step_zero_the_rule_among_its_checkpoints() -> None:
    sc = load_scenario("default")
    params = stored_params("default")
    result = train_residual(
        sc,
        tuning_seeds=[100, 101],
        validation_seeds=[102, 103],
        base_params=params,
        timesteps=360,
        n_envs=2,
        eval_freq=180,
        hyperparams={"batch_size": 90, "n_epochs": 2, "learning_rate": 1e-2},
    )
    curve = result.learning_curve
    assert curve["timesteps"].tolist() == [0, 180, 360]
    rule = evaluate(sc, EchelonFree(**params), [102, 103])["total_cost"].mean()
    assert curve["mean_total_cost"].iloc[0] == result.rule_validation_cost == rule
    assert result.rule_tuning_cost == total_costs(sc, EchelonFree(**params), [100, 101]).mean()
    assert result.cost_scale == result.rule_tuning_cost / (sc.episode_days - sc.warmup_days)
    best = curve["mean_total_cost"].min()
    assert result.selected_timesteps == curve["timesteps"][curve["mean_total_cost"] == best].iloc[0]
    kept = evaluate(sc, result.controller(), [102, 103])["total_cost"].mean()
    assert kept == best <= rule  # never worse than the rule on the validation seeds
    assert result.rule_selected == (result.selected_timesteps == 0)


class _Constant:
    """A bare predictor that always picks the factor indices ``(stores, warehouse)``."""

    def __init__(self, stores: int, warehouse: int) -> None:
        self.actions = (stores, warehouse)

    def predict(self, obs, deterministic=True):
        return np.tile(self.actions, (len(obs), 1)), None


def test_the_kept_checkpoint_runs_unless_it_is_step_zero() -> None:
    sc = load_scenario("default")
    hp = load_residual_hyperparams("ppo", None, sc)
    common = dict(final_model=None, base_params={}, hyperparams=hp, cost_scale=1.0,
                  rule_tuning_cost=1.0, rule_validation_cost=1.0, learning_curve=None,
                  train_seconds=0.0, tune_seconds=0.0, timesteps=0)  # fmt: skip
    model = _Constant(FACTORS.index(1.2), FACTORS.index(0.9))
    learned = ResidualResult(model=model, selected_timesteps=180, **common).controller()
    rule = ResidualResult(model=model, selected_timesteps=0, **common).controller()
    costs = [evaluate(sc, c, [1, 2])["total_cost"] for c in (learned, rule)]
    np.testing.assert_array_equal(costs[1], evaluate(sc, EchelonFree(), [1, 2])["total_cost"])
    assert not np.array_equal(costs[0], costs[1])
    assert learned.factor_shares() == {"stores": 1.0, "warehouse": 1.0, "either": 1.0}
    assert rule.factor_shares()["either"] == 0.0
    assert learned.factor_counts[0, FACTORS.index(1.2)] == 2 * sc.episode_days


def test_a_policy_that_does_not_start_at_the_rule_is_refused() -> None:
    with pytest.raises(RuntimeError, match="not the rule"):
        train_residual(
            "default",
            tuning_seeds=[100],
            validation_seeds=[102],
            base_params={},
            timesteps=90,
            n_envs=2,
            hyperparams={"batch_size": 90, "logit_bias": 0.0, "n_epochs": 1},
        )


def test_hyperparams_file_and_overrides() -> None:
    params = load_residual_hyperparams("ppo", None, "regime_switching")
    assert params["n_steps"] == 180 and params["factors"] == FACTORS
    assert params["logit_bias"] == 3.0 and params["n_envs"] == 64
    assert load_residual_hyperparams("ppo", None, "default")["n_steps"] == 90
    assert load_residual_hyperparams("ppo", {"n_steps": 30}, "default")["n_steps"] == 30
    for overrides, match in [
        ({"interface": "planner"}, "unknown residual hyperparameter 'interface'"),
        ({"factors": [0.9, 1.1]}, "1.0"),
        ({"logit_bias": -1.0}, "logit_bias"),
        ({"n_steps": "week"}, "n_steps"),
        ({"learning_rate": 0.0}, "learning_rate"),
    ]:
        with pytest.raises(ValueError, match=match):
            load_residual_hyperparams("ppo", overrides, "default")
    with pytest.raises(ValueError, match="trains PPO"):
        load_residual_hyperparams("maskable_ppo", None, "default")


# --------------------------------------------------------------------------- the harness


def _tiny(**changes) -> dict:
    data = {
        "name": "tiny_residual",
        "scenarios": ["default"],
        "baselines": ["seed_ss_actions", "tuned_echelon_free"],
        "training_seeds": [0],
        "tuning_seeds": [100, 101],
        "validation_seeds": [102, 103],
        "evaluation_seeds": [10000, 10001],
        "algos": [
            {
                "name": "ppo",
                "learners": "residual",
                "timesteps": 360,
                "n_envs": 2,
                "eval_freq": 180,
                "hyperparams": {"batch_size": 60, "n_epochs": 1},
            }
        ],
        "tuning": {"candidate_episodes": 400, "seed": 0},
        "clairvoyant": {"enabled": False},
        "statistics": {"n_resamples": 200},
    }
    data.update(changes)
    return data


def test_residual_cell_runs_end_to_end_through_the_harness(tmp_path) -> None:
    spec = benchmark_from_dict(_tiny())
    assert spec.policies[0] == "ppo-residual"
    summary = benchmark.run_benchmark(spec, tmp_path, progress=False, figures=False)
    assert not summary.failed, summary.failed
    root = tmp_path / "tiny_residual"
    cell = json.loads((root / "cells" / "default__ppo-residual__seed0.json").read_text())
    rule = json.loads((root / "cells" / "default__tuned_echelon_free.json").read_text())
    info = cell["info"]
    assert info["tuned_params"] == rule["info"]["tuned_params"]  # tuned as the baseline cell
    assert info["tuning"]["candidate_episodes"] == rule["info"]["tuning"]["candidate_episodes"]
    assert info["train_seconds"] > 0 and info["timesteps"] == 360
    curve = cell["learning_curve"]
    assert [row["timesteps"] for row in curve] == [0, 180, 360]
    assert {row["learner"] for row in curve} == {"residual"}
    assert curve[0]["mean_total_cost"] == info["rule_validation_cost"]
    assert set(info["factor_shares"]) == {"stores", "warehouse", "either"}
    assert sum(info["factor_counts"]["stores"]) == 2 * load_scenario("default").episode_days
    assert (root / "models" / "default__ppo-residual__seed0.zip").stat().st_size > 0
    if info["rule_selected"]:  # step 0 kept: the learner is the rule, episode for episode
        costs = [r["total_cost"] for r in cell["rows"]]
        assert costs == [r["total_cost"] for r in rule["rows"]]
    headline = (root / "tables" / "headline.csv").read_text()
    assert "ppo-residual" in headline


def test_the_benchmarks_tuning_enters_the_residual_cell_and_no_other() -> None:
    ppo = {"name": "ppo", "timesteps": 64, "n_envs": 2}
    both = _tiny(algos=[*_tiny()["algos"], ppo])
    cells = {c.cell_id: c for c in build_cells(benchmark_from_dict(both))}
    residual = cells["default__ppo-residual__seed0"]
    assert dict(residual.hyperparams)["base_tuning_seeds"] == (100, 101)
    assert dict(residual.hyperparams)["base_candidate_episodes"] == 400
    more = _tiny(algos=[*_tiny()["algos"], ppo], tuning={"candidate_episodes": 800, "seed": 0})
    again = {c.cell_id: c for c in build_cells(benchmark_from_dict(more))}
    assert again["default__ppo-residual__seed0"].fingerprint != residual.fingerprint
    assert again["default__ppo__seed0"].fingerprint == cells["default__ppo__seed0"].fingerprint
    assert "base_tuning_seeds" not in dict(cells["default__ppo__seed0"].hyperparams)


@pytest.mark.parametrize(
    ("change", "key", "match"),
    [
        ({"learners": "residual+stores"}, "algos[0].learners", "runs alone"),
        ({"name": "maskable_ppo"}, "algos[0].name", "trains 'ppo'"),
        ({"rounds": 2}, "algos[0].rounds", "one round"),
        ({"hyperparams": {"base_tuning_seeds": [1]}}, "algos[0].hyperparams.base", "set by the"),
        ({"learners": "residue"}, "algos[0].learners", "unknown learner 'residue'"),
    ],
)
def test_bad_residual_entries_name_the_key(change, key, match) -> None:
    algo = {**_tiny()["algos"][0], **change}
    with pytest.raises(BenchmarkError, match=match) as err:
        benchmark_from_dict(_tiny(algos=[algo]))
    assert err.value.key.startswith(key)


def test_residual_needs_tuning_seeds() -> None:
    with pytest.raises(BenchmarkError, match="tuning seeds") as err:
        benchmark_from_dict(_tiny(baselines=[], tuning_seeds=[]))
    assert err.value.key == "algos[0].learners"


@pytest.mark.parametrize(
    ("hyperparams", "match"),
    [
        ({"factors": [0.8, 1.2]}, "1.0"),
        ({"ent_coef": "a lot"}, "ent_coef"),
        ({"batch_size": 100000}, "larger than the rollout"),
        ({"team_weight": 1.0}, "unknown residual hyperparameter"),
    ],
)
def test_bad_residual_overrides_fail_before_any_cell_runs(tmp_path, hyperparams, match) -> None:
    algo = {**_tiny()["algos"][0], "hyperparams": hyperparams}
    spec = benchmark_from_dict(_tiny(algos=[algo]))
    with pytest.raises(BenchmarkError, match=match) as err:
        benchmark.run_benchmark(spec, tmp_path, progress=False, figures=False)
    assert err.value.key == "algos[0].hyperparams"
    assert not (tmp_path / "tiny_residual" / "cells").exists()


def test_frontiers_rule_and_bound_cells_run_none_of_the_learners_code() -> None:
    """The learners' code (this learner among them) may change without touching the
    rule and clairvoyant cells of results/frontier: their code closures hold none of it."""
    kept = [c for c in build_cells(load_benchmark("frontier")) if c.kind != "learner"]
    assert len(kept) == 12 * 10  # nine rules and the bound, on twelve scenarios
    modules = set().union(*(cells_module.fingerprint_parts(c)["modules"] for c in kept[:10]))
    assert not {m for m in modules if m.startswith("hmarl_bench.learn.")}


def test_learner_cells_run_the_rules_code_and_rule_cells_not_the_learners() -> None:
    """A residual cell tunes tuned_echelon_free, so residual cells hash the baselines'
    code too (an edited rule family makes them stale); rule and bound cells hash none of
    the residual learner's modules."""
    learner = set(cells_module.learner_modules("hmarl_bench.learn.residual_learner"))
    rules = set(cells_module.code_modules(cells_module.BASELINE))
    rules |= set(cells_module.code_modules(cells_module.CLAIRVOYANT))
    residual = {
        "hmarl_bench.envs.residual_vec",
        "hmarl_bench.learn.residual",
        "hmarl_bench.learn.residual_learner",
    }
    assert residual | {"hmarl_bench.baselines.frontier", "hmarl_bench.baselines.search"} <= learner
    assert not (residual | {"hmarl_bench.harness.transfer"}) & rules
