"""The benchmark config: ``experiments/benchmarks/<name>.toml`` -> a frozen :class:`BenchmarkSpec`.

A benchmark is plain values::

    name = "smoke"                       # results go to results/<name>/
    scenarios = ["default"]              # names in experiments/scenarios, or .toml paths
    baselines = ["seed_ss_actions", "random", "tuned_ss_actions"]
    training_seeds = [0]                 # one learner cell per (scenario, algo, seed)
    tuning_seeds = [100, 101]            # baselines tune their parameters on these, and
                                         # the reference (best rule) is chosen on them
    validation_seeds = [200, 201]        # learners' learning curve and model selection
                                         # (needed with algos; disjoint from the others)
    evaluation_seeds = [1000, 1001, 1002]  # held out: disjoint from all the seeds above
    episodes = 3                         # optional; must equal len(evaluation_seeds)

    [[algos]]
    name = "ppo"                         # "ppo" or "maskable_ppo"
    timesteps = 2048                     # environment steps (store transitions), rounded
                                         # up to whole rollouts (n_steps x slots); a cell's
                                         # info records timesteps_requested and timesteps
    n_envs = 2                           # optional; default: the hyperparams file
    eval_freq = 1024                     # steps between learning-curve points (0: ends only)
    hyperparams = { n_steps = 64 }       # overrides of experiments/hyperparams/<algo>.toml

    [[algos]]                            # a hierarchical learner (hmarl_bench.learn.rounds)
    name = "ppo"
    learners = "stores+warehouse"        # any of stores, warehouse, supplier joined by "+"
    rounds = 1                           # optional; rounds of alternating training
    timesteps = { stores = 2048, warehouse = 1024 }  # a budget per learner (or one number)

    [[algos]]                            # the residual learner (hmarl_bench.learn.residual)
    name = "ppo"
    learners = "residual"                # factors on the tuned reference rule's levels
    label = "ppo-residual"
    timesteps = 1500000                  # copy-days
    eval_freq = 46080

    [[algos]]                            # any learner by name (hmarl_bench.learn.registry)
    learner = "mypkg.learners:MyLearner" # a registered name, "package.module:attribute"
                                         # or "path/to/file.py:attribute" (relative to
                                         # this file's folder)
    label = "mine"                       # its name in the tables (default: name, else
                                         # the learner's name or attribute)
    name = "ppo"                         # optional: the task's algo
    timesteps = 10000                    # the budget in the learner's own unit
    options = { rounds = 2 }             # optional: learner-specific values (task.options)

    [[external]]                         # optional: bring your own policy
    name = "my_rule"                     # its name in the tables
    factory = "mypkg.policies:make"      # factory(scenario) -> a ChainController or a
                                         # per-agent policy (hmarl_bench.harness.external)

    [generalization]                     # optional
    train_scenario = "default"           # learners trained here also run on every other
                                         # scenario (the generalization table)

    [clairvoyant]
    enabled = true
    time_limit = 60.0                    # seconds per MILP (one per evaluation seed)

    [tuning]                             # optional: the searched baselines' budget
    candidate_episodes = 200000          # candidates x tuning seeds per tuned_* search
    seed = 0                             # the optimizer's own random draws

    [statistics]                         # optional
    n_resamples = 2000                   # bootstrap resamples
    confidence_level = 0.95
    seed = 0                             # bootstrap seed: tables are reproducible

An algo entry without ``learners`` is the store learner, named by its algo (``ppo``); one
with ``learners`` is named ``<algo>-<learners>`` (``ppo-warehouse``,
``ppo-stores+warehouse``), with ``-r<rounds>`` when it trains more than one round; a
``label = "..."`` names it explicitly (entries that differ only in ``hyperparams``, such as
``interface = "planner"``, ``central_critic``, ``team_weight`` or ``schedule = "joint"``,
need one).

``learners = "residual"`` is a learner of its own (:mod:`hmarl_bench.learn.residual`): PPO
picks daily factors on the levels of ``tuned_echelon_free``, which the cell tunes on the
``tuning_seeds`` with the ``[tuning]`` budget exactly as the baseline cell does (the spec
puts both in the entry's ``hyperparams`` under
:data:`~hmarl_bench.learn.hyperparam_keys.BASE_TUNING_KEYS`, which a config may not set).
It runs alone (no other learners, one round), with ``name = "ppo"``, needs tuning seeds,
and reads ``experiments/hyperparams/residual_ppo.toml``.

Every algo entry runs a learner of the registry (:mod:`hmarl_bench.learn.registry`): an
entry without ``learner`` maps to a built-in one (no ``learners``, or ``"stores"``:
``stores``; ``"residual"``: ``residual``; other roles: ``rounds`` with options
``learners``, ``rounds`` and ``timesteps`` per role), keeping its label; an entry with
``learner`` names it directly (``learners`` and ``rounds`` then go in ``options``). The
learner's module is found when the config is read, without running it (a missing one
fails here, in one line); the benchmark imports it and calls its ``check`` before any
cell runs.

Honest numbers: training, tuning, validation and evaluation seeds must be pairwise
disjoint; :func:`load_benchmark` raises :class:`BenchmarkError` naming the two sets and
their overlap.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hmarl_bench._toml import tomllib
from hmarl_bench.config import ScenarioError, load_scenario
from hmarl_bench.harness.algo_spec import ALGO_NAMES, AlgoSpec, parse_algo
from hmarl_bench.harness.spec_values import NAME as _NAME
from hmarl_bench.harness.spec_values import BenchmarkError
from hmarl_bench.harness.spec_values import check_keys as _unknown
from hmarl_bench.harness.spec_values import items as _list
from hmarl_bench.harness.spec_values import number as _number
from hmarl_bench.harness.spec_values import text as _str
from hmarl_bench.harness.spec_values import whole as _int
from hmarl_bench.learn.hyperparam_keys import BASE_TUNING_KEYS
from hmarl_bench.locations import experiments_dir

__all__ = [
    "ALGO_NAMES",
    "BENCHMARK_DIR",
    "AlgoSpec",
    "BenchmarkError",
    "ExternalSpec",
    "BenchmarkSpec",
    "benchmark_from_dict",
    "load_benchmark",
]

#: Where the named benchmarks live (``experiments/benchmarks``; see :mod:`hmarl_bench.locations`).
BENCHMARK_DIR = experiments_dir("benchmarks")

#: The searched baselines' budget when a config has no [tuning] table (candidate-episodes).
DEFAULT_TUNING_CANDIDATE_EPISODES = 200_000


@dataclass(frozen=True)
class ExternalSpec:
    """A policy brought by the user: ``factory`` (``module:attribute``) is called with the
    scenario and returns a ChainController or a per-agent policy
    (:mod:`hmarl_bench.harness.external`); ``name`` names it in the tables."""

    name: str
    factory: str


@dataclass(frozen=True)
class BenchmarkSpec:
    """A whole benchmark: which policies run on which scenarios, with which seeds."""

    name: str
    scenarios: tuple[str, ...]
    evaluation_seeds: tuple[int, ...]
    baselines: tuple[str, ...] = ()
    algos: tuple[AlgoSpec, ...] = ()
    externals: tuple[ExternalSpec, ...] = ()
    training_seeds: tuple[int, ...] = ()
    tuning_seeds: tuple[int, ...] = ()
    validation_seeds: tuple[int, ...] = ()
    description: str = ""
    baseline_seed: int = 0
    clairvoyant: bool = False
    clairvoyant_time_limit: float = 60.0
    generalization_from: str | None = None  # learners trained here also run elsewhere
    n_resamples: int = 2000
    confidence_level: float = 0.95
    bootstrap_seed: int = 0
    tuning_candidate_episodes: int = DEFAULT_TUNING_CANDIDATE_EPISODES
    tuning_seed: int = 0
    searched_baselines: tuple[str, ...] = ()  # the baselines that run the [tuning] search
    source: str | None = field(default=None, compare=False)

    @property
    def episodes(self) -> int:
        """Evaluation episodes per policy (and per training seed for learners)."""
        return len(self.evaluation_seeds)

    @property
    def policies(self) -> tuple[str, ...]:
        externals = tuple(e.name for e in self.externals)
        return tuple(a.policy for a in self.algos) + self.baselines + externals


# --------------------------------------------------------------------------- parsing

_TOP_KEYS = {
    "name",
    "description",
    "scenarios",
    "baselines",
    "algos",
    "training_seeds",
    "tuning_seeds",
    "validation_seeds",
    "evaluation_seeds",
    "episodes",
    "baseline_seed",
    "clairvoyant",
    "statistics",
    "generalization",
    "external",
    "tuning",
}
_EXTERNAL_KEYS = {"name", "factory"}
_GENERALIZATION_KEYS = {"train_scenario"}
_CLAIRVOYANT_KEYS = {"enabled", "time_limit"}
_STAT_KEYS = {"n_resamples", "confidence_level", "seed"}
_TUNING_KEYS = {"candidate_episodes", "seed"}


def _seeds(data: dict[str, Any], key: str) -> tuple[int, ...]:
    seeds = tuple(_int(v, f"{key}[{i}]", 0) for i, v in enumerate(_list(data.get(key, []), key)))
    repeated = sorted({s for s in seeds if seeds.count(s) > 1})
    if repeated:
        raise BenchmarkError(key, f"seeds repeat: {repeated}")
    return seeds


def _known_baselines() -> tuple[str, ...]:
    from hmarl_bench.baselines import BASELINES  # here: the spec module stays light to import

    return tuple(BASELINES)


def _milp_baselines() -> tuple[str, ...]:
    from hmarl_bench.baselines import MILP_BASELINES

    return MILP_BASELINES


def _searched_baselines() -> frozenset[str]:
    from hmarl_bench.baselines import SEARCHED

    return frozenset(SEARCHED)


def _resolve_scenario(text: str, key: str, base: Path | None) -> str:
    """A scenario name stays a name; a relative .toml path is taken from the config's folder."""
    if text.endswith(".toml") and base is not None and not Path(text).is_absolute():
        candidate = base / text
        if candidate.is_file():
            text = str(candidate.resolve())
    try:
        load_scenario(text)
    except ScenarioError as err:
        raise BenchmarkError(key, str(err)) from None
    return text


