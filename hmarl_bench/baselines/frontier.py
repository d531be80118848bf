"""The combined rule: forecast-following per-store levels, an echelon warehouse, cut-offs.

:class:`EchelonFree` is what an operations team with this chain's information would run:
every store-SKU slot keeps its own forecast-following (s, S)
(:mod:`~hmarl_bench.baselines.forecast`), the warehouse orders on its *echelon* position
(its own stock and pipeline plus every store's, per SKU: Clark-Scarf) up to the chain's
expected demand until its order can be on a shelf (cover window ``L_w + L + 1``) plus
safety stock, and nothing is ordered that could only land after the season (plus tuned
cut-off days). :class:`EchelonActions` is the same chain with the stores acting through
their four actions (0, 0.5, 1.0 or 1.5 x forecast, masked), the like-for-like comparison
for a learning store policy.
"""

from __future__ import annotations

from typing import ClassVar

from hmarl_bench.baselines.forecast import ForecastSSFree

__all__ = ["EchelonActions", "EchelonFree"]


class EchelonFree(ForecastSSFree):
    """Forecast-following per-slot (s, S) stores and an echelon (s, S) warehouse, free
    quantities, horizon-aware. Parameters: :meth:`parameters`."""

    echelon: ClassVar[bool] = True

    def warehouse_cover(self) -> float:
        return self.expected_supplier_lead + self.store_lead + 1.0


class EchelonActions(EchelonFree):
    """:class:`EchelonFree` with each store taking the feasible action of its four closest
    to ``S - position`` (when at or below ``s``)."""

    through_actions: ClassVar[bool] = True
