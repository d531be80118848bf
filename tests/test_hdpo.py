"""HDPO: hyperparameters, a tiny training run, its controller, and what its policy reads."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hmarl_bench.config import load_scenario
from hmarl_bench.evaluation import evaluate
from hmarl_bench.learn.api import CURVE_COLUMNS, Learner, LearnerTask
from hmarl_bench.learn.hdpo import (
    LEARNER,
    HDPOController,
    HDPOLearner,
    load_hdpo_hyperparams,
    rollout_cost,
    training_seeds,
)
from hmarl_bench.learn.hdpo_policy import HDPOPolicy
from hmarl_bench.twin.torch_day import TorchTwin, episode_kpis

TINY = {"steps": 2, "batch_size": 4, "eval_every": 1, "hidden": [8]}


def test_hyperparams_load_and_refuse_bad_keys_and_values() -> None:
    params = load_hdpo_hyperparams({"steps": 3, "learning_rate": 1})
    assert params["steps"] == 3 and params["learning_rate"] == 1.0
    with pytest.raises(ValueError, match="unknown hdpo hyperparameter 'stepz'"):
        load_hdpo_hyperparams({"stepz": 3})
    with pytest.raises(ValueError, match="'batch_size' must be >= 1"):
        load_hdpo_hyperparams({"batch_size": 0})
    with pytest.raises(ValueError, match="'review_days' must be int"):
        load_hdpo_hyperparams({"review_days": 1.5})
    with pytest.raises(ValueError, match="'final_lr_fraction' must be in"):
        load_hdpo_hyperparams({"final_lr_fraction": 0.0})
    with pytest.raises(ValueError, match="'align_review' must be bool"):
        load_hdpo_hyperparams({"align_review": 1})
    assert load_hdpo_hyperparams({"align_review": False})["align_review"] is False


def test_the_step_size_decays_to_its_final_share() -> None:
    trained = HDPOLearner().train(
        LearnerTask(
            scenario=load_scenario("default"),
            training_seed=0,
            validation_seeds=(200,),
            hyperparams={
                **TINY,
                "steps": 4,
                "eval_every": 4,
                "final_lr_fraction": 0.25,
                "learning_rate": 1e-2,
            },
        )
    )
    assert trained.info["final_learning_rate"] == pytest.approx(0.25 * 1e-2)


def test_training_seeds_avoid_tuning_validation_and_evaluation_seeds() -> None:
    seeds = training_seeds(0, 0, 1000) + training_seeds(7, 99_500, 1000)
    assert min(seeds) >= 1_000_000
    assert not set(seeds) & (set(range(100, 110)) | set(range(10000, 10020)))
    assert training_seeds(1, 0, 5) != training_seeds(2, 0, 5)


def test_a_tiny_run_returns_a_controller_its_curve_and_info() -> None:
    scenario = load_scenario("default")
    task = LearnerTask(
        scenario=scenario,
        training_seed=0,
        validation_seeds=(100, 101),
        hyperparams=TINY,
        options={"reference_cost": 1e9},
    )
    assert isinstance(LEARNER, Learner)
    trained = LEARNER.train(task)
    curve = trained.learning_curve
    assert set(CURVE_COLUMNS) <= set(curve.columns) and len(curve) == 3
    assert list(curve["timesteps"]) == [0, 4 * 90, 8 * 90]
    assert np.isnan(curve["train_cost"].iloc[0]) and (curve["train_cost"].iloc[1:] > 0).all()
    info = trained.info
    assert info["steps"] == 2 and info["train_seconds"] > 0
    assert info["selected_validation_cost"] == curve["validation_cost"].min()
    assert curve.loc[curve["step"] == info["selected_step"], "validation_cost"].item() == min(
        curve["validation_cost"]
    )
    assert info["seconds_to_within_1pct"] is not None  # a reference any policy is within
    frame = evaluate(scenario, trained.controller, [100, 101])
    assert frame["total_cost"].mean() == pytest.approx(info["selected_validation_cost"])
    assert trained.artifacts["hdpo_policy.pt"]


def test_the_budget_in_copy_days_sets_the_steps() -> None:
    task = LearnerTask(
        scenario=load_scenario("default"),
        training_seed=1,
        validation_seeds=(100,),
        timesteps=3 * 4 * 90 - 5,
        hyperparams={**TINY, "eval_every": 10},
    )
    trained = LEARNER.train(task)
    assert trained.info["steps"] == 3 and list(trained.learning_curve["step"]) == [0, 3]


@pytest.mark.parametrize("name", ["default", "multi_sku", "lost_sales_long_lead"])
def test_the_controller_is_the_policy_the_twin_trained(name: str) -> None:
    """The controller on ChainViews (numpy twin) runs the same policy as the torch rollout:
    rounded orders in the integer torch twin give evaluate()'s costs."""
    scenario = load_scenario(name)
    torch.manual_seed(0)
    policy = HDPOPolicy(scenario, (8,), memory_days=3, review_days=2)
    with torch.no_grad():  # a policy that reacts to its inputs
        for parameter in policy.parameters():
            parameter.add_(0.3 * torch.randn_like(parameter))
    seeds = [100, 101, 102]
    frame = evaluate(scenario, HDPOController(policy), seeds)
    twin = TorchTwin(scenario)
    twin.reset(seeds)
    view, memory, days = twin.view(), None, []
    memory = policy.initial_memory(view)
    with torch.no_grad():
        while not twin.done:
            stores, warehouse = policy(view, memory)
            memory = policy.remember(memory, view)
            days.append(twin.step(torch.round(stores), torch.round(warehouse)))
            view = twin.view()
    kpis = episode_kpis(days, scenario.warmup_days)
    np.testing.assert_allclose(kpis["total_cost"].numpy(), frame["total_cost"], rtol=1e-12)