def _externals(value: Any, taken: set[str]) -> tuple[ExternalSpec, ...]:
    """The ``[[external]]`` entries; a name must not repeat another policy's."""
    from hmarl_bench.harness.factory_refs import ExternalPolicyError, check_factory

    out: list[ExternalSpec] = []
    for i, entry in enumerate(_list(value, "external")):
        key = f"external[{i}]"
        if not isinstance(entry, dict):
            raise BenchmarkError(key, f"expected a table, got {type(entry).__name__}")
        _unknown(entry, _EXTERNAL_KEYS, f"{key}.")
        name = _str(entry.get("name"), f"{key}.name")
        if not _NAME.match(name):
            raise BenchmarkError(f"{key}.name", f"use letters, digits, '_', '.', '-'; got {name!r}")
        if name in taken:
            raise BenchmarkError(f"{key}.name", f"{name!r} is already a policy of this benchmark")
        factory = _str(entry.get("factory"), f"{key}.factory")
        try:
            check_factory(factory)
        except ExternalPolicyError as err:
            raise BenchmarkError(f"{key}.factory", str(err)) from None
        taken.add(name)
        out.append(ExternalSpec(name, factory))
    return tuple(out)


#: Seed sets that must be pairwise disjoint, in the order errors name them.
_SEED_SETS = ("training_seeds", "tuning_seeds", "validation_seeds", "evaluation_seeds")


