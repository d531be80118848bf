"""Scenario files: finding them, reading their TOML, ``extends``, and completeness.

:func:`load_scenario` reads ``experiments/scenarios/<name>.toml`` (or a path) into a
validated, frozen :class:`~hmarl_bench.config.scenario.Scenario`; any problem raises one
:class:`~hmarl_bench.config.scenario.ScenarioError` naming the file and the dotted key.

**A file is complete or says what it extends.** A file that leaves out a table or key
would silently run with the default chain's value (a file without ``[[stores]]`` would run
the default's two stores), so every file gives every table and key, and a missing one is an
error that names all that are missing. The keys a file may leave out: ``name`` (default:
the file's name without ``.toml``), ``description``, ``demand.spikes`` (no spikes), and the
keys added after the format was fixed, which keep their defaults (fields marked
``OMIT_DEFAULT`` in :mod:`hmarl_bench.config.scenario`, e.g. a SKU's ``demand_scale``).
``[sku]`` or ``[[skus]]`` gives the SKUs, ``[[stores]]`` or ``[store_pattern]`` the stores.

A file that declares ``extends = "<scenario>"`` (a name, or a ``.toml`` path relative to the
file's folder) takes everything it does not give from that scenario, itself complete or
extending another. The merge: tables merge key by key, at every depth (``[supplier]
reliability = 0.7`` changes only that key); arrays, arrays of tables included
(``[[stores]]``, ``[[skus]]``, ``spikes``, ``order_quantities``), replace the base's whole;
a file's ``[[stores]]`` replaces the base's ``[store_pattern]`` and the other way round, as
``[[skus]]`` and ``[sku]`` do; ``name`` and ``description`` are never inherited (the name
is the file's own ``name`` or its file name). :func:`read_scenario_file` returns the
resolved values and the chain of files, which a run records in its ``config.json``.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hmarl_bench._toml import tomllib
from hmarl_bench.config.build import UnknownKeyError, check_alternatives, scenario_from_dict
from hmarl_bench.config.scenario import Demand, Scenario, ScenarioError, Sku, Store
from hmarl_bench.locations import experiments_dir

__all__ = [
    "SCENARIO_DIR",
    "ScenarioFile",
    "list_scenarios",
    "load_scenario",
    "missing_keys",
    "read_scenario_file",
    "scenario_path",
]

#: Where the named scenarios live (``experiments/scenarios``; see :mod:`hmarl_bench.locations`).
SCENARIO_DIR = experiments_dir("scenarios")

#: (dataclass, field) pairs a file may leave out, besides fields marked ``OMIT_DEFAULT``.
_OPTIONAL = {(Scenario, "name"), (Scenario, "description"), (Demand, "spikes")}
#: Top-level keys with two forms: either one completes the file.
_ALTERNATIVES = {"sku": "skus", "skus": "sku", "stores": "store_pattern", "store_pattern": "stores"}
_NOT_INHERITED = ("name", "description")


@dataclass(frozen=True)
class ScenarioFile:
    """A scenario file's resolved values (``extends`` merged in) and where they came from.

    ``extends``: the files this one extends, nearest first (empty for a complete file).
    """

    path: Path
    data: dict[str, Any]
    extends: tuple[Path, ...] = ()

    @property
    def label(self) -> str:
        """The file's own name, without ``.toml``: what run folders are named after."""
        return self.path.stem

    def provenance(self) -> dict[str, Any]:
        """Where the values came from, for a run's ``config.json``."""
        return {"file": str(self.path), "extends": [str(p) for p in self.extends]}


