"""One look per policy *name*, the same in every figure of every benchmark.

A reader who learned that ``tuned_echelon_free`` is a green diamond in one figure must find
it a green diamond in the next, whichever benchmark drew it, so a policy's colour, marker
and line style are a function of its name alone (never of its position in a benchmark's
list). Three families look different at a glance:

- **learners** (and policies brought from outside): Paul Tol's *vibrant* colours, star-like
  filled markers (``*``, ``P``, ``X``, ``h``, ``H``, ``p``) and solid, dashed, dotted or
  dash-dotted lines;
- **rules**: Tol's *muted* and high-contrast colours, one colour per rule family, the
  marker saying the variant (circle: store actions; square: store actions, tuned; triangle:
  free quantities; diamond: free quantities, tuned);
- **the clairvoyant bound**: black, a thin diamond, a dashed line; nothing else is black.

Every colour is from Tol's colour-blind-safe schemes; neighbours in a figure also differ in
marker and line style, so no two known policies share all three. A name not in the
registry gets a style from a CRC-32 hash of its name (stable across runs and machines),
from its family's colours and markers, and is moved to the next free combination if that
is taken by another policy of the same figure set.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ABBREVIATIONS",
    "BOUND_STYLE",
    "LEARNER_COLORS",
    "RULE_COLORS",
    "PolicyStyle",
    "abbreviations_used",
    "family_label",
    "family_of",
    "lookup",
    "short_label",
    "styles_for",
]


@dataclass(frozen=True)
class PolicyStyle:
    """How a policy looks in every figure."""

    color: Any
    marker: str
    linestyle: Any
    family: str  # the legend's group: "learner", a rule family's label, "bound", ...
    kind: str


#: Tol "vibrant": blue, cyan, teal, orange, red, magenta.
LEARNER_COLORS = ("#0077BB", "#33BBEE", "#009988", "#EE7733", "#CC3311", "#EE3377")
LEARNER_MARKERS = ("*", "P", "X", "h", "H", "p")
LINESTYLES = ("-", "--", ":", "-.")
#: Rule family -> colour (Tol "muted" and "high contrast"; no black, no vibrant hue).
RULE_COLORS = {
    "ss": "#DDAA33",
    "order_up_to": "#882255",
    "fixed_forecast": "#AA4499",
    "random": "#999999",
    "echelon_base_stock": "#999933",
    "echelon_ss": "#CC6677",
    "forecast_ss": "#997700",
    "echelon": "#117733",
    "mpc": "#332288",
    "mpc_fast": "#6699CC",
}
#: Colours of rule families not listed above (drawn by hash).
SPARE_RULE_COLORS = ("#88CCEE", "#44AA99", "#DDCC77", "#EE99AA", "#AA4499", "#CC6677")
#: Rule marker by (free quantities, tuned).
VARIANT_MARKERS = {(False, False): "o", (False, True): "s", (True, False): "^", (True, True): "D"}
SPARE_MARKERS = ("v", "<", ">", "d", "8", "p")
FAMILY_LABELS = {
    "ss": "(s,S)",
    "order_up_to": "order-up-to",
    "fixed_forecast": "1.0 x forecast",
    "random": "random",
    "echelon_base_stock": "echelon base-stock",
    "echelon_ss": "echelon (s,S)",
    "forecast_ss": "forecast (s,S)",
    "echelon": "echelon chain rule",
    "mpc": "rolling-horizon MILP",
    "mpc_fast": "rolling-horizon MILP (1% gap)",
}
BOUND_STYLE = PolicyStyle("#000000", "d", "--", "clairvoyant bound", "clairvoyant")

#: Every learner the project's benchmarks train: (colour index, marker, line style).
_LEARNERS = {
    "ppo": (0, "*", "-"),
    "ppo-stores": (0, "P", "--"),
    "maskable_ppo": (1, "*", "--"),
    "maskable_ppo-planner": (1, "h", ":"),
    "maskable_ppo-warehouse-planner": (1, "h", "-"),
    "maskable_ppo-planner-critic": (2, "h", "-."),
    "maskable_ppo-joint-planner-local-critic": (2, "H", "--"),
    "maskable_ppo-joint-planner": (3, "p", "-"),
    "ppo-residual": (4, "*", "-."),
    "ppo-warehouse": (5, "P", "-"),
    "ppo-stores+warehouse": (5, "X", "--"),
    "ppo-warehouse-view": (0, "X", ":"),
    "recurrent_ppo-warehouse-view": (1, "X", "-."),
    "ppo-joint-view": (2, "P", ":"),
    "hdpo": (3, "*", "--"),
}


def family_of(policy: str) -> tuple[str, bool, bool]:
    """(rule family, free quantities, tuned) of a baseline's name:
    ``tuned_ss_free`` -> ("ss", True, True), ``seed_ss_actions`` -> ("ss", False, False)."""
    tuned = policy.startswith("tuned_")
    name = policy.removeprefix("tuned_").removeprefix("seed_")
    free = name.endswith("_free")
    name = name.removesuffix("_free").removesuffix("_actions")
    return name, free, tuned


def family_label(family: str) -> str:
    return FAMILY_LABELS.get(family, family.replace("_", " "))


def _rule_style(name: str) -> PolicyStyle:
    family, free, tuned = family_of(name)
    color = RULE_COLORS.get(family) or SPARE_RULE_COLORS[_hash(family) % len(SPARE_RULE_COLORS)]
    marker = "x" if family == "random" else VARIANT_MARKERS[(free, tuned)]
    return PolicyStyle(color, marker, "-", family_label(family), "baseline")


def _hash(text: str) -> int:
    return zlib.crc32(text.encode())


def _hashed(name: str, kind: str, shift: int = 0) -> PolicyStyle:
    """A name outside the registry: colour, marker and line style from its CRC-32."""
    h = _hash(name) + shift
    if kind == "baseline":
        base = _rule_style(name)
        if family_of(name)[0] in RULE_COLORS and not shift:
            return base
        marker = SPARE_MARKERS[h % len(SPARE_MARKERS)]
        return PolicyStyle(base.color, marker, "-", base.family, kind)
    if kind in ("learner", "external"):
        color = LEARNER_COLORS[h % len(LEARNER_COLORS)]
        marker = LEARNER_MARKERS[(h // 7) % len(LEARNER_MARKERS)]
        style = LINESTYLES[(h // 49) % len(LINESTYLES)]
        return PolicyStyle(color, marker, style, kind, kind)
    return PolicyStyle("#555555", SPARE_MARKERS[h % len(SPARE_MARKERS)], "-.", kind, kind)


def lookup(name: str, kind: str) -> PolicyStyle:
    """The registered look of ``name`` (a policy of ``kind``), or its hash-based one."""
    if kind == "clairvoyant" or name == "clairvoyant":
        return BOUND_STYLE
    if kind in ("learner", "external") and name in _LEARNERS:
        color, marker, style = _LEARNERS[name]
        return PolicyStyle(LEARNER_COLORS[color], marker, style, kind, kind)
    if kind == "baseline" and family_of(name)[0] in RULE_COLORS:
        return _rule_style(name)
    return _hashed(name, kind)


def styles_for(kinds: Mapping[str, str]) -> dict[str, PolicyStyle]:
    """The look of every policy of ``kinds`` (name -> kind): registered names keep theirs;
    a hash-based one that repeats another policy's look here moves on to the next hash."""
    out: dict[str, PolicyStyle] = {}
    seen: set[tuple[Any, str, Any]] = set()
    registered = [n for n in kinds if _registered(n, kinds[n])]
    for name in [*registered, *sorted(n for n in kinds if n not in registered)]:
        style, shift = lookup(name, kinds[name]), 0
        while _look(style) in seen and shift < 64:
            shift += 1
            style = _hashed(name, kinds[name], shift)
        seen.add(_look(style))
        out[name] = style
    return {name: out[name] for name in kinds}


