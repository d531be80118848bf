"""HDPO's symmetry-aware policy: one network shared by every store-SKU slot, one warehouse network.

Both networks output order-up-to levels as multipliers of a nominal level that the
scenario's configuration gives any planner in advance: a slot's level is its nominal
demand over the days until its next order can land (today, the warehouse-to-store lead
time and the review cycle), a SKU's echelon level the same over the supplier's lead time
too; multiplier ``softplus(output + bias)`` starts at 1 (the bias, ``log(e - 1)``) so the
untrained policy is a sensible base-stock rule, and stays non-negative. Orders are
``relu(level - position)`` (the store's inventory position, the warehouse's echelon
position), placed only on review days: the stores on days ``day % review_days == 0``, the
warehouse (with ``align_review``, the default) on the days whose supplier shipment lands on
a store review day (``(day + supplier lead time) % review_days == 0``), so stock that reaches
the warehouse on time leaves for the stores the same day instead of waiting there for the
next review (without ``align_review``: on the stores' days; with an odd supplier lead time
and two-day reviews every shipment then waits a day at the warehouse). Parameter sharing
makes the store network see every slot as one more sample, and lets the same weights run on
any number of stores.

Inputs are what a controller holds (:class:`~hmarl_bench.twin.torch_day.TorchView`, the
fields of a ChainView) plus a memory the controller keeps itself: the last
``memory_days`` forecasts of each slot (the forecast is updated from each day's demand,
so consecutive forecasts tell the past demand). Never the demand path, the hidden regime,
late flags or outage days: those are not in a view.

A store slot's features (each divided by the slot's mean nominal demand ``m`` or by a
warehouse scale): on hand, pipeline by arrival day, forecast, forecast std, today's
nominal demand, the nominal level, the memory, the SKU's warehouse on hand and echelon
position, the slot's share of demand, day and days left. A SKU's warehouse features: on
hand, pipeline by arrival day, stores' positions, echelon position, stores' forecasts,
the nominal echelon level, days to the last shipment's delivery, day and days left.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from hmarl_bench.config import Scenario
from hmarl_bench.twin.params import chain_params
from hmarl_bench.twin.torch_day import TorchView

__all__ = ["HDPOPolicy"]

_BIAS = math.log(math.e - 1.0)  # softplus(_BIAS) = 1


def _mlp(inputs: int, hidden: Sequence[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for width in hidden:
        layers += [nn.Linear(inputs, width), nn.ELU()]
        inputs = width
    last = nn.Linear(inputs, 1)
    nn.init.normal_(last.weight, std=1e-3)
    nn.init.zeros_(last.bias)
    return nn.Sequential(*layers, last)


def _window_sums(per_day: np.ndarray, window: int) -> np.ndarray:
    """(T, X) -> (T, X): the sum over days ``d .. d + window - 1`` (days past T count 0)."""
    padded = np.concatenate([per_day, np.zeros((window, per_day.shape[1]))])
    cumulative = np.concatenate([np.zeros((1, per_day.shape[1])), np.cumsum(padded, axis=0)])
    days = per_day.shape[0]
    return cumulative[window : window + days] - cumulative[:days]


class HDPOPolicy(nn.Module):
    """Store and warehouse networks over a scenario's slots (see the module docstring)."""

    def __init__(
        self,
        scenario: Scenario,
        hidden: Sequence[int] = (64, 64),
        memory_days: int = 7,
        review_days: int = 1,
        align_review: bool = True,
    ) -> None:
        super().__init__()
        if memory_days < 0 or review_days < 1:
            raise ValueError(
                f"memory_days must be >= 0 and review_days >= 1, got {memory_days}, {review_days}"
            )
        self.memory_days, self.review_days = int(memory_days), int(review_days)
        #: the warehouse orders on days ``day % review_days == warehouse_phase``
        lead = scenario.supplier.lead_time
        self.warehouse_phase = (-lead) % self.review_days if align_review else 0
        self.n_skus, self.n_slots = scenario.n_skus, scenario.n_slots
        self.days = scenario.episode_days
        store_lead, supplier_lead = scenario.warehouse.lead_time, scenario.supplier.lead_time
        self.store_pipeline_len = max(store_lead, 1)
        self.warehouse_pipeline_len = max(supplier_lead + 2 * scenario.supplier.delay_days, 1)
        nominal = chain_params(scenario).profile  # (T, N)
        slot_mean = np.maximum(nominal.mean(axis=0), 1e-6)  # (N,)
        sku_nominal = nominal.reshape(self.days, -1, self.n_skus).sum(axis=1)  # (T, K)
        store_cover = store_lead + review_days
        echelon_cover = supplier_lead + store_lead + review_days
        store_level = _window_sums(nominal, store_cover + 1)
        echelon_level = _window_sums(sku_nominal, echelon_cover + 1)
        sku_scale = np.maximum(sku_nominal.mean(axis=0), 1e-6) * (echelon_cover + 1)  # (K,)
        as_tensor = torch.as_tensor
        self.register_buffer("nominal", as_tensor(nominal / slot_mean))
        self.register_buffer("slot_mean", as_tensor(slot_mean))
        self.register_buffer("store_level", as_tensor(store_level))  # (T, N) units
        self.register_buffer("echelon_level", as_tensor(echelon_level))  # (T, K) units
        self.register_buffer("sku_scale", as_tensor(sku_scale))
        share = slot_mean.reshape(-1, self.n_skus) / slot_mean.reshape(-1, self.n_skus).sum(0)
        self.register_buffer("slot_share", as_tensor(share.reshape(-1)))
        self.store_inputs = self.store_pipeline_len + memory_days + 10
        self.warehouse_inputs = self.warehouse_pipeline_len + 8
        self.store_net = _mlp(self.store_inputs, hidden)
        self.warehouse_net = _mlp(self.warehouse_inputs, hidden)
        self.double()

    # ------------------------------------------------------------------ memory
    def initial_memory(self, view: TorchView) -> torch.Tensor:
        """(B, N, memory_days): day 0's forecast repeated (nothing older is known)."""
        return view.forecast.detach()[..., None].expand(-1, -1, self.memory_days).clone()

    def remember(self, memory: torch.Tensor, view: TorchView) -> torch.Tensor:
        """The memory after today: the oldest forecast out, today's in."""
        if self.memory_days == 0:
            return memory
        return torch.cat([memory[..., 1:], view.forecast.detach()[..., None]], dim=2)

    # ------------------------------------------------------------------ the decision
    def forward(self, view: TorchView, memory: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Continuous order quantities: stores (B, N) and warehouse (B, K), >= 0."""
        day, k = view.day, self.n_skus
        batch = view.store_on_hand.shape[0]
        dtype = self.slot_mean.dtype
        mean = self.slot_mean
        store_position = view.store_position.to(dtype)
        stores_by_sku = store_position.reshape(batch, -1, k).sum(dim=1)  # (B, K)
        warehouse_position = view.warehouse_position.to(dtype)
        echelon = warehouse_position + stores_by_sku
        time = torch.tensor([day / self.days, (self.days - day) / self.days], dtype=dtype).expand(
            batch, 2
        )
        sku_of_slot = torch.arange(self.n_slots) % k
        wh_on_hand = view.warehouse_on_hand.to(dtype) / self.sku_scale
        store_features = torch.cat(
            [
                (view.store_on_hand.to(dtype) / mean)[..., None],
                view.store_pipeline_by_arrival.to(dtype) / mean[:, None],
                (view.forecast.to(dtype) / mean)[..., None],
                (view.forecast_var.to(dtype).clamp(min=0).sqrt() / mean)[..., None],
                self.nominal[day].expand(batch, -1)[..., None],
                (self.store_level[day] / mean).expand(batch, -1)[..., None],
                memory.to(dtype) / mean[:, None],
                wh_on_hand[:, sku_of_slot][..., None],
                (echelon / self.sku_scale)[:, sku_of_slot][..., None],
                self.slot_share.expand(batch, -1)[..., None],
                time[:, None, :].expand(-1, self.n_slots, -1),
            ],
            dim=2,
        )
        forecasts = view.forecast.to(dtype).reshape(batch, -1, k).sum(dim=1)
        sku_mean = mean.reshape(-1, k).sum(dim=0)
        warehouse_features = torch.cat(
            [
                (view.warehouse_on_hand.to(dtype) / self.sku_scale)[..., None],
                view.warehouse_pipeline_by_arrival.to(dtype) / self.sku_scale[:, None],
                (stores_by_sku / self.sku_scale)[..., None],
                (echelon / self.sku_scale)[..., None],
                (forecasts / sku_mean)[..., None],
                (self.echelon_level[day] / self.sku_scale).expand(batch, -1)[..., None],
                (view.days_to_delivery.to(dtype) / self.warehouse_pipeline_len)[
                    :, None, None
                ].expand(-1, k, 1),
                time[:, None, :].expand(-1, k, -1),
            ],
            dim=2,
        )
        store_multiplier = nn.functional.softplus(self.store_net(store_features)[..., 0] + _BIAS)
        echelon_multiplier = nn.functional.softplus(
            self.warehouse_net(warehouse_features)[..., 0] + _BIAS
        )
        store_orders = torch.relu(store_multiplier * self.store_level[day] - store_position)
        warehouse_orders = torch.relu(echelon_multiplier * self.echelon_level[day] - echelon)
        if day % self.review_days:
            store_orders = store_orders * 0.0
        if (day - self.warehouse_phase) % self.review_days:
            warehouse_orders = warehouse_orders * 0.0
        return store_orders, warehouse_orders
