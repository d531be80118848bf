"""ResidualVecEnv: a learner corrects a tuned rule's levels, one VecEnv slot per copy.

Residual policy learning (Silver et al. 2018; Johannink et al. 2019): the learner does not
order by itself; each day, for each copy of the chain, it picks two multiplicative
factors, one on the stores' levels and one on the warehouse's, and a
:class:`~hmarl_bench.baselines.chain_rule.LevelChain` rule (by default
:class:`~hmarl_bench.baselines.frontier.EchelonFree` with given, usually tuned, parameters)
orders on the scaled levels. Factor 1.0 on both is the rule itself, bit for bit, so a
policy that starts there starts at the rule.

- :class:`ScaledLevels` (a mixin over any ``LevelChain`` family, :func:`scaled_rule_class`)
  multiplies the family's levels by per-copy factors;
- :class:`ResidualObserver` builds the learner's observation from the day's
  :class:`~hmarl_bench.twin.view.ChainView` (and its memory of earlier views);
- :class:`ResidualChain` is the two together: observe a view, decide with factor indices;
  the env and the evaluation controller (:mod:`hmarl_bench.learn.residual`) both run it;
- :class:`ResidualVecEnv` is the SB3 ``VecEnv`` (its docstring is the env's spec).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from gymnasium import spaces

from hmarl_bench.baselines.chain_rule import LevelChain
from hmarl_bench.baselines.frontier import EchelonFree
from hmarl_bench.config import Scenario, load_scenario
from hmarl_bench.envs.batched import _NO_INFO, BatchedVecEnv, n_copies
from hmarl_bench.reconciliation import day_total_cost
from hmarl_bench.twin import ChainView, DigitalTwin

__all__ = [
    "FACTORS",
    "OBSERVATION",
    "ResidualChain",
    "ResidualObserver",
    "ResidualVecEnv",
    "ScaledLevels",
    "check_factors",
    "factor_distance",
    "scaled_rule_class",
]

#: The default factors a learner picks from, for the stores' and the warehouse's levels.
FACTORS: tuple[float, ...] = (0.6, 0.7, 0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.2, 1.35, 1.5)

#: Days of the nominal demand ahead, as three windows from today (start, length).
AHEAD_WINDOWS: tuple[tuple[int, int], ...] = ((0, 7), (7, 7), (14, 14))
#: Consecutive unshipped warehouse orders are counted up to this many days.
OUTAGE_MEMORY_DAYS = 28

#: The observation, value by value: (name, low, high, meaning). Every value is clipped to
#: its bounds. "Levels" are the rule's own, unscaled levels today; sums run over every
#: store-SKU slot (stores) or SKU (warehouse) of the copy.
OBSERVATION: tuple[tuple[str, float, float, str], ...] = (
    ("day", 0.0, 1.0, "day / T"),
    ("days_left", 0.0, 1.0, "(T - day) / T"),
    ("forecast_ratio", 0.0, 4.0,
     "sum of the stores' forecasts / the sum they would read had demand run to plan "
     "(DemandPlan.expected_forecast): the regime signal"),
    ("store_position", 0.0, 4.0, "stores' inventory position / their order-up-to levels"),
    ("store_on_hand", 0.0, 4.0, "stores' on hand / their order-up-to levels"),
    ("store_pipeline", 0.0, 4.0, "stores' pipeline / their order-up-to levels"),
    ("stores_due", 0.0, 1.0, "share of slots at or below their reorder point"),
    ("echelon_position", 0.0, 4.0, "echelon position / the warehouse's order-up-to levels"),
    ("warehouse_on_hand", 0.0, 4.0, "warehouse on hand / its order-up-to levels"),
    ("warehouse_pipeline", 0.0, 4.0, "supplier pipeline / the warehouse's order-up-to levels"),
    ("warehouse_due", 0.0, 1.0,
     "share of SKUs at or below the warehouse's reorder point (on the position the family "
     "orders on: the echelon position for EchelonFree)"),
    ("stockout_yesterday", 0.0, 1.0, "share of slots that ran out yesterday"),
    ("recent_service", 0.0, 1.0, "mean of the slots' recent service levels"),
    ("days_to_delivery", 0.0, 1.0,
     "days until the last supplier shipment lands / the longest supplier lead time"),
    ("ordered_yesterday", 0.0, 1.0, "1 if the warehouse ordered yesterday"),
    ("unshipped_yesterday", 0.0, 1.0,
     "share of yesterday's warehouse order the supplier did not ship (0 without an order)"),
    ("unshipped_streak", 0.0, 1.0,
     f"consecutive orders the supplier did not ship in full / {OUTAGE_MEMORY_DAYS} (the "
     "outage signal; kept from earlier views, unchanged on days without an order)"),
    ("demand_ahead_week", 0.0, 4.0,
     "nominal chain demand over days [t, t + 7) / 7 days of the mean nominal demand"),
    ("demand_ahead_week_2", 0.0, 4.0, "the same over [t + 7, t + 14)"),
    ("demand_ahead_weeks_3_4", 0.0, 4.0, "the same over [t + 14, t + 28) / 14 days"),
)  # fmt: skip


def check_factors(factors: Sequence[float]) -> tuple[float, ...]:
    """``factors`` as a tuple of positive numbers, increasing, that holds 1.0 (the rule)."""
    values = tuple(float(f) for f in factors)
    if len(values) < 2 or any(not np.isfinite(f) or f <= 0 for f in values):
        raise ValueError(f"factors must be at least two positive numbers, got {list(factors)}")
    if any(b <= a for a, b in zip(values, values[1:], strict=False)):
        raise ValueError(f"factors must increase, got {list(factors)}")
    if 1.0 not in values:
        raise ValueError(f"factors must hold 1.0 (the rule itself), got {list(factors)}")
    return values


def factor_distance(factors: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """How far each copy's pair of factors moves the rule: ``|f_s - 1| + |f_w - 1|`` (B,) for
    the factor indices ``actions`` (B, 2) into ``factors``; 0 exactly when both are 1.0.

    The residual env charges ``move_penalty`` times this on every day
    (:class:`ResidualVecEnv`), so a correction is only worth learning where it saves more
    of the chain's cost than it is charged: the policy moves off the rule only where the
    episodes say it pays."""
    chosen = np.asarray(factors, dtype=np.float64)[np.asarray(actions, dtype=np.int64)]
    return np.abs(chosen - 1.0).sum(axis=1)


class ScaledLevels:
    """Mixin over a :class:`LevelChain` family: per-copy factors on its levels.

    With factors ``f_s`` and ``f_w`` (B,) set by :meth:`set_factors`, a copy's stores order
    on ``(f_s x s, f_s x S)`` for the family's reorder points ``s`` and order-up-to levels
    ``S`` of every slot (the family's push of excess stock included in ``S``), and its
    warehouse on ``(f_w x s_w, f_w x S_w)`` per SKU; all the rest (positions, cut-offs,
    rounding, the no-unfilled-orders check) is the family's. The store push measures the
    chain's excess against the *scaled* warehouse level, as the family measures it against
    the level it orders up to. Factors reset to 1.0 at :meth:`reset`; with 1.0 the rule's
    orders are unchanged to the bit (``x * 1.0 == x``).
    """

    store_factor: np.ndarray
    warehouse_factor: np.ndarray

    def reset(self, scenario: Scenario, batch_size: int) -> None:
        super().reset(scenario, batch_size)  # type: ignore[misc]
        self.store_factor = np.ones((batch_size, 1))
        self.warehouse_factor = np.ones((batch_size, 1))

    def set_factors(self, stores: np.ndarray, warehouse: np.ndarray) -> None:
        """Factors (B,) on each copy's store levels and warehouse levels."""
        self.store_factor = np.asarray(stores, dtype=np.float64).reshape(-1, 1)
        self.warehouse_factor = np.asarray(warehouse, dtype=np.float64).reshape(-1, 1)

    def store_levels(self, view: ChainView) -> tuple[np.ndarray, np.ndarray]:
        reorder, order_up_to = super().store_levels(view)  # type: ignore[misc]
        return reorder * self.store_factor, order_up_to * self.store_factor

    def warehouse_levels(self, view: ChainView) -> tuple[np.ndarray, np.ndarray]:
        reorder, order_up_to = super().warehouse_levels(view)  # type: ignore[misc]
        return reorder * self.warehouse_factor, order_up_to * self.warehouse_factor

    def base_levels(self, view: ChainView) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
        """The family's own, unscaled levels today: ((s, S) of the stores (B, N), (s_w, S_w)
        of the warehouse (B, K)). Leaves nothing behind that :meth:`decide` would read."""
        warehouse = super().warehouse_levels(view)  # type: ignore[misc]
        self.today = {"warehouse_levels": warehouse}  # what the family's store levels read
        stores = super().store_levels(view)  # type: ignore[misc]
        self.today = {}
        return stores, warehouse


@functools.cache
def scaled_rule_class(family: type[LevelChain]) -> type[LevelChain]:
    """``family`` with :class:`ScaledLevels` on top (one class per family)."""
    if not (isinstance(family, type) and issubclass(family, LevelChain)):
        raise TypeError(f"the residual rule must be a LevelChain family, got {family!r}")
    return type(f"Scaled{family.__name__}", (ScaledLevels, family), {})


def _per_copy(values: np.ndarray, batch: int) -> np.ndarray:
    """(B, M) from (B, M) or (M,)."""
    return np.broadcast_to(values, (batch, values.shape[-1]))


class ResidualObserver:
    """The learner's observation (B, :data:`OBSERVATION`) from a day's view.

    Reads only the :class:`ChainView` (the whitelisted start-of-day fields and the
    scenario's plan), the rule's levels computed from it, and its own memory of earlier
    views of the episode (the run of unshipped orders); never the twin's state, so never
    realized future demand, the hidden regime, the supplier's outages or its late days.
    :meth:`reset` starts an episode; a day's memory is updated once, however often that
    day is observed.
    """

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.low = np.array([low for _, low, _, _ in OBSERVATION], dtype=np.float32)
        self.high = np.array([high for _, _, high, _ in OBSERVATION], dtype=np.float32)
        sup = scenario.supplier
        self.longest_lead = float(max(sup.lead_time + 2 * sup.delay_days, 1))
        self.streak = np.zeros(0)
        self._day = -1
        self._floor: float | None = None

    def reset(self, batch_size: int) -> None:
        self.streak = np.zeros(batch_size)
        self._day = -1

    def __call__(self, rule: ScaledLevels, view: ChainView) -> np.ndarray:
        batch, days = view.batch_size, view.episode_days
        plan = rule.plan
        (store_s, store_up_to), (warehouse_s, warehouse_up_to) = rule.base_levels(view)
        if self._floor is None:  # a day of the chain's mean nominal demand: keeps the
            # ratios finite when the levels run down at the end of the season
            self._floor = max(float(plan.chain_mean.daily[:days].sum(axis=1).mean()), 1e-9)
        floor = self._floor
        store_up_to = np.maximum(_per_copy(store_up_to, batch).sum(axis=1), floor)
        warehouse_up_to = np.maximum(_per_copy(warehouse_up_to, batch).sum(axis=1), floor)
        expected = plan.expected_forecast[min(view.day, plan.n_days - 1)].sum()
        position = view.store_position
        pipeline = position - view.store_on_hand
        echelon = view.echelon_position
        own = echelon if rule.echelon else view.warehouse_position  # what the family orders on
        ordered = view.warehouse_last_order.sum(axis=1)
        shipped = view.supplier_last_shipped.sum(axis=1)
        short = np.where(ordered > 0, (ordered - shipped) / np.maximum(ordered, 1), 0.0)
        if view.day != self._day:  # one update per day of the episode
            self._day = view.day
            self.streak = np.where(ordered > 0, np.where(shipped < ordered, self.streak + 1, 0),
                                   self.streak)  # fmt: skip
        ahead = [
            plan.chain_mean.window(view.day + start, length).sum() / (length * floor)
            for start, length in AHEAD_WINDOWS
        ]
        columns = [
            np.full(batch, view.day / days),
            np.full(batch, view.days_left / days),
            view.forecast.sum(axis=1) / max(expected, 1e-9),
            position.sum(axis=1) / store_up_to,
            view.store_on_hand.sum(axis=1) / store_up_to,
            pipeline.sum(axis=1) / store_up_to,
            (position <= _per_copy(store_s, batch)).mean(axis=1),
            echelon.sum(axis=1) / warehouse_up_to,
            view.warehouse_on_hand.sum(axis=1) / warehouse_up_to,
            (view.warehouse_position - view.warehouse_on_hand).sum(axis=1) / warehouse_up_to,
            (own <= _per_copy(warehouse_s, batch)).mean(axis=1),
            view.stockout_yesterday.mean(axis=1),
            view.recent_service.mean(axis=1),
            view.days_to_delivery / self.longest_lead,
            (ordered > 0).astype(np.float64),
            short,
            self.streak / OUTAGE_MEMORY_DAYS,
            *(np.full(batch, value) for value in ahead),
        ]
        obs = np.stack(columns, axis=1).astype(np.float32)
        return np.clip(obs, self.low, self.high)


class ResidualChain:
    """A :class:`ScaledLevels` rule and its :class:`ResidualObserver`, for B copies.

    ``family`` (a :class:`LevelChain` class, default :class:`EchelonFree`) with ``params``
    (its keyword arguments, e.g. the tuned ones; ``None``: its untuned values);
    ``factors`` the grid the actions index. :meth:`observe` then :meth:`decide` each day.
    """

    def __init__(
        self,
        params: Mapping[str, Any] | None = None,
        factors: Sequence[float] = FACTORS,
        family: type[LevelChain] = EchelonFree,
    ) -> None:
        self.params = dict(params or {})
        self.factors = np.array(check_factors(factors))
        self.one = int(np.flatnonzero(self.factors == 1.0)[0])
        self.family = family
        self.rule: Any = scaled_rule_class(family)(**self.params)
        self.observer: ResidualObserver | None = None

    def reset(self, scenario: Scenario, batch_size: int) -> None:
        self.rule.reset(scenario, batch_size)
        if self.observer is None or self.observer.scenario is not scenario:
            self.observer = ResidualObserver(scenario)
        self.observer.reset(batch_size)

    def observe(self, view: ChainView) -> np.ndarray:
        assert self.observer is not None, "reset() first"
        return self.observer(self.rule, view)

    def decide(
        self, view: ChainView, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The rule's orders with ``factors[actions[:, 0]]`` on the stores' levels and
        ``factors[actions[:, 1]]`` on the warehouse's."""
        self.rule.set_factors(self.factors[actions[:, 0]], self.factors[actions[:, 1]])
        return self.rule.decide(view)


class ResidualVecEnv(BatchedVecEnv):
    """B copies of the chain under a tuned rule; each copy's pair of factors is a slot.

    **Actions** ``MultiDiscrete([len(factors), len(factors)])`` per copy: indices into
    ``factors`` (default :data:`FACTORS`, 0.6 .. 1.5, with 1.0), the first on the stores'
    levels, the second on the warehouse's (:class:`ScaledLevels`). The index of 1.0 on both
    is the rule itself, bit for bit.

    **The rule**: ``family`` (a :class:`~hmarl_bench.baselines.chain_rule.LevelChain`
    class, default :class:`~hmarl_bench.baselines.frontier.EchelonFree`, the benchmarks'
    reference) with ``params`` (usually the tuned ones of ``tuned_echelon_free``).

    **Observations** ``Box(low, high, (20,), float32)``, from the day's
    :class:`~hmarl_bench.twin.view.ChainView` only (never the twin's state: not the
    demand to come, the hidden regime, the supplier's outages or late days), with the rule's
    own unscaled levels of today as the yardstick of stock, each value clipped to its
    bounds (:data:`OBSERVATION`, in order):

    ==  =======================  =========  ==================================================
    #   name                     bounds     value
    ==  =======================  =========  ==================================================
    0   day                      [0, 1]     day / T
    1   days_left                [0, 1]     (T - day) / T
    2   forecast_ratio           [0, 4]     stores' forecasts / the plan's expected forecast
    3   store_position           [0, 4]     stores' position / their order-up-to levels
    4   store_on_hand            [0, 4]     stores' on hand / their order-up-to levels
    5   store_pipeline           [0, 4]     stores' pipeline / their order-up-to levels
    6   stores_due               [0, 1]     share of slots at or below their reorder point
    7   echelon_position         [0, 4]     echelon position / warehouse order-up-to level
    8   warehouse_on_hand        [0, 4]     warehouse on hand / its order-up-to level
    9   warehouse_pipeline       [0, 4]     supplier pipeline / its order-up-to level
    10  warehouse_due            [0, 1]     share of SKUs at or below s_w (echelon position)
    11  stockout_yesterday       [0, 1]     share of slots that ran out yesterday
    12  recent_service           [0, 1]     mean recent service of the slots
    13  days_to_delivery         [0, 1]     / the longest supplier lead time (L + 2 delays)
    14  ordered_yesterday        {0, 1}     the warehouse ordered yesterday
    15  unshipped_yesterday      [0, 1]     share of that order not shipped
    16  unshipped_streak         [0, 1]     orders in a row not shipped in full / 28
    17  demand_ahead_week        [0, 4]     nominal chain demand [t, t+7) / 7 mean days
    18  demand_ahead_week_2      [0, 4]     the same over [t+7, t+14)
    19  demand_ahead_weeks_3_4   [0, 4]     the same over [t+14, t+28) / 14 mean days
    ==  =======================  =========  ==================================================

    Sums run over the copy's slots (stores) or SKUs (warehouse); level sums are floored at
    one day of the chain's mean nominal demand (levels run down at the season's end).
    ``unshipped_streak`` is the observer's memory of earlier views (a day without an order
    leaves it as it was): the outage signal, as the supplier ships nothing while down and
    the rule's warehouse reorders every day below its reorder point. Rows 17-19 read the
    scenario's nominal profile (seasonality, announced spikes), cut at the horizon.

    **Reward** per copy and day: ``-day_total_cost / cost_scale``, the chain's total cost
    of the day (:func:`~hmarl_bench.reconciliation.day_total_cost`, equal to the reports'
    system cost to the bit: holding at every node, lost sales, ordering) divided by the
    fixed ``cost_scale`` (the trainer passes the rule's mean daily cost on the tuning
    seeds, :func:`hmarl_bench.learn.residual.train_residual`, so the rule's days average
    about -1); 0 on warm-up days, which the KPIs leave out too. With ``move_penalty`` p > 0,
    every day (warm-up included: the day's factors shape the stock to come) also charges
    ``p x (|f_s - 1| + |f_w - 1|)`` (:func:`factor_distance`): nothing on the rule's own
    factors, more the further the correction moves; p = 0.1 charges a factor of 1.05 on the
    stores 0.5% of the rule's mean daily cost. ``episode_total_cost`` stays the chain's cost.

    **Episodes**: T days (the scenario's ``episode_days``), all copies in lockstep; the
    step that ends them returns ``dones`` all True with ``terminal_observation``,
    ``TimeLimit.truncated = True`` and ``episode_total_cost`` (the KPI, warm-up excluded),
    then auto-resets. Seeding is the other learner envs'
    (:class:`~hmarl_bench.envs.batched.BatchedVecEnv`): ``seed`` (or ``vec_env.seed(k)``)
    seeds the env's own generator, which draws one episode seed ``k`` in ``[0, 2**63)``
    per reset, copy ``b`` running the stream ``SeedSequence(k, spawn_key=(b,))``; a batch
    evaluated on seeds ``[s1, s2, ...]`` runs ``SeedSequence(s_i, spawn_key=(0,))``, so
    only copy 0 could ever meet an evaluation episode, when ``k`` is one of those seeds.
    ``fixed_seeds`` replays the same per-copy seeds at every reset (tests).
    """

    def __init__(
        self,
        scenario: Scenario | str = "default",
        params: Mapping[str, Any] | None = None,
        *,
        cost_scale: float,
        n_envs: int = 32,
        seed: int | None = None,
        fixed_seeds: Sequence[int] | None = None,
        factors: Sequence[float] = FACTORS,
        family: type[LevelChain] = EchelonFree,
        move_penalty: float = 0.0,
    ) -> None:
        n_envs = n_copies(n_envs, fixed_seeds)
        if not (isinstance(cost_scale, int | float) and np.isfinite(cost_scale) and cost_scale > 0):
            raise ValueError(f"cost_scale must be a positive number, got {cost_scale!r}")
        if not (isinstance(move_penalty, int | float) and np.isfinite(move_penalty)) or (
            move_penalty < 0
        ):
            raise ValueError(f"move_penalty must be a number >= 0, got {move_penalty!r}")
        self.move_penalty = float(move_penalty)
        self.scenario = load_scenario(scenario)
        self.twin = DigitalTwin(self.scenario, batch_size=n_envs)
        self.chain = ResidualChain(params, factors, family)
        self.factors = self.chain.factors
        self.cost_scale = float(cost_scale)
        observer = ResidualObserver(self.scenario)
        obs_space = spaces.Box(observer.low, observer.high, dtype=np.float32)
        action_space = spaces.MultiDiscrete([len(self.factors), len(self.factors)])
        super().__init__(n_envs, obs_space, action_space)
        self._actions: np.ndarray | None = None
        self._init_episodes(seed, fixed_seeds)

    def _on_reset(self) -> None:
        self.chain.reset(self.scenario, self.num_envs)

    def _observe(self) -> np.ndarray:
        return self.chain.observe(self.twin.view())

    def step_async(self, actions: np.ndarray) -> None:
        shape = (self.num_envs, 2)
        expected = f"{shape} actions (a store and a warehouse factor index per copy)"
        self._actions = self._checked_actions(actions, shape, len(self.factors), expected)

    def step_wait(self):
        if self._actions is None:
            raise RuntimeError("step_async() must come before step_wait()")
        view = self.twin.view()
        actions, self._actions = self._actions, None
        outcome = self.twin.step(*self.chain.decide(view, actions))
        rewards = np.zeros(self.num_envs)
        if outcome.day >= self.scenario.warmup_days:
            cost = day_total_cost(outcome, self.scenario)
            self._episode_cost += cost
            rewards = -cost / self.cost_scale
        if self.move_penalty > 0:
            rewards = rewards - self.move_penalty * factor_distance(self.factors, actions)
        rewards = rewards.astype(np.float32)
        if not self.twin.done:
            dones = np.zeros(self.num_envs, dtype=bool)
            return self._observe(), rewards, dones, [_NO_INFO] * self.num_envs
        terminal = self._observe()
        infos = [
            {
                "terminal_observation": terminal[i],
                "TimeLimit.truncated": True,
                "episode_total_cost": float(self._episode_cost[i]),
            }
            for i in range(self.num_envs)
        ]
        return self._reset_twin(), rewards, np.ones(self.num_envs, dtype=bool), infos
