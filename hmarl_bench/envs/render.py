"""The chain's day as text (``"ansi"``; ``"human"`` prints it) or as a picture
(``"rgb_array"``).

Why a picture: SB3's ``make_vec_env`` asks every env for ``render_mode="rgb_array"``, and
Gymnasium's ``RecordVideo`` and SB3's ``VecVideoRecorder`` film an agent through it. The
frame is drawn with numpy (bars as whole-array masks, no loop over stores) and Pillow (the
text), about a millisecond a frame; matplotlib would take tens.

A frame (:data:`FRAME_SHAPE`, white background) shows, at the start of a day:

- the header: scenario, day, and yesterday's cost of the chain (holding, lost sales,
  ordering);
- *stock*: one bar per warehouse SKU and per store-SKU slot, on hand (solid) with the
  pipeline stacked on it (light), as a share of the node's capacity (the top line);
- *yesterday's flows*: per node, units sold (green) and lost (red) stacked up to the
  demand, and the order placed (an orange tick): for a store its order to the warehouse,
  for the warehouse what it shipped to the stores and its order to the supplier;
- a strip of the daily cost (black) and its lost-sales part (red) over the episode so far.

Wider chains than the panel has pixels are drawn by pixel column, each column the mean of
its slots.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from hmarl_bench.config import Scenario
from hmarl_bench.reconciliation import ReconciliationReport, system_cost
from hmarl_bench.twin import TwinState
from hmarl_bench.twin.state import pipeline_total

__all__ = ["FRAME_SHAPE", "RENDER_MODES", "ansi_frame", "check_render_mode", "rgb_frame"]

#: ``"human"`` prints the ``"ansi"`` text to stdout (PettingZoo's ``render_test`` asks for it).
RENDER_MODES = ("ansi", "rgb_array", "human")
#: (height, width, channels) of an ``rgb_array`` frame (even sides, as video codecs want).
FRAME_SHAPE = (480, 640, 3)

_WHITE = (255, 255, 255)
_INK = (30, 30, 30)
_GRID = (200, 200, 200)
_STORE = (0, 114, 178)  # colour-blind palette (seaborn's "colorblind")
_WAREHOUSE = (204, 121, 167)
_SOLD = (0, 158, 115)
_LOST = (213, 94, 0)
_ORDER = (230, 159, 0)
_LEFT, _RIGHT = 52, 628  # the panels' x range
_STOCK = (76, 232)  # the stock panel's y range (top, bottom)
_FLOWS = (286, 388)
_STRIP = (420, 466)


def check_render_mode(render_mode: str | None) -> None:
    """Gymnasium's convention: a mode the env does not list is refused at construction."""
    if render_mode is not None and render_mode not in RENDER_MODES:
        raise ValueError(
            f"render_mode must be None or one of {list(RENDER_MODES)}, got {render_mode!r}"
        )


def _tint(color: tuple[int, int, int], amount: float = 0.6) -> tuple[int, int, int]:
    return tuple(int(c + (255 - c) * amount) for c in color)


@functools.lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow < 10.1 or no FreeType: the bitmap font
        return ImageFont.load_default()


@functools.lru_cache(maxsize=1024)
def _glyphs(text: str, size: int) -> np.ndarray:
    """The coverage (0..1, float32 (h, w)) of ``text`` in the default font: text is drawn
    once per string and blended into frames from this cache."""
    font = _font(size)
    left, top, right, bottom = font.getbbox(text)
    image = Image.new("L", (max(right - left, 1), max(bottom - top, 1)), 0)
    ImageDraw.Draw(image).text((-left, -top), text, fill=255, font=font)
    return np.asarray(image, dtype=np.float32) / 255.0


def _text(
    frame: np.ndarray, xy: tuple[int, int], text: str, color: tuple[int, int, int], size: int = 11
) -> None:
    """Blend ``text`` into ``frame`` with its top-left corner at ``xy`` (clipped)."""
    alpha = _glyphs(text, size)
    x, y = xy
    region = frame[y : y + alpha.shape[0], x : x + alpha.shape[1]]
    alpha = alpha[: region.shape[0], : region.shape[1], None]
    region[:] = region * (1.0 - alpha) + np.asarray(color, dtype=np.float32) * alpha