def _registered(name: str, kind: str) -> bool:
    if kind == "clairvoyant" or name == "clairvoyant":
        return True
    if kind in ("learner", "external"):
        return name in _LEARNERS
    return kind == "baseline" and family_of(name)[0] in RULE_COLORS


def _look(style: PolicyStyle) -> tuple[Any, str, Any]:
    return (style.color, style.marker, str(style.linestyle))


#: Long name pieces -> their abbreviation in one-column figures (docs/figures.md lists them).
ABBREVIATIONS = (
    ("maskable_ppo", "mppo"),
    ("-joint-planner", "-joint"),
    ("-warehouse-planner", "-wh-plan"),
    ("recurrent_ppo", "rppo"),
    ("-warehouse-view", "-wh-view"),
    ("-local-critic", "-lc"),
    ("-planner", "-plan"),
    ("stores+warehouse", "st+wh"),
    ("tuned_", "t_"),
    ("echelon", "ech"),
    ("base_stock", "bs"),
    ("forecast", "fc"),
    ("order_up_to", "out"),
    ("_actions", "_act"),
)


def short_label(name: str, narrow: bool, limit: int = 16) -> str:
    """``name`` as a tick or legend label: whole at two-column width; at one-column width a
    name longer than ``limit`` characters is abbreviated (:data:`ABBREVIATIONS`)."""
    if not narrow or len(name) <= limit:
        return name
    for long, short in ABBREVIATIONS:
        name = name.replace(long, short)
    return name if len(name) <= limit + 4 else name[: limit + 3] + "…"


def abbreviations_used(names: Iterable[str]) -> list[tuple[str, str]]:
    """The abbreviations that change any of ``names`` at one-column width."""
    names = [n for n in names if len(n) > 16]
    return [(long, short) for long, short in ABBREVIATIONS if any(long in n for n in names)]