def test_review_days_order_only_on_review_days() -> None:
    scenario = load_scenario("default")
    policy = HDPOPolicy(scenario, (8,), memory_days=2, review_days=3)
    twin = TorchTwin(scenario, integer=False)
    twin.reset([100, 101])
    memory = policy.initial_memory(twin.view())
    ordered = []
    with torch.no_grad():
        for _ in range(9):
            view = twin.view()
            stores, warehouse = policy(view, memory)
            memory = policy.remember(memory, view)
            ordered.append(float(stores.sum() + warehouse.sum()) > 0)
            twin.step(stores, warehouse)
    assert not any(ordered[d] for d in range(9) if d % 3)
    assert any(ordered[d] for d in range(0, 9, 3))


def test_rollout_cost_is_differentiable_in_the_policy() -> None:
    scenario = load_scenario("default")
    policy = HDPOPolicy(scenario, (8,), memory_days=2, review_days=2)
    twin = TorchTwin(scenario, integer=False, surrogate_scale=30.0)
    twin.reset([1_000_000, 1_000_001])
    rollout_cost(policy, twin).mean().backward()
    grads = [p.grad for p in policy.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0


def test_a_controller_refuses_a_scenario_of_another_shape() -> None:
    policy = HDPOPolicy(load_scenario("default"), (8,))
    with pytest.raises(ValueError, match="built for 2 slots"):
        HDPOController(policy).reset(load_scenario("three_stores"), 1)


def _policy_orders(exogenous, scenario, policy, days: int) -> list[torch.Tensor]:
    twin = TorchTwin(scenario)
    twin.reset_exogenous(exogenous)
    memory, out = policy.initial_memory(twin.view()), []
    with torch.no_grad():
        for _ in range(days):
            view = twin.view()
            stores, warehouse = policy(view, memory)
            memory = policy.remember(memory, view)
            out.append(torch.cat([stores.flatten(), warehouse.flatten()]))
            twin.step(torch.round(stores), torch.round(warehouse))
    return out


def test_the_policy_never_reads_the_future_or_the_hidden_regime() -> None:
    """Orders up to day d are the same whatever demand, lateness, outages and regimes
    come after day d."""
    from hmarl_bench.twin import DigitalTwin, Exogenous

    scenario, days = load_scenario("six_stores_regimes_outages"), 15
    torch.manual_seed(1)
    policy = HDPOPolicy(scenario, (8,), memory_days=4, review_days=1)
    with torch.no_grad():
        for parameter in policy.parameters():
            parameter.add_(0.3 * torch.randn_like(parameter))
    exo = DigitalTwin(scenario, 3).draw_exogenous([100, 101, 102])
    demand, late, up = exo.demand.copy(), exo.supplier_late.copy(), exo.supplier_up.copy()
    demand[:, days - 1 :] = demand[:, days - 1 :] * 2 + 5  # from the last day decided on
    late[:, days - 1 :], up[:, days - 1 :] = ~late[:, days - 1 :], ~up[:, days - 1 :]
    changed = Exogenous(demand, late, (exo.demand_regime + 1) % 3, up)
    for a, b in zip(
        _policy_orders(exo, scenario, policy, days),
        _policy_orders(changed, scenario, policy, days),
        strict=True,
    ):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize("align", [True, False])
def test_the_warehouse_reviews_so_its_shipments_land_on_store_review_days(align: bool) -> None:
    """lost_sales_long_lead's supplier lead time is 7 days: with two-day reviews the aligned
    warehouse orders on odd days (its shipments land on the stores' even review days);
    unaligned, on the stores' own days."""
    scenario = load_scenario("lost_sales_long_lead")
    assert scenario.supplier.lead_time == 7
    policy = HDPOPolicy(scenario, (8,), memory_days=2, review_days=2, align_review=align)
    with torch.no_grad():  # a large echelon level: the warehouse orders whenever it may
        policy.warehouse_net[-1].bias.fill_(5.0)
        policy.store_net[-1].bias.fill_(5.0)
    twin = TorchTwin(scenario, integer=False)
    twin.reset([100, 101])
    memory = policy.initial_memory(twin.view())
    store_days, warehouse_days = [], []
    with torch.no_grad():
        for day in range(12):
            view = twin.view()
            stores, warehouse = policy(view, memory)
            memory = policy.remember(memory, view)
            if float(stores.sum()) > 0:
                store_days.append(day)
            if float(warehouse.sum()) > 0:
                warehouse_days.append(day)
            twin.step(stores, warehouse)
    assert store_days and all(day % 2 == 0 for day in store_days)
    assert warehouse_days and all(day % 2 == (1 if align else 0) for day in warehouse_days)