def list_scenarios() -> list[str]:
    """Names of the scenarios shipped in ``experiments/scenarios``."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def scenario_path(name_or_path: str | Path, base: Path | None = None) -> Path:
    """The file of a scenario name (``default``) or path (relative to ``base`` if given).

    Raises :class:`ScenarioError` for an unknown name (listing the known ones) or a
    missing file.
    """
    text = str(name_or_path)
    path = Path(text)
    if base is not None and not path.is_absolute():
        path = base / path
    if not (text.endswith(".toml") or path.exists()):
        path = SCENARIO_DIR / f"{text}.toml"
        if not path.is_file():
            raise ScenarioError(
                "",
                f"unknown scenario {text!r}; choose one of {list_scenarios()} "
                "or give a path to a .toml file",
                str(path),
            )
    if not path.is_file():
        raise ScenarioError(
            "", f"scenario file not found; the named scenarios are {list_scenarios()}", str(path)
        )
    return path


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError("", f"malformed TOML: {err}", str(path)) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ScenarioError("", f"cannot read the file: {err}", str(path)) from None


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``: tables merge key by key, everything else replaces."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _resolve(path: Path, chain: tuple[Path, ...]) -> ScenarioFile:
    data = _read_toml(path)
    source = str(path)
    parent = data.pop("extends", None)
    if parent is None:
        check_alternatives(data, source)
        missing = missing_keys(data)
        if missing:
            _raise_unknown_keys(data, source)  # a misspelt key is the likelier cause
            raise ScenarioError(
                "",
                f"missing {', '.join(missing)}: a scenario file gives every table and key "
                f"(as {SCENARIO_DIR / 'default.toml'} does), or declares "
                'extends = "<scenario>" to take the rest from that scenario',
                source,
            )
        return ScenarioFile(path, data)
    if not isinstance(parent, str) or not parent:
        raise ScenarioError("extends", f"expected a scenario name or path, got {parent!r}", source)
    try:
        base_path = scenario_path(parent, path.parent if parent.endswith(".toml") else None)
    except ScenarioError as err:
        raise ScenarioError("extends", err.message, source) from None
    if base_path.resolve() in {p.resolve() for p in (path, *chain)}:
        circle = " -> ".join(str(p) for p in (*chain[::-1], path, base_path))
        raise ScenarioError("extends", f"scenario files extend each other: {circle}", source)
    base = _resolve(base_path, (*chain, path))
    inherited = {k: v for k, v in base.data.items() if k not in _NOT_INHERITED}
    for key in data:  # the other form of a two-form key is replaced, not merged
        inherited.pop(_ALTERNATIVES.get(key, ""), None)
    check_alternatives(data, source)
    return ScenarioFile(path, _merge(inherited, data), (base_path, *base.extends))


def _raise_unknown_keys(data: dict[str, Any], source: str) -> None:
    try:
        scenario_from_dict(data, source)
    except UnknownKeyError:
        raise
    except ScenarioError:
        pass


def read_scenario_file(name_or_path: str | Path) -> ScenarioFile:
    """A scenario file's values, with what it extends merged in and checked complete."""
    return _resolve(scenario_path(name_or_path), ())


def _required(cls: type) -> list[dataclasses.Field]:
    return [
        f
        for f in dataclasses.fields(cls)
        if not f.metadata.get("omit_default") and (cls, f.name) not in _OPTIONAL
    ]


def _missing_in(cls: type, data: dict[str, Any], prefix: str, skip: tuple[str, ...] = ()) -> list:
    """Required keys of ``cls`` absent from the table ``data``, recursing into the tables
    and arrays of tables that are there (values of the wrong type are the builder's to
    report)."""
    hints = typing.get_type_hints(cls)
    missing = []
    for f in _required(cls):
        if f.name in skip:
            continue
        key = f"{prefix}{f.name}"
        if f.name not in data:
            missing.append(key)
            continue
        tp, value = hints[f.name], data[f.name]
        if dataclasses.is_dataclass(tp) and isinstance(value, dict):
            missing += _missing_in(tp, value, f"{key}.")
        item = typing.get_args(tp)[0] if typing.get_origin(tp) is tuple else None
        if dataclasses.is_dataclass(item) and isinstance(value, list):
            for i, entry in enumerate(value):
                if isinstance(entry, dict):
                    missing += _missing_in(item, entry, f"{key}[{i}].")
    return missing


def missing_keys(data: dict[str, Any]) -> list[str]:
    """The tables and keys a complete scenario file must give that ``data`` lacks, as
    dotted keys (``stores (or store_pattern)``, ``supplier.delay_days``)."""
    missing = _missing_in(Scenario, data, "", skip=("sku", "stores"))
    if "sku" not in data and "skus" not in data:
        missing.insert(0, "sku (or skus)")
    elif isinstance(data.get("sku"), dict):
        missing += _missing_in(Sku, data["sku"], "sku.")
    elif isinstance(data.get("skus"), list):
        for k, sku in enumerate(data["skus"]):
            if isinstance(sku, dict):
                missing += _missing_in(Sku, sku, f"skus[{k}].")
    pattern = data.get("store_pattern")
    if "stores" not in data and pattern is None:
        missing.insert(0, "stores (or store_pattern)")
    elif isinstance(data.get("stores"), list):
        for i, store in enumerate(data["stores"]):
            if isinstance(store, dict):
                missing += _missing_in(Store, store, f"stores[{i}].")
    elif isinstance(pattern, dict):
        missing += [f"store_pattern.{k}" for k in ("count", "profiles") if k not in pattern]
        for j, profile in enumerate(pattern.get("profiles") or []):
            if isinstance(profile, dict):
                at = f"store_pattern.profiles[{j}]."
                missing += _missing_in(Store, profile, at, skip=("name",))
    return missing


def load_scenario(name_or_path: str | Path | Scenario = "default") -> Scenario:
    """Load a scenario by name (``default``) or by path to a ``.toml`` file.

    Raises :class:`ScenarioError` naming the file and key for any invalid content, a
    missing table or key (module docstring), a missing file (listing the known names) or
    malformed TOML.
    """
    if isinstance(name_or_path, Scenario):
        return name_or_path
    resolved = read_scenario_file(name_or_path)
    data = dict(resolved.data)
    data.setdefault("name", resolved.label)
    return scenario_from_dict(data, str(resolved.path))
