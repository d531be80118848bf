"""``python -m hmarl_bench.run``: train store policies (or the hierarchy's learners), then
compare them with the rule-based baselines on held-out seeds.

The command's modules: ``__main__`` (the command: checks, training, evaluation), ``args``
(its arguments and their checks), ``folder`` (run folders, ``--resume``, the code record),
``report`` (tables and the learning-curve figure) and ``rounds`` (``--learners`` /
``--rounds`` runs of the hierarchy).

:func:`main` and the argument names are importable from here. ``main`` is loaded on first
use: importing ``__main__`` from this file would make ``python -m hmarl_bench.run`` load
that module twice (and runpy warn about it).
"""

from __future__ import annotations

from typing import Any

from hmarl_bench.run.args import (
    EVAL_SEED_BASE,
    N_VALIDATION_SEEDS,
    VALIDATION_SEED_BASE,
    RunArgs,
    build_parser,
    parse_args,
    parse_overrides,
)

__all__ = [
    "EVAL_SEED_BASE",
    "N_VALIDATION_SEEDS",
    "VALIDATION_SEED_BASE",
    "RunArgs",
    "build_parser",
    "main",
    "parse_args",
    "parse_overrides",
]


def __getattr__(name: str) -> Any:
    """``main`` on first use (see the module docstring)."""
    if name == "main":
        from hmarl_bench.run.__main__ import main

        return main
    raise AttributeError(f"module 'hmarl_bench.run' has no attribute {name!r}")
