"""A centralized critic (MAPPO-style) for SB3 PPO and sb3-contrib MaskablePPO.

The training env's observation is ``[local | global]``: the agent's own observation
(``local_dim`` values) followed by the chain's global state
(:class:`~hmarl_bench.agents.interfaces.ChainState`), as the envs' ``central_critic=True``
option builds it. The policies here keep SB3's whole machinery (flatten features, one
optimizer, PPO's losses) and change only the MLP that splits into actor and critic: the
actor's network reads ``features[:, :local_dim]``, the critic's network reads all of it.
So the value baseline sees every node's stock, pipelines and the day (less variance in
the advantages of a role whose reward depends on the others), while the policy stays a
function of what the agent observes, and execution stays decentralized
(:func:`~hmarl_bench.agents.policy.actor_observation` feeds the actor local observations
with the global part zeroed, which changes no action).
"""

from __future__ import annotations

from typing import Any

import torch
from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy
from stable_baselines3.common.policies import ActorCriticPolicy
from torch import nn

__all__ = ["CentralCriticPolicy", "MaskableCentralCriticPolicy", "SplitActorCritic"]


def _mlp(in_dim: int, sizes: list[int], activation: type[nn.Module]) -> tuple[nn.Module, int]:
    layers: list[nn.Module] = []
    for size in sizes:
        layers += [nn.Linear(in_dim, size), activation()]
        in_dim = size
    return nn.Sequential(*layers), in_dim


class SplitActorCritic(nn.Module):
    """SB3's ``MlpExtractor`` contract with an actor that reads the first ``local_dim``
    features only and a critic that reads them all."""

    def __init__(
        self,
        feature_dim: int,
        local_dim: int,
        net_arch: list[int] | dict[str, list[int]],
        activation_fn: type[nn.Module],
    ) -> None:
        super().__init__()
        if not 0 < local_dim <= feature_dim:
            raise ValueError(f"local_dim must be in (0, {feature_dim}], got {local_dim}")
        pi_sizes = net_arch.get("pi", []) if isinstance(net_arch, dict) else list(net_arch)
        vf_sizes = net_arch.get("vf", []) if isinstance(net_arch, dict) else list(net_arch)
        self.local_dim = local_dim
        self.policy_net, self.latent_dim_pi = _mlp(local_dim, list(pi_sizes), activation_fn)
        self.value_net, self.latent_dim_vf = _mlp(feature_dim, list(vf_sizes), activation_fn)

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.forward_actor(features), self.forward_critic(features)

    def forward_actor(self, features: torch.Tensor) -> torch.Tensor:
        return self.policy_net(features[..., : self.local_dim])

    def forward_critic(self, features: torch.Tensor) -> torch.Tensor:
        return self.value_net(features)


class _CentralCritic:
    """The split, for a subclass of SB3's (maskable) actor-critic policy."""

    local_dim: int

    def _build_mlp_extractor(self) -> None:
        self.mlp_extractor = SplitActorCritic(
            self.features_dim, self.local_dim, self.net_arch, self.activation_fn
        ).to(self.device)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()  # type: ignore[misc]
        data["local_dim"] = self.local_dim
        return data


class CentralCriticPolicy(_CentralCritic, ActorCriticPolicy):
    """PPO's ``MlpPolicy`` with a centralized critic; ``local_dim`` is the actor's input."""

    def __init__(self, *args: Any, local_dim: int, **kwargs: Any) -> None:
        self.local_dim = int(local_dim)
        super().__init__(*args, **kwargs)


class MaskableCentralCriticPolicy(_CentralCritic, MaskableActorCriticPolicy):
    """MaskablePPO's ``MlpPolicy`` with a centralized critic; ``local_dim`` as above."""

    def __init__(self, *args: Any, local_dim: int, **kwargs: Any) -> None:
        self.local_dim = int(local_dim)
        super().__init__(*args, **kwargs)
