"""Where the project's plain-value files are found: scenarios, hyperparameters, benchmark
configs and the rl-zoo3 settings (the ``experiments/`` folder).

``experiments/`` at the project's root is their one source: results, docs and the commands'
examples name files there. A checkout, and an editable install (``pip install -e .``), read
them in place. A wheel (``pip install .``) cannot reach a folder outside the package, so the
build copies them into the package as ``hmarl_bench/_experiments/`` (``setup.py``'s build
step); :func:`experiments_dir` reads that copy when there is no checkout beside the package.

This module imports nothing of the project's, so every stage (config first) can use it.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["BUNDLED_DIR", "CHECKOUT_DIR", "experiments_dir"]

_PACKAGE = Path(__file__).resolve().parent
#: ``experiments/`` beside the package in a checkout (or an editable install of one).
CHECKOUT_DIR = _PACKAGE.parent / "experiments"
#: The copy a wheel carries inside the package (made by ``setup.py`` at build time).
BUNDLED_DIR = _PACKAGE / "_experiments"


def experiments_dir(*parts: str) -> Path:
    """``experiments/<parts...>``: the checkout's folder when the package sits in one, else
    the copy installed with the package.

    The checkout wins so that an edited scenario is what runs; a folder counts as the
    checkout's only if it holds ``scenarios/`` (a stray ``experiments`` folder beside an
    installed package is not the project's).
    """
    root = CHECKOUT_DIR if (CHECKOUT_DIR / "scenarios").is_dir() else BUNDLED_DIR
    return root.joinpath(*parts)