def _columns(values: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel column of a panel ``width`` wide: the value drawn there and whether a bar
    is drawn (gaps between bars of four pixels or more). Items beyond the width share
    columns: each column is the mean of its items."""
    m = len(values)
    if m == 0:
        return np.zeros(width), np.zeros(width, dtype=bool)
    if m > width:
        column = np.arange(m) * width // m
        total = np.bincount(column, weights=values, minlength=width)
        return total / np.maximum(np.bincount(column, minlength=width), 1), np.ones(width, bool)
    x = np.arange(width) + 0.5
    item = np.minimum((x * m / width).astype(np.int64), m - 1)
    within = x * m / width - item
    visible = (within > 0.15) & (within < 0.85) if width / m >= 4 else np.ones(width, bool)
    return values[item], visible


class _Panel:
    """A box of the frame where bars rise from the bottom; values are shares of its height."""

    def __init__(self, frame: np.ndarray, x0: int, x1: int, top: int, bottom: int) -> None:
        self.pixels = frame[top:bottom, x0:x1]
        self.height, self.width = self.pixels.shape[:2]
        self._rows = np.arange(self.height)[:, None]

    def bars(self, low: np.ndarray, high: np.ndarray, color: tuple[int, int, int]) -> None:
        """One bar per item from share ``low`` to ``high`` (clipped to [0, 1])."""
        low_px, visible = _columns(np.clip(low, 0.0, 1.0), self.width)
        high_px, _ = _columns(np.clip(high, 0.0, 1.0), self.width)
        top = self.height - np.rint(high_px * self.height)
        bottom = self.height - np.rint(low_px * self.height)
        fill = (self._rows >= top) & (self._rows < bottom) & visible
        self.pixels[fill] = color

    def ticks(self, level: np.ndarray, color: tuple[int, int, int]) -> None:
        """A 3-pixel tick per item at share ``level`` (items at zero get none)."""
        values, visible = _columns(np.clip(level, 0.0, 1.0), self.width)
        row = self.height - 1 - np.rint(values * (self.height - 1))
        fill = (np.abs(self._rows - row) <= 1) & visible & (values > 0)
        self.pixels[fill] = color

    def line(self, values: np.ndarray, span: int, color: tuple[int, int, int]) -> None:
        """A polyline of ``values`` (shares) at x = index / span of the width, 2 px thick."""
        if len(values) == 0:
            return
        x = np.arange(self.width)
        day = np.minimum((x * span / self.width).astype(np.int64), span - 1)
        shown = np.clip(values, 0.0, 1.0)[np.minimum(day, len(values) - 1)]
        row = self.height - 1 - np.rint(shown * (self.height - 1))
        fill = (np.abs(self._rows - row) <= 1) & (day < len(values))
        self.pixels[fill] = color


def _split(width: int, n_warehouse: int, n_stores: int) -> tuple[int, int]:
    """Pixel widths of the warehouse's and the stores' groups (a 12-pixel gap between)."""
    usable = width - 12
    share = min(max(n_warehouse / (n_warehouse + n_stores), 0.12), 0.4)
    warehouse = int(usable * share)
    return warehouse, usable - warehouse


@functools.lru_cache(maxsize=8)
def _background(slot_names: tuple[str, ...], n_skus: int) -> np.ndarray:
    """What every frame of a chain shares: panel lines, titles and node labels."""
    frame = np.full(FRAME_SHAPE, 255, dtype=np.uint8)
    w_box, s_box = _boxes(len(slot_names), n_skus)
    for top, bottom in (_STOCK, _FLOWS, _STRIP):
        frame[top - 1, _LEFT:_RIGHT] = _GRID  # the top line: capacity, or the scale's top
        frame[bottom, _LEFT:_RIGHT] = _INK
    _text(
        frame, (_LEFT, _STOCK[0] - 30), "stock / capacity: on hand (solid), pipeline (light)", _INK
    )
    flows = "yesterday: sold (green), lost (red), ordered (orange tick)"
    _text(frame, (_LEFT, _FLOWS[0] - 32), flows, _INK)
    _text(frame, (w_box[0], _STOCK[1] + 4), "warehouse", _WAREHOUSE)
    n = len(slot_names)
    if n <= 12:
        width = (s_box[1] - s_box[0]) / n
        for i, name in enumerate(slot_names):
            label = name.replace("store_", "s").replace("_sku_", "/")
            _text(frame, (s_box[0] + int(i * width) + 2, _STOCK[1] + 4), label, _STORE)
    else:
        _text(frame, (s_box[0], _STOCK[1] + 4), f"{n} store slots", _STORE)
    frame.flags.writeable = False  # shared by every frame: copied, never drawn on
    return frame


def _boxes(n_slots: int, n_skus: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """x ranges of the warehouse's and the stores' bars."""
    w_width, s_width = _split(_RIGHT - _LEFT, n_skus, n_slots)
    return (_LEFT, _LEFT + w_width), (_RIGHT - s_width, _RIGHT)


def rgb_frame(
    scenario: Scenario,
    slot_names: Sequence[str],
    state: TwinState,
    report: ReconciliationReport | None,
    history: Sequence[tuple[float, float]] = (),
) -> np.ndarray:
    """The picture of copy 0 at the start of ``state.day`` (see the module), uint8
    :data:`FRAME_SHAPE`. ``report`` is yesterday's (None on day 0); ``history`` the daily
    (total cost, lost-sales cost) so far."""
    k = state.n_skus
    frame = _background(tuple(slot_names), k).copy()
    w_box, s_box = _boxes(state.n_slots, k)
    # stock: on hand with the pipeline on top, as shares of the node's capacity
    store_capacity = np.repeat([max(s.capacity, 1) for s in scenario.stores], k)
    store_on_hand = state.store_on_hand[0] / store_capacity
    store_stock = store_on_hand + pipeline_total(state.store_pipeline[0]) / store_capacity
    w_capacity = max(scenario.warehouse.capacity, 1)
    w_on_hand = state.warehouse_on_hand[0] / w_capacity
    w_stock = w_on_hand + pipeline_total(state.warehouse_pipeline[0]) / w_capacity
    for box, on_hand, stock, color in (
        (w_box, w_on_hand, w_stock, _WAREHOUSE),
        (s_box, store_on_hand, store_stock, _STORE),
    ):
        panel = _Panel(frame, *box, *_STOCK)
        panel.bars(on_hand, stock, _tint(color))
        panel.bars(np.zeros_like(on_hand), on_hand, color)
    _text(
        frame,
        (_LEFT, 6),
        f"{scenario.name}: start of day {state.day}/{scenario.episode_days}",
        _INK,
        15,
    )
    if report is None:
        _text(frame, (_LEFT, 28), "no day simulated yet", _INK)
        return frame
    cost = {key: float(v[0]) for key, v in system_cost(report, scenario).items()}
    line = (
        f"day {report.day} cost {cost['total_cost']:,.0f} = holding {cost['holding_cost']:,.0f}"
        f" + lost sales {cost['lost_sales_cost']:,.0f} + ordering {cost['ordering_cost']:,.0f}"
    )
    _text(frame, (_LEFT, 28), line, _INK)
    _draw_flows(frame, report, w_box, s_box)
    if history:
        costs = np.array(history, dtype=np.float64)
        strip = _Panel(frame, _LEFT, _RIGHT, *_STRIP)
        top = max(float(costs[:, 0].max()), 1.0)
        strip.line(costs[:, 0] / top, scenario.episode_days, _INK)
        strip.line(costs[:, 1] / top, scenario.episode_days, _LOST)
        _text(frame, (_LEFT, _STRIP[0] - 16), f"daily cost (top {top:,.0f}); red: lost sales", _INK)
    return frame


def _draw_flows(
    frame: np.ndarray, report: ReconciliationReport, w_box: tuple, s_box: tuple
) -> None:
    """Yesterday's sales, lost sales and orders per node, each group on its own scale."""
    stores, warehouse = report.stores, report.warehouse
    groups = (
        (w_box, warehouse.sales[:1], warehouse.lost_sales[:1], warehouse.ordered[:1], "warehouse"),
        (s_box, stores.sales[0], stores.lost_sales[0], stores.ordered[0], "stores"),
    )
    tops = []
    for box, *flows, name in groups:
        sold, lost, ordered = (np.asarray(a, dtype=np.float64).reshape(-1) for a in flows)
        top = max(float((sold + lost).max()), float(ordered.max()), 1.0)
        panel = _Panel(frame, *box, *_FLOWS)
        panel.bars(np.zeros_like(sold), sold / top, _SOLD)
        panel.bars(sold / top, (sold + lost) / top, _LOST)
        panel.ticks(ordered / top, _ORDER)
        tops.append(f"{name} {top:,.0f}")
    _text(frame, (_LEFT, _FLOWS[0] - 17), f"top lines: {', '.join(tops)} units", _INK)


def ansi_frame(
    scenario: Scenario,
    slot_names: Sequence[str],
    state: TwinState,
    report: ReconciliationReport | None,
) -> str:
    """The day as text: stock now and yesterday's flows per node, and yesterday's cost."""
    head = f"{scenario.name}: start of day {state.day}/{scenario.episode_days}"
    if report is not None:
        head += f"; stock now, flows of day {state.day - 1}"
    lines = [head]
    for i, agent in enumerate(slot_names):
        line = (
            f"  {agent:<11} on_hand {int(state.store_on_hand[0, i]):>6}  "
            f"pipeline {int(state.store_pipeline[0, i].sum()):>6}  "
            f"forecast {state.forecast[0, i]:7.1f}"
        )
        if report is not None:
            r = report.stores
            line += (
                f"  demand {int(r.demand[0, i]):>4} sold {int(r.sales[0, i]):>4} "
                f"lost {int(r.lost_sales[0, i]):>4} ordered {int(r.ordered[0, i]):>5} "
                f"shipped {int(r.received[0, i]):>5}"
            )
        lines.append(line)
    line = (
        f"  warehouse_1 on_hand {int(state.warehouse_on_hand[0].sum()):>6}  "
        f"pipeline {int(state.warehouse_pipeline[0].sum()):>6}"
    )
    if report is not None:
        w = report.warehouse
        line += f"  ordered {int(w.ordered[0]):>5} supplier shipped {int(w.received[0]):>5}"
        cost = system_cost(report, scenario)
        lines.append(line)
        line = (
            f"  day {state.day - 1} cost {cost['total_cost'][0]:9.2f}"
            f" (holding {cost['holding_cost'][0]:.2f},"
            f" lost sales {cost['lost_sales_cost'][0]:.2f},"
            f" ordering {cost['ordering_cost'][0]:.2f})"
        )
    lines.append(line)
    return "\n".join(lines)
