"""The learning layer: SB3 models, training, role learners and alternating rounds.

- :mod:`~hmarl_bench.learn.hyperparam_keys`: the hyperparameter files: keys, reading and
  checks (torch-free).
- :mod:`~hmarl_bench.learn.checkpoints`: budgets in whole rollouts, checkpoints at rollout
  boundaries, Ctrl-C and resuming.
- :mod:`~hmarl_bench.learn.train`: models, hyperparameter files, KPI-based model selection,
  the shared store policy's training.
- :mod:`~hmarl_bench.learn.hierarchy`: every role as a learner, trained with the others fixed.
- :mod:`~hmarl_bench.learn.rounds`: alternating rounds of learners (iterated best response).
- :mod:`~hmarl_bench.learn.critic`: centralized-critic (MAPPO-style) policies.
- :mod:`~hmarl_bench.learn.joint`: several roles trained concurrently from one rollout.
- :mod:`~hmarl_bench.learn.residual`: PPO corrections (factors on its levels) to the tuned
  reference rule.
- :mod:`~hmarl_bench.learn.search`: Optuna hyperparameter search (``python -m``).
- :mod:`~hmarl_bench.learn.api` / :mod:`~hmarl_bench.learn.registry`: the Learner interface
  and the learners by name (the harness runs every learner cell through them); the
  built-in ones' adapters: :mod:`~hmarl_bench.learn.store_learner`,
  :mod:`~hmarl_bench.learn.rounds_learner`, :mod:`~hmarl_bench.learn.residual_learner`
  (sharing :mod:`~hmarl_bench.learn.sb3_trained`).

Importing this package imports nothing heavy; its modules pull in torch and SB3.
"""
