"""Learners by name: the built-in ones, and a user's own by import path.

Every learner cell of the benchmark reaches its training through here
(:func:`hmarl_bench.harness.runners.run_learner`): the cell names a learner, the registry
returns an object with ``train(task) -> Trained`` (:class:`~hmarl_bench.learn.api.Learner`)
and the harness scores its controller. Two ways to name one:

- a registered name, a key of :data:`LEARNERS` (``"stores"``, ``"rounds"``,
  ``"residual"``, ``"hdpo"``), whose entry is an import path imported only when the learner is used
  (so naming one never loads torch);
- an import path ``"package.module:attribute"`` (a module importable where the cells run)
  or ``"path/to/file.py:attribute"`` (a source file, loaded by path; a relative path is
  taken from the benchmark config's folder, as scenario paths are).

The attribute is an object with a ``train`` method (a module, an instance), or a class,
which is instantiated without arguments. It may also have ``check(task)``: called once per
scenario before any cell runs, to refuse bad hyperparameters early (raises ValueError).

Fingerprints: :func:`learner_module` names the module whose source (and, for the
package's own modules, whose static imports) enters a learner cell's fingerprint; the
dynamic import here is invisible to the static import graph
(:mod:`hmarl_bench.harness.provenance`), so the harness adds it as a root of its own.

This module imports only the standard library: the spec and the CLIs name learners
without importing any training code.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hmarl_bench.learn.api import Learner

__all__ = [
    "LEARNERS",
    "LearnerError",
    "check_learner",
    "is_file_reference",
    "learner_module",
    "learner_names",
    "learner_reference",
    "resolve_learner",
]

#: The built-in learners: name -> ``"module:attribute"`` (imported lazily).
#: ``stores``: the shared store policy (``learn/train.py``), on the seed or planner track;
#: ``rounds``: role learners (stores, warehouse, supplier) in alternating or joint rounds
#: (``learn/rounds.py``); ``residual``: PPO factors on the tuned reference rule
#: (``learn/residual.py``); ``hdpo``: pathwise gradients through the differentiable twin
#: (``learn/hdpo.py``).
LEARNERS: dict[str, str] = {
    "stores": "hmarl_bench.learn.store_learner:LEARNER",
    "rounds": "hmarl_bench.learn.rounds_learner:LEARNER",
    "residual": "hmarl_bench.learn.residual_learner:LEARNER",
    "hdpo": "hmarl_bench.learn.hdpo:LEARNER",
}

_MODULE_REFERENCE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
_ATTRIBUTE = re.compile(r"^[A-Za-z_][\w.]*$")


class LearnerError(ValueError):
    """A learner that cannot be named, found, imported or used (one line)."""


def learner_names() -> tuple[str, ...]:
    """The registered learners' names."""
    return tuple(LEARNERS)


def is_file_reference(reference: str) -> bool:
    """Whether ``reference`` names a source file (``path/to/file.py:attribute``)."""
    return ".py:" in reference


def _split(reference: str) -> tuple[str, str]:
    """``(module or file, attribute)`` of an import path; :class:`LearnerError` if malformed."""
    if is_file_reference(reference):
        path, _, attribute = reference.rpartition(":")
        if path.endswith(".py") and _ATTRIBUTE.match(attribute):
            return path, attribute
    elif _MODULE_REFERENCE.match(reference):
        module, attribute = reference.split(":")
        return module, attribute
    raise LearnerError(
        f"unknown learner {reference!r}: give a registered name ({', '.join(LEARNERS)}) or an "
        "import path 'package.module:attribute' or 'path/to/file.py:attribute'"
    )


def learner_reference(name_or_path: str) -> str:
    """The ``module:attribute`` (or ``file.py:attribute``) a name stands for."""
    if not isinstance(name_or_path, str) or not name_or_path:
        raise LearnerError(f"expected a learner name or import path, got {name_or_path!r}")
    if name_or_path in LEARNERS:
        return LEARNERS[name_or_path]
    if ":" not in name_or_path:
        raise LearnerError(
            f"unknown learner {name_or_path!r}; registered: {', '.join(LEARNERS)} "
            "(or name your own as 'package.module:attribute' or 'path/to/file.py:attribute')"
        )
    _split(name_or_path)
    return name_or_path


def _module_origin(module: str) -> str:
    """The module's source file, found without running the module itself."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError) as err:  # a parent package failed to import
        raise LearnerError(f"cannot find learner module {module!r}: {err}") from None
    if spec is None:
        raise LearnerError(
            f"cannot find learner module {module!r}: install it, or run from the folder that "
            "holds it (or add that folder to PYTHONPATH), or name its file: 'path/to/file.py:attr'"
        )
    if not spec.origin or not spec.has_location:
        raise LearnerError(f"learner module {module!r} has no source file to fingerprint")
    return spec.origin


def check_learner(name_or_path: str, base: Path | None = None) -> str:
    """That ``name_or_path`` names a learner whose module exists (it is not run); returns it
    with a relative file path made absolute from ``base`` (the config's folder) or the
    working directory. Raises :class:`LearnerError` (one line)."""
    reference = learner_reference(name_or_path)
    location, attribute = _split(reference)
    if is_file_reference(reference):
        path = Path(location)
        if not path.is_absolute():
            path = (base / path) if base is not None and (base / path).is_file() else path
        if not path.is_file():
            raise LearnerError(f"learner file not found: {location} (in {reference!r})")
        return f"{path.resolve()}:{attribute}"
    _module_origin(location)
    return name_or_path


def learner_module(name_or_path: str) -> str:
    """What a learner cell fingerprints: the learner's module name (a registered learner's
    adapter module, or a user's module), or the absolute path of a user's source file."""
    location, _ = _split(learner_reference(name_or_path))
    if location.endswith(".py"):
        return str(Path(location).resolve())
    return location


def source_digest(name_or_path: str) -> str:
    """SHA-256 of the learner module's source file (a user's learner in a fingerprint)."""
    location = learner_module(name_or_path)
    path = location if location.endswith(".py") else _module_origin(location)
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _load_file(path: Path) -> Any:
    """Import a source file as a module (once per process; its name derives from its path)."""
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    stem = re.sub(r"\W", "_", path.stem)
    name = f"hmarl_bench_user_learner_{stem}_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise LearnerError(f"cannot load learner file {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before running it: dataclasses and pickling look it up
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def resolve_learner(name_or_path: str) -> Learner:
    """The learner ``name_or_path`` names, imported; :class:`LearnerError` (one line) if it
    is unknown, missing, fails to import, or has no ``train``."""
    reference = learner_reference(name_or_path)
    location, attribute = _split(reference)
    if is_file_reference(reference):
        path = Path(location)
        if not path.is_file():
            raise LearnerError(f"learner file not found: {location} (in {reference!r})")
        loader = lambda: _load_file(path.resolve())  # noqa: E731
    else:
        _module_origin(location)
        loader = lambda: importlib.import_module(location)  # noqa: E731
    try:
        target: Any = loader()
    except Exception as err:
        raise LearnerError(
            f"learner {name_or_path!r}: importing {location} failed: {type(err).__name__}: {err}"
        ) from err
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise LearnerError(
                f"learner {name_or_path!r}: {location} has no attribute {attribute!r}"
            )
        target = getattr(target, part)
    if isinstance(target, type):
        target = target()
    if not callable(getattr(target, "train", None)):
        raise LearnerError(
            f"learner {name_or_path!r} ({type(target).__name__}) has no train(task) method: "
            "a learner is an object with train(task) -> Trained (hmarl_bench.learn.api)"
        )
    return target