def _check_disjoint(spec: BenchmarkSpec) -> None:
    """Training, tuning, validation and evaluation seeds pairwise disjoint: rules tune and
    the reference is chosen on the tuning seeds, learners pick checkpoints on the
    validation seeds, and scoring on seeds either has seen would flatter it."""
    for i, first in enumerate(_SEED_SETS):
        for second in _SEED_SETS[i + 1 :]:
            overlap = sorted(set(getattr(spec, first)) & set(getattr(spec, second)))
            if overlap:
                key = "evaluation_seeds" if second == "evaluation_seeds" else second
                raise BenchmarkError(
                    key, f"{first} and {second} must be disjoint; both contain {overlap}"
                )


def benchmark_from_dict(
    data: dict[str, Any], source: str | None = None, base: Path | None = None
) -> BenchmarkSpec:
    """Build and validate a :class:`BenchmarkSpec`; errors name ``source`` and the key."""
    try:
        return _build(data, base)
    except BenchmarkError as err:
        raise BenchmarkError(err.key, err.message, source) from None


def _build(data: dict[str, Any], base: Path | None) -> BenchmarkSpec:
    _unknown(data, _TOP_KEYS, "")
    name = _str(data.get("name"), "name")
    if not _NAME.match(name):
        raise BenchmarkError("name", f"use letters, digits, '_', '.', '-' only; got {name!r}")
    scenarios = tuple(
        _resolve_scenario(_str(s, f"scenarios[{i}]"), f"scenarios[{i}]", base)
        for i, s in enumerate(_list(data.get("scenarios", []), "scenarios"))
    )
    if not scenarios:
        raise BenchmarkError("scenarios", "need at least one scenario")
    known = _known_baselines()
    baselines = tuple(
        _str(b, f"baselines[{i}]")
        for i, b in enumerate(_list(data.get("baselines", []), "baselines"))
    )
    for i, b in enumerate(baselines):
        if b not in known:
            raise BenchmarkError(f"baselines[{i}]", f"unknown baseline {b!r}; known: {list(known)}")
    if len(set(baselines)) != len(baselines):
        raise BenchmarkError("baselines", f"baselines repeat: {list(baselines)}")
    algos = tuple(
        parse_algo(a, f"algos[{i}]", base)
        for i, a in enumerate(_list(data.get("algos", []), "algos"))
    )
    if len({a.policy for a in algos}) != len(algos):
        raise BenchmarkError("algos", f"algos repeat: {[a.policy for a in algos]}")
    taken = {*baselines, *(a.policy for a in algos), "clairvoyant"}
    externals = _externals(data.get("external", []), taken)
    if not algos and not baselines and not externals:
        raise BenchmarkError("", "nothing to run: give 'algos', 'baselines' and/or 'external'")
    tuning = _seeds(data, "tuning_seeds")
    validation = _seeds(data, "validation_seeds")
    residual = [i for i, a in enumerate(algos) if a.is_residual]
    if residual and not tuning:
        raise BenchmarkError(
            f"algos[{residual[0]}].learners",
            "the residual learner tunes its base rule (tuned_echelon_free) on the tuning "
            "seeds: give at least one in tuning_seeds",
        )
    clair = data.get("clairvoyant", {})
    if isinstance(clair, bool):
        clair = {"enabled": clair}
    if not isinstance(clair, dict):
        raise BenchmarkError("clairvoyant", "expected a table: { enabled = true, time_limit = 60 }")
    _unknown(clair, _CLAIRVOYANT_KEYS, "clairvoyant.")
    enabled = clair.get("enabled", True)
    if not isinstance(enabled, bool):
        raise BenchmarkError("clairvoyant.enabled", f"expected true or false, got {enabled!r}")
    general = data.get("generalization", {})
    if not isinstance(general, dict):
        raise BenchmarkError("generalization", 'expected a table: { train_scenario = "default" }')
    _unknown(general, _GENERALIZATION_KEYS, "generalization.")
    train_scenario = general.get("train_scenario")
    if train_scenario is not None and train_scenario not in scenarios:
        raise BenchmarkError(
            "generalization.train_scenario", f"{train_scenario!r} is not one of the scenarios"
        )
    stats = data.get("statistics", {})
    if not isinstance(stats, dict):
        raise BenchmarkError("statistics", "expected a table")
    _unknown(stats, _STAT_KEYS, "statistics.")
    search = data.get("tuning", {})
    if not isinstance(search, dict):
        raise BenchmarkError(
            "tuning", "expected a table: { candidate_episodes = 200000, seed = 0 }"
        )
    _unknown(search, _TUNING_KEYS, "tuning.")
    candidate_episodes = _int(
        search.get("candidate_episodes", DEFAULT_TUNING_CANDIDATE_EPISODES),
        "tuning.candidate_episodes",
        1,
    )
    tuning_seed = _int(search.get("seed", 0), "tuning.seed", 0)
    if residual:
        base = tuple(zip(BASE_TUNING_KEYS, (tuning, candidate_episodes, tuning_seed), strict=True))
        algos = tuple(
            dataclasses.replace(a, hyperparams=tuple(sorted((*a.hyperparams, *base))))
            if a.is_residual
            else a
            for a in algos
        )
    spec = BenchmarkSpec(
        name=name,
        description=str(data.get("description", "")),
        scenarios=scenarios,
        baselines=baselines,
        algos=algos,
        externals=externals,
        training_seeds=_seeds(data, "training_seeds"),
        tuning_seeds=tuning,
        validation_seeds=validation,
        evaluation_seeds=_seeds(data, "evaluation_seeds"),
        baseline_seed=_int(data.get("baseline_seed", 0), "baseline_seed", 0),
        clairvoyant=enabled,
        clairvoyant_time_limit=_number(clair.get("time_limit", 60.0), "clairvoyant.time_limit"),
        generalization_from=train_scenario,
        n_resamples=_int(stats.get("n_resamples", 2000), "statistics.n_resamples", 100),
        confidence_level=_number(
            stats.get("confidence_level", 0.95), "statistics.confidence_level"
        ),
        bootstrap_seed=_int(stats.get("seed", 0), "statistics.seed", 0),
        tuning_candidate_episodes=candidate_episodes,
        tuning_seed=tuning_seed,
        searched_baselines=tuple(b for b in baselines if b in _searched_baselines()),
    )
    if not spec.evaluation_seeds:
        raise BenchmarkError("evaluation_seeds", "need at least one evaluation seed")
    if "episodes" in data and _int(data["episodes"], "episodes", 1) != spec.episodes:
        raise BenchmarkError(
            "episodes",
            f"episodes = {data['episodes']} but there are {spec.episodes} evaluation_seeds "
            "(one episode per evaluation seed)",
        )
    if algos and not spec.training_seeds:
        raise BenchmarkError("training_seeds", "learners need at least one training seed")
    if algos and not spec.validation_seeds:
        raise BenchmarkError(
            "validation_seeds",
            "learners need validation seeds (learning curves, checkpoint choice), disjoint "
            "from the tuning seeds: e.g. validation_seeds = [200, 201]",
        )
    if not 0 < spec.confidence_level < 1:
        raise BenchmarkError("statistics.confidence_level", "must be in (0, 1)")
    if spec.clairvoyant_time_limit <= 0:
        raise BenchmarkError("clairvoyant.time_limit", "must be > 0 seconds")
    several = [s for s in spec.scenarios if load_scenario(s).n_skus > 1]
    if spec.clairvoyant and several:
        raise BenchmarkError(
            "clairvoyant.enabled",
            f"the clairvoyant bound models one SKU; {several} have several "
            "(run them in a benchmark with clairvoyant disabled)",
        )
    milp = [b for b in baselines if b in _milp_baselines()]
    if milp and several:
        raise BenchmarkError(
            "baselines",
            f"{milp} solve one-SKU MILPs; {several} have several SKUs "
            "(run them in another benchmark)",
        )
    _check_disjoint(spec)
    if baselines and not tuning:
        raise BenchmarkError(
            "tuning_seeds",
            "baselines need at least one tuning seed: tuned rules search their levels there, "
            "and the reference (the best rule) is chosen there",
        )
    return spec


def load_benchmark(name_or_path: str | Path) -> BenchmarkSpec:
    """Load a benchmark by name (``smoke``) or path; :class:`BenchmarkError` if it is bad."""
    text = str(name_or_path)
    path = Path(text)
    if not (text.endswith(".toml") or path.exists()):
        path = BENCHMARK_DIR / f"{text}.toml"
        if not path.is_file():
            known = sorted(p.stem for p in BENCHMARK_DIR.glob("*.toml"))
            raise BenchmarkError(
                "", f"unknown benchmark {text!r}; choose one of {known} or give a .toml path"
            )
    if not path.is_file():
        raise BenchmarkError("", "benchmark config not found", str(path))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise BenchmarkError("", f"malformed TOML: {err}", str(path)) from None
    spec = benchmark_from_dict(data, str(path), path.parent)
    object.__setattr__(spec, "source", str(path))
    return spec
