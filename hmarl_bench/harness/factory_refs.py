"""Where a brought policy's factory lives: ``module:attribute`` references, found and hashed
without running them.

Why a module of its own: the cell fingerprints (:mod:`hmarl_bench.harness.cells`) and the
config checks (:mod:`hmarl_bench.harness.spec`) need the factory module's source file, and
reach this module by static imports; it imports only the standard library, so the code
hashed for every other kind of cell does not grow by the adapter in
:mod:`hmarl_bench.harness.external`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re

__all__ = [
    "ExternalPolicyError",
    "check_factory",
    "factory_modules",
    "origin",
    "source_digest",
    "split_reference",
]

_REFERENCE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


class ExternalPolicyError(ValueError):
    """A factory that cannot be found, imported or called, or returns no policy."""


def split_reference(reference: str) -> tuple[str, str]:
    if not isinstance(reference, str) or not _REFERENCE.match(reference):
        raise ExternalPolicyError(
            f"expected 'package.module:factory' (an import path, a colon, a name), "
            f"got {reference!r}"
        )
    module, attribute = reference.split(":")
    return module, attribute


def origin(module: str) -> str:
    """The module's source file, found without running the module itself."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError) as err:  # a parent package failed to import
        raise ExternalPolicyError(f"cannot find module {module!r}: {err}") from None
    if spec is None:
        raise ExternalPolicyError(
            f"cannot find module {module!r}: install it, or run from the folder that holds "
            "it (or add that folder to PYTHONPATH)"
        )
    if not spec.origin or not spec.has_location:
        raise ExternalPolicyError(f"module {module!r} has no source file to fingerprint")
    return spec.origin


def check_factory(reference: str) -> None:
    """That ``reference`` is well formed and names a module with a source file (raises
    :class:`ExternalPolicyError`); the module is not run."""
    origin(split_reference(reference)[0])


def source_digest(reference: str) -> str:
    """SHA-256 of the source file of ``reference``'s module (part of a cell's fingerprint)."""
    with open(origin(split_reference(reference)[0]), "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def factory_modules(reference: str) -> dict[str, str]:
    """``{"external:<module>": source digest}``: the factory's module as an entry of a
    cell's code modules (:func:`hmarl_bench.harness.cells.fingerprint_parts`)."""
    return {f"external:{split_reference(reference)[0]}": source_digest(reference)}
