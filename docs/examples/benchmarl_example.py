"""BenchMARL (MAPPO or IPPO) on the chain: a custom task over TorchRL's PettingZooWrapper.

BenchMARL does not install beside this project's pins (benchmarl 1.5.2 needs
``torchrl<0.12``; the ``interop`` extra has torchrl 0.14), so run this in a virtual env of
its own: ``pip install torch==2.13.0 torchvision==0.28.0 benchmarl==1.5.2`` and this
project (``pip install -e .`` from its folder). The project's tests import this file
without BenchMARL and check the values it passes (:func:`experiment_settings`,
:func:`episode_length`); they do not run BenchMARL.

What it sets, against BenchMARL's defaults:

- ``loggers = []``: the default config logs to Weights & Biases (``wandb``), which needs
  an account and a network;
- a small budget: ``FRAMES_PER_BATCH`` frames a batch (ten episodes) for ``ITERATIONS``
  iterations (the default would collect 3,000,000 frames);
- ``max_steps`` of the task = the scenario's ``episode_days`` (90 for ``default``, 180 for
  the long scenarios), so BenchMARL's rollouts cover whole episodes.

    python docs/examples/benchmarl_example.py [scenario]
"""

from __future__ import annotations

import sys
from typing import Any

from hmarl_bench import load_scenario

#: Iterations of collection and training: a smoke run, not a result.
ITERATIONS = 2
#: Episodes collected per iteration.
EPISODES_PER_BATCH = 10


def episode_length(scenario: str) -> int:
    """The task's ``max_steps``: the scenario's episode, in days."""
    return load_scenario(scenario).episode_days


def experiment_settings(scenario: str, iterations: int = ITERATIONS) -> dict[str, Any]:
    """The ``ExperimentConfig`` attributes this example changes from BenchMARL's defaults."""
    frames_per_batch = EPISODES_PER_BATCH * episode_length(scenario)
    return {
        "loggers": [],  # the default, ["wandb"], needs an account and a network
        "on_policy_collected_frames_per_batch": frames_per_batch,
        "on_policy_minibatch_size": min(400, frames_per_batch),
        "max_n_frames": iterations * frames_per_batch,
        "evaluation": False,
        "render": False,
        "checkpoint_interval": 0,
        "sampling_device": "cpu",
        "train_device": "cpu",
        "buffer_device": "cpu",
    }


def make_experiment(scenario: str = "default", algorithm: str = "mappo"):  # pragma: no cover
    """The BenchMARL ``Experiment`` (needs benchmarl; see the module docstring)."""
    from benchmarl.algorithms import IppoConfig, MappoConfig
    from benchmarl.environments.common import Task, TaskClass
    from benchmarl.experiment import Experiment, ExperimentConfig
    from benchmarl.models.mlp import MlpConfig
    from torchrl.data import Composite
    from torchrl.envs.libs.pettingzoo import PettingZooWrapper

    from hmarl_bench import HMARLEnvironment

    def only(spec, keep, groups):
        spec = spec.clone()
        for group in groups:
            for key in [k for k in spec[group].keys() if k != keep]:  # noqa: SIM118 (a spec)
                del spec[group][key]
        del spec["state"]
        return spec

    class HMARLTaskClass(TaskClass):
        def get_env_fun(self, num_envs, continuous_actions, seed, device):
            return lambda: PettingZooWrapper(
                HMARLEnvironment(self.config["scenario"]),
                use_mask=True,
                categorical_actions=True,
                return_state=True,
                done_on_any=False,
                seed=seed,
                device=device,
            )

        def supports_continuous_actions(self):
            return False

        def supports_discrete_actions(self):
            return True

        def has_render(self, env):
            return False

        def max_steps(self, env):
            return episode_length(self.config["scenario"])

        def group_map(self, env):
            return env.group_map

        def state_spec(self, env):
            return Composite({"state": env.observation_spec["state"].clone()})

        def action_mask_spec(self, env):
            return only(env.observation_spec, "action_mask", env.group_map)

        def observation_spec(self, env):
            return only(env.observation_spec, "observation", env.group_map)

        def info_spec(self, env):
            return None

        def action_spec(self, env):
            return env.full_action_spec

        @staticmethod
        def env_name():
            return "hmarl_bench"

    class HMARLTask(Task):
        CHAIN = None

        @staticmethod
        def associated_class():
            return HMARLTaskClass

    config = ExperimentConfig.get_from_yaml()
    for key, value in experiment_settings(scenario).items():
        setattr(config, key, value)
    algorithm_config = {"mappo": MappoConfig, "ippo": IppoConfig}[algorithm].get_from_yaml()
    return Experiment(
        task=HMARLTask.CHAIN.get_task(config={"scenario": scenario}),
        algorithm_config=algorithm_config,
        model_config=MlpConfig.get_from_yaml(),
        critic_model_config=MlpConfig.get_from_yaml(),
        seed=0,
        config=config,
    )


if __name__ == "__main__":  # pragma: no cover
    make_experiment(sys.argv[1] if len(sys.argv) > 1 else "default").run()
