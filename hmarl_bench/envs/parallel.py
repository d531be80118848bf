"""HMARLEnvironment: the whole chain as a PettingZoo ParallelEnv."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from hmarl_bench.agents.interfaces import ChainState, check_interface, make_roles
from hmarl_bench.agents.masks import GymMask, action_sizes, gym_mask
from hmarl_bench.config import Scenario, load_scenario
from hmarl_bench.envs.fused import SYSTEM_KEYS, FusedDay
from hmarl_bench.envs.render import RENDER_MODES, ansi_frame, check_render_mode, rgb_frame
from hmarl_bench.reconciliation import (
    ROLE_TERMS,
    ReconciliationReport,
    check_team_weight,
    mix_team,
    reconcile,
    reward,
    system_cost,
)
from hmarl_bench.seeding import check_seed
from hmarl_bench.twin import DigitalTwin, TwinState

__all__ = ["HMARLEnvironment"]


def _plain(action: Any) -> int | np.ndarray:
    """A role's action for one agent: an int (Discrete) or an int64 array (MultiDiscrete)."""
    array = np.asarray(action, dtype=np.int64)
    return int(array) if array.ndim == 0 else array


class HMARLEnvironment(ParallelEnv):
    """A multi-echelon retail chain: one supplier, one warehouse, N stores; one day per step.

    Every day each agent observes its local state and picks an action; the digital twin runs
    the day (arrivals, sales and lost sales, store replenishment with pro-rata allocation,
    warehouse replenishment through an unreliable supplier); reconciliation compares each
    agent's plan with what happened, and each reward is computed from that report alone.

    ## Agents
    ``store_1 .. store_N``, ``warehouse_1``, ``supplier_1``; all act every day. With several
    SKUs every store x SKU pair is one agent (a slot of the shared store policy):
    ``store_i_sku_k`` for store i and SKU k (from 1, in the scenario's order).

    ## Action Space
    | agent       | space       | actions                                                   |
    |-------------|-------------|-----------------------------------------------------------|
    | store_i     | Discrete(4) | order 0, 0.5x, 1.0x, 1.5x the store's demand forecast    |
    | warehouse_1 | Discrete(4) | order ``warehouse.order_quantities`` (0/500/1000/1500)    |
    | supplier_1  | Discrete(3) | fulfil 100%, fulfil ``partial_fraction``, delay           |

    With K > 1 SKUs the warehouse's space is ``MultiDiscrete([4] * K)`` (one order size per
    SKU, scaled by its demand_scale; its action is an array of K ints) and its observation
    has 6 entries per SKU; store-SKU agents keep the store's spaces.

    Orders that would lift a node's inventory position (on hand + pipeline) above its
    capacity are cut to the room left; ``infos[agent]["action_mask"]`` marks the actions
    that need no cut, in Gymnasium's form (:mod:`hmarl_bench.agents.masks`): ``np.int8``
    zeros and ones, so ``env.action_space(agent).sample(mask)`` works; for the warehouse
    of several SKUs a tuple of K rows, one per sub-action (TorchRL's and BenchMARL's
    ``use_mask`` form). MaskablePPO's flat bool masks come from the wrappers'
    ``action_masks()``.

    ## Observation Space
    ``Box(0, 1, (7,))`` for stores, ``(6 K,)`` for the warehouse, ``(3,)`` for the supplier,
    float32; each entry is defined in :mod:`hmarl_bench.agents.roles` and never leaves [0, 1].
    ``dict_observation_space`` / ``dict_action_space`` give the whole system as one Dict.

    ## Rewards
    From the day's reconciliation report only: ``w.service_level * fill rate - w.holding_cost
    * holding cost - w.stockout * lost units - w.excess * excess units - w.ordering_cost *
    ordering cost`` with each role's weights from the scenario (terms in
    :mod:`hmarl_bench.reconciliation`).

    ## Episode End
    No termination; truncation after ``scenario.episode_days`` days (90 by default), after
    which ``agents`` is empty.

    ## Infos
    ``infos[agent]``: ``report`` (the agent's reconciliation terms), ``action_mask`` (for the
    next observation) and ``system`` (the day's business cost of the whole chain).

    ## Arguments
    ``scenario``: a Scenario, a scenario name or a path to a TOML file.
    ``render_mode``: ``None``, ``"ansi"`` (``render()`` returns a day summary as text),
    ``"human"`` (that text printed to stdout at every reset and step) or ``"rgb_array"`` (a
    picture of the day: stock and pipeline per node, yesterday's sales, lost sales and
    orders, the daily cost so far; for videos). Other modes raise a ValueError.
    ``compiled``: ``True`` (default) runs each day (dynamics, reconciliation, observations,
    masks) as one compiled kernel (:mod:`hmarl_bench.envs.fused_kernel`, ~15x faster with
    one copy); ``False`` runs the numpy reference (the twin, ``reconcile`` and the roles).
    Both return the same values, bit for bit. The kernel computes the seed track only: on
    the planner track the env always runs the numpy path.
    ``interface``: ``"seed"`` (default: the tables above, the seed system's interface) or
    ``"planner"`` (:mod:`hmarl_bench.agents.planner`: observations add day and days left,
    the nominal demand profile over the node's cover window, positions, pipelines by
    arrival day and the warehouse's echelon position; stores choose an order-up-to level
    of ``STORE_COVER_DAYS`` x forecast, ``Discrete(11)``; the warehouse an echelon level of
    ``WAREHOUSE_COVER_DAYS`` days of the chain's nominal demand, ``Discrete(14)`` per SKU;
    the supplier's actions are the seed's and it observes day and days left too).
    ``horizon_mask``: on the planner track, orders that can no longer reach a shelf before
    the episode ends are masked (and cut to 0); default ``True``.
    ``team_weight``: the reward option. ``0.0`` (default) gives the seed's rewards, bit for
    bit; ``w`` in (0, 1] gives every agent ``(1 - w) x its own reward - w x the chain's
    cost of the day`` (:func:`~hmarl_bench.reconciliation.team_rewards`: both from the
    same reports), a cooperative signal for external MARL libraries.
    """

    metadata = {
        "name": "hmarl_bench_v0",
        "render_modes": list(RENDER_MODES),
        "render_fps": 4,
        "is_parallelizable": True,
    }

    def __init__(
        self,
        scenario: Scenario | str = "default",
        render_mode: str | None = None,
        compiled: bool = True,
        interface: str = "seed",
        horizon_mask: bool = True,
        team_weight: float = 0.0,
    ):
        check_render_mode(render_mode)
        self.scenario = load_scenario(scenario)
        self.render_mode = render_mode
        self.interface = check_interface(interface)
        self.team_weight = check_team_weight(team_weight)
        self.twin = DigitalTwin(self.scenario, batch_size=1)
        roles_ = make_roles(self.scenario, interface, horizon_mask)
        self.store_role, self.warehouse_role, self.supplier_role = roles_
        self.chain_state_of = ChainState(self.scenario)
        n = self._n_slots = self.scenario.n_slots
        self._n_skus = self.scenario.n_skus
        self.store_ids = self.scenario.slot_names()
        self.possible_agents = [*self.store_ids, "warehouse_1", "supplier_1"]
        self.agents: list[str] = []
        roles = {a: self.store_role for a in self.store_ids}
        roles.update(warehouse_1=self.warehouse_role, supplier_1=self.supplier_role)
        self._roles = roles
        self.observation_spaces = {a: r.observation_space for a, r in roles.items()}
        self.action_spaces = {a: r.action_space for a, r in roles.items()}
        self._agent_set = frozenset(self.possible_agents)
        self._action_sizes = [
            (a, action_sizes(self.action_spaces[a])) for a in self.possible_agents
        ]
        self._warehouse_sizes = action_sizes(self.action_spaces["warehouse_1"])
        sc = self.scenario
        self._reward_weights = [sc.store_reward] * n + [sc.warehouse_reward, sc.supplier_reward]
        self.dict_observation_space = spaces.Dict(self.observation_spaces)
        self.dict_action_space = spaces.Dict(self.action_spaces)
        state_dim = sum(space.shape[0] for space in self.observation_spaces.values())
        self.state_space = spaces.Box(0.0, 1.0, shape=(state_dim,), dtype=np.float32)
        self._seed_rng = np.random.default_rng()
        self.compiled = compiled = compiled and interface == "seed"
        self._fused = FusedDay(sc, self.twin.params, *roles_) if compiled else None
        self._report: ReconciliationReport | None = None
        self._report_pending = False  # the compiled day's report, built when first read
        self.last_actions: dict[str, int] = {}
        #: each simulated day's (total cost, lost-sales cost), kept for "rgb_array" only
        self._cost_history: list[tuple[float, float]] = []

    # PettingZoo asks for these as methods.
    def observation_space(self, agent: str) -> spaces.Box:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Discrete | spaces.MultiDiscrete:
        return self.action_spaces[agent]

    @property
    def twin_state(self) -> TwinState:
        """The twin's current state (one copy)."""
        if self.twin.state is None:
            raise RuntimeError("call reset() first")
        return self.twin.state

    @property
    def day(self) -> int:
        return self.twin_state.day

    @property
    def last_report(self) -> ReconciliationReport | None:
        """The last day's reconciliation report (None before the first step).

        The compiled path keeps the day's outcome in buffers and builds the report (with
        the reference :func:`reconcile`) only when it is read.
        """
        if self._report_pending and self._fused is not None:
            self._report = reconcile(self._fused.outcome(), self.scenario)
            self._report_pending = False
        return self._report

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
        if seed is not None:
            self._seed_rng = np.random.default_rng(check_seed(seed))
            episode_seed = int(seed)
        else:
            episode_seed = int(self._seed_rng.integers(2**63))
        state = self.twin.reset(episode_seed)
        self.agents = list(self.possible_agents)
        self._report, self._report_pending = None, False
        self.last_actions = {}
        self._cost_history = []
        if self._fused is None:
            obs, masks = self._observations(), self._masks()
        else:
            obs, masks = self._split(*(a[0] for a in self._fused.observe(state)))
        infos = {a: {"action_mask": masks[a]} for a in self.agents}
        if self.render_mode == "human":
            self.render()
        return obs, infos

    def _observations(self, position: np.ndarray | None = None) -> dict[str, np.ndarray]:
        state = self.twin_state
        store_obs = self.store_role.observe(state, position=position)[0]
        obs = dict(zip(self.store_ids, store_obs, strict=True))
        obs["warehouse_1"] = self.warehouse_role.observe(state)[0]
        obs["supplier_1"] = self.supplier_role.observe(state)[0]
        return obs

    def _split(
        self, obs: np.ndarray, masks: np.ndarray
    ) -> tuple[dict[str, np.ndarray], dict[str, GymMask]]:
        """Per-agent views of the compiled path's fresh flat observations and masks (masks
        as int8 views, :mod:`~hmarl_bench.agents.masks`). (Its zips are not strict: lengths
        are fixed, and strictness costs ~0.3 µs a zip.)"""
        n, k = self._n_slots, self._n_skus
        w_obs, w_mask = 7 * n, 4 * n
        obs_of = dict(zip(self.store_ids, obs[:w_obs].reshape(n, 7), strict=False))
        obs_of["warehouse_1"] = obs[w_obs : w_obs + 6 * k]
        obs_of["supplier_1"] = obs[w_obs + 6 * k :]
        masks = masks.view(np.int8)
        masks_of = dict(zip(self.store_ids, masks[:w_mask].reshape(n, 4), strict=False))
        masks_of["warehouse_1"] = gym_mask(masks[w_mask : w_mask + 4 * k], self._warehouse_sizes)
        masks_of["supplier_1"] = masks[w_mask + 4 * k :]
        return obs_of, masks_of

    def _masks(self, position: np.ndarray | None = None) -> dict[str, GymMask]:
        state = self.twin_state
        store_masks = self.store_role.action_masks(state, position=position)[0].view(np.int8)
        masks: dict[str, GymMask] = dict(zip(self.store_ids, store_masks, strict=True))
        warehouse = self.warehouse_role.action_masks(state)[0]
        masks["warehouse_1"] = gym_mask(warehouse, self._warehouse_sizes)
        masks["supplier_1"] = self.supplier_role.action_masks(state)[0].view(np.int8)
        return masks

    def action_masks(self) -> dict[str, GymMask]:
        """Feasible actions of every agent for the current day, as in the infos: int8, one
        row per sub-action for the warehouse of several SKUs (a tuple)."""
        return self._masks()

    def rule_actions(self) -> dict[str, int]:
        """What every agent's rule-based policy would do today."""
        state = self.twin_state
        actions = dict(
            zip(self.store_ids, self.store_role.rule_actions(state)[0].tolist(), strict=False)
        )
        actions["warehouse_1"] = _plain(self.warehouse_role.rule_actions(state)[0])
        actions["supplier_1"] = int(self.supplier_role.rule_actions(state)[0])
        return actions

    def _validate(self, actions: dict[str, Any]) -> list[int]:
        if self.twin.state is None:
            raise RuntimeError("call reset() before step()")
        if not self.agents:
            raise RuntimeError("the episode is over; call reset()")
        if not isinstance(actions, dict):
            raise ValueError(f"actions must be a dict of agent id -> action, got {type(actions)}")
        unknown = actions.keys() - self._agent_set
        if unknown:
            raise ValueError(f"unknown agent(s) {sorted(unknown)}; agents are {self.agents}")
        missing = [a for a in self.agents if a not in actions]
        if missing:
            raise ValueError(f"missing action(s) for {missing}; every agent acts every day")
        values = []
        for agent, n in self._action_sizes:
            action = actions[agent]
            if isinstance(n, tuple):  # MultiDiscrete: an array of ints
                action = self._checked_multi_action(agent, action, n)
            elif type(action) is not int or not 0 <= action < n:  # fast path: a valid int
                action = self._checked_action(agent, action, n)
            values.append(action)
        return values

    @staticmethod
    def _checked_multi_action(agent: str, action: Any, sizes: tuple[int, ...]) -> np.ndarray:
        array = np.asarray(action)
        if (
            array.shape != (len(sizes),)
            or not np.issubdtype(array.dtype, np.integer)
            or (array < 0).any()
            or (array >= np.array(sizes)).any()
        ):
            raise ValueError(
                f"action for {agent} must be {len(sizes)} integers in [0, {sizes[0]}), "
                f"got {action!r}"
            )
        return array.astype(np.int64)

    @staticmethod
    def _checked_action(agent: str, action: Any, n: int) -> int:
        try:
            as_int = int(action)
        except (TypeError, ValueError):
            raise ValueError(f"action for {agent} must be an integer, got {action!r}") from None
        if isinstance(action, bool | np.bool_) or as_int != action or not 0 <= as_int < n:
            raise ValueError(f"action for {agent} must be an integer in [0, {n}), got {action!r}")
        return as_int

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        values = self._validate(actions)
        if self._fused is None:
            observations, rewards, infos = self._reference_step(values)
        else:
            observations, rewards, infos = self._compiled_step(values)
        self.last_actions = dict(zip(self.possible_agents, values, strict=True))
        done = self.twin.done
        terminations = dict.fromkeys(self.possible_agents, False)
        truncations = dict.fromkeys(self.possible_agents, done)
        if done:
            self.agents = []
        if self.render_mode == "rgb_array":
            system = infos[self.possible_agents[0]]["system"]
            self._cost_history.append((system["total_cost"], system["lost_sales_cost"]))
        elif self.render_mode == "human":
            self.render()
        return observations, rewards, terminations, truncations, infos

    def _compiled_step(self, values: list[Any]) -> tuple[dict, dict, dict]:
        """The day through :class:`FusedDay`; the dicts from its buffers in one pass each."""
        n, fused = self._n_slots, self._fused
        if self._n_skus == 1:
            as_array = np.array([values], dtype=np.int64)
        else:  # the warehouse's action is an array of K ints
            as_array = np.concatenate([values[:n], values[n], values[n + 1 :]])[None]
        obs, masks = fused.step(self.twin.state, as_array)
        observations, masks = self._split(obs[0], masks[0])
        self._report_pending = True
        agents = self.possible_agents
        system = dict(zip(SYSTEM_KEYS, fused.system[0].tolist(), strict=False))
        own = fused.rewards[0]
        if self.team_weight:
            own = mix_team(own, system["total_cost"], self.team_weight)
        rewards = dict(zip(agents, own.tolist(), strict=False))
        infos = {
            agent: {
                "report": dict(zip(ROLE_TERMS, terms, strict=False)),
                "action_mask": masks[agent],
                "system": system,
            }
            for agent, terms in zip(agents, fused.terms[0].tolist(), strict=False)
        }
        return observations, rewards, infos

    def _reference_step(self, values: list[Any]) -> tuple[dict, dict, dict]:
        """The day through the numpy reference: the twin, ``reconcile`` and the roles."""
        state = self.twin_state
        n = self._n_slots
        if self._n_skus == 1:
            as_array = np.array(values, dtype=np.int64)
            store_actions = as_array[None, :n]
            warehouse_action, supplier_action = as_array[n : n + 1], as_array[n + 1 : n + 2]
        else:  # the warehouse's action is an array
            store_actions = np.array(values[:n], dtype=np.int64)[None]
            warehouse_action = values[n][None]
            supplier_action = np.array(values[n + 1 : n + 2], dtype=np.int64)
        outcome = self.twin.step(
            self.store_role.order_quantities(store_actions, state),
            self.warehouse_role.order_quantities(warehouse_action, state),
            supplier_action,
        )
        report = reconcile(outcome, self.scenario)
        self._report = report
        # Each agent's terms as plain floats (its info's report); its reward is reward() of
        # those terms, which in float64 arithmetic equals reward() of the report's arrays.
        terms = [*report.stores.agents_at(0), *report.warehouse.agents_at(0)]
        terms += report.supplier.agents_at(0)
        rewards = {
            agent: reward(SimpleNamespace(**agent_terms), weights)
            for agent, agent_terms, weights in zip(
                self.possible_agents, terms, self._reward_weights, strict=True
            )
        }
        position = self.twin_state.store_position
        observations = self._observations(position)
        masks = self._masks(position)
        system = {k: float(v[0]) for k, v in system_cost(report, self.scenario).items()}
        if self.team_weight:
            own = np.array([rewards[a] for a in self.possible_agents])
            mixed = mix_team(own, system["total_cost"], self.team_weight)
            rewards = dict(zip(self.possible_agents, mixed.tolist(), strict=True))
        infos = {
            agent: {"report": agent_terms, "action_mask": masks[agent], "system": system}
            for agent, agent_terms in zip(self.possible_agents, terms, strict=True)
        }
        return observations, rewards, infos

    def render(self) -> str | np.ndarray | None:
        """The current day: text (``"ansi"``), an RGB picture (``"rgb_array"``, uint8
        (480, 640, 3)), or ``"human"``: the text printed to stdout (returns None; ``reset``
        and ``step`` print it too, Gymnasium's convention for "human"); see
        :mod:`hmarl_bench.envs.render`. Without a render mode it warns and returns None, as
        Gymnasium's envs do."""
        if self.render_mode is None:
            gymnasium.logger.warn(
                "You are calling render method without specifying any render mode: "
                "create the env with render_mode='ansi', 'rgb_array' or 'human'."
            )
            return None
        args = (self.scenario, self.store_ids, self.twin_state, self.last_report)
        if self.render_mode == "ansi":
            return ansi_frame(*args)
        if self.render_mode == "human":
            print(ansi_frame(*args), flush=True)
            return None
        return rgb_frame(*args, self._cost_history)

    def close(self) -> None:
        pass

    def state(self) -> np.ndarray:
        """A global state vector: every agent's observation concatenated (for critics)."""
        obs = self._observations()
        return np.concatenate([obs[a] for a in self.possible_agents])

    def chain_state(self) -> np.ndarray:
        """The chain's global state (:class:`~hmarl_bench.agents.interfaces.ChainState`):
        every node's stock, position and pipeline and the day, in [0, 1] (float32), what a
        centralized critic reads on either track."""
        return self.chain_state_of.observe(self.twin_state)[0]
