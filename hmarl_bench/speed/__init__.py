"""How fast the twin, the environments and PPO training run, beside Gymnasium's CartPole-v1.

``python -m hmarl_bench.speed [--train] [--seconds 3] [--sizes 1,16,256,1024x2,10,100x1,3]``

Every measurement races our callable against a reference measured in the same run, in
alternating windows (so a burst of load from other processes hits both), and reports the
best window's rate (the least disturbed one; the median is in the CSV):

- ``env``: :class:`HMARLEnvironment` with one copy, fixed valid actions, resets included
  (env-steps/s; agent-steps/s = env-steps x agents) vs CartPole-v1 with one env; on the
  ``--scenario`` and on the several-SKU ``--sku-scenario``; its default compiled day and,
  in the same windows, its numpy reference path (``compiled=False``).
- ``twin``: :meth:`DigitalTwin.step` + :func:`reconcile` at B copies, store and warehouse
  orders from the rule policies (``rule``) or fixed quantities (``fixed``), resets not
  timed (slot-steps/s = B x S x K x steps/s; a slot is a store x SKU pair, a store with
  one SKU) vs CartPole-v1 with as many envs; on both scenarios.
- ``vec``: :class:`SharedPolicyVecEnv` stepping with random actions, auto-resets included
  (slot-steps/s) vs CartPole-v1 with as many envs.
- ``train`` (``--train``): SB3 PPO learning on :class:`SharedPolicyVecEnv` vs the same PPO
  (settings of ``experiments/hyperparams/ppo.toml``, CPU, one torch thread) on CartPole-v1
  through SB3's ``make_vec_env`` with as many slots (agent-steps/s, rollouts and updates).
- ``scaling``: the twin's time per step over copies x stores x SKUs (every size runs in
  each of several rounds, so load changes hit all sizes alike), with a fit
  ``overhead + a x B + b x B x S x K`` (weighted by relative error), to show that the cost
  grows linearly in the sizes once the per-call overhead is amortized (table, CSV, figure).

References: CartPole-v1 through ``gymnasium.make_vec(..., vectorization_mode="sync")`` (one
Python env per slot, as SB3's DummyVecEnv) and, for batched rows, CartPole's own numpy-
batched vector env (``vectorization_mode="vector_entry_point"``). ``bytes/copy`` is the size
of the twin's state arrays (including the episode's pre-drawn demand) divided by B.

Timings depend on the machine and its load; compare rows of the same run, not across runs.
"""

from hmarl_bench.speed.benches import bench_env, bench_scaling, bench_train, bench_twin, bench_vec
from hmarl_bench.speed.measure import (
    TARGETS,
    Measurement,
    chain_scenario,
    scenario_with_stores,
)
from hmarl_bench.speed.report import LinearFit, fits_by_skus, linear_fit, plot_scaling

__all__ = [
    "TARGETS",
    "LinearFit",
    "Measurement",
    "bench_env",
    "bench_scaling",
    "bench_train",
    "bench_twin",
    "bench_vec",
    "chain_scenario",
    "fits_by_skus",
    "linear_fit",
    "main",
    "plot_scaling",
    "scenario_with_stores",
]


def main(argv=None) -> int:
    """``python -m hmarl_bench.speed`` (see :mod:`hmarl_bench.speed.__main__`)."""
    from hmarl_bench.speed.__main__ import main as run

    return run(argv)
