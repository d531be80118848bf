"""What code and which libraries a benchmark cell runs, for its fingerprint.

A stored cell is only worth reusing if the code that would compute it again is the code
that computed it. Hashing every file of the package would make every edit (a figure's
colour, a README table) invalidate hours of stored cells, so a cell hashes only the
``hmarl_bench`` modules its runner can reach:

- :func:`import_graph` parses every module of the package with :mod:`ast` (nothing is
  imported or run) and lists, per module, the ``hmarl_bench`` modules it imports at module
  level and those it imports inside functions (``from x import y`` where ``y`` is a
  submodule counts as importing ``x.y`` too). Imports under ``if TYPE_CHECKING:`` never run
  and are left out; so are parent packages that Python imports implicitly (their
  ``__init__`` files hold no benchmark logic).
- :func:`module_closure` starts from roots ``"module"`` (the whole module) or
  ``"module:function"`` (the module's module-level imports, plus the imports inside that
  function and inside the module's other top-level functions it names, transitively) and
  follows every import of every module reached, module-level and function-local alike.
- :func:`code_digest` hashes the source bytes of the modules in the closure.

Dynamic imports (``importlib.import_module``) are not seen; the package has two: a
policy's factory module outside the package (:mod:`hmarl_bench.harness.external`), whose
source ``external`` cells hash on their own (:mod:`hmarl_bench.harness.factory_refs`), and a
learner by name (:mod:`hmarl_bench.learn.registry`), whose module a ``learner`` cell adds as
a root of its own (:func:`hmarl_bench.harness.cells.learner_modules`; tested for every
registered learner); any other dynamic import of a package module would need the same.
:func:`library_versions` gives the versions of the numerical and learning libraries whose
upgrades can change results. Everything is cached per process: a benchmark fingerprints
hundreds of cells.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import platform
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

__all__ = [
    "FINGERPRINT_LIBRARIES",
    "ImportGraph",
    "PACKAGE_DIR",
    "code_digest",
    "find_cycles",
    "import_graph",
    "library_versions",
    "module_closure",
    "module_digests",
]

#: The installed ``hmarl_bench`` package (its source files are what a cell runs).
PACKAGE_DIR = Path(__file__).resolve().parents[1]

#: Distributions whose versions enter every cell's fingerprint (with Python's major.minor).
FINGERPRINT_LIBRARIES = ("numpy", "scipy", "torch", "stable-baselines3", "sb3-contrib")


@dataclass(frozen=True)
class ImportGraph:
    """Static imports between the modules of one package.

    ``files``: module name -> source file. ``module_level`` / ``local``: module name ->
    the package's modules it imports at module level / inside functions. ``function_imports``
    and ``function_names``: per module, per top-level function (``Class.method`` for
    methods), the modules it imports and the top-level names it uses.
    """

    files: dict[str, Path]
    module_level: dict[str, frozenset[str]]
    local: dict[str, frozenset[str]]
    function_imports: dict[str, dict[str, frozenset[str]]]
    function_names: dict[str, dict[str, frozenset[str]]]

    def imports(self, module: str) -> frozenset[str]:
        """Every module ``module`` imports, at module level or inside a function."""
        return self.module_level[module] | self.local[module]


def _module_name(path: Path, root: Path, package: str) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join([package, *parts])


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(
    node: ast.Import | ast.ImportFrom, module: str, is_package: bool
) -> list[tuple[str, ...]]:
    """What an import statement loads, one entry per imported name: the candidate modules
    in order of preference (``from x import y``: the submodule ``x.y`` if there is one, else
    ``x``, whose attribute ``y`` is read). Filtered to the package's modules later."""
    if isinstance(node, ast.Import):
        return [(alias.name,) for alias in node.names]
    base = node.module or ""
    if node.level:
        anchor = module.split(".") if is_package else module.split(".")[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join([*anchor, base] if base else anchor)
    return [(f"{base}.{alias.name}", base) for alias in node.names]


class _Collector(ast.NodeVisitor):
    """Imports of one module, split into module-level and per top-level function."""

    def __init__(self, module: str, is_package: bool) -> None:
        self.module = module
        self.is_package = is_package
        self.module_level: list[tuple[str, ...]] = []
        self.functions: dict[str, list[tuple[str, ...]]] = {}
        self.names: dict[str, set[str]] = {}
        self._function: str | None = None
        self._class: str | None = None

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node):
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def _import(self, node: ast.Import | ast.ImportFrom) -> None:
        found = _targets(node, self.module, self.is_package)
        if self._function is None:
            self.module_level += found
        else:
            self.functions[self._function] += found

    visit_Import = _import
    visit_ImportFrom = _import

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        if self._function is not None or self._class is not None:
            self.generic_visit(node)
            return
        self._class = node.name
        self.generic_visit(node)
        self._class = None

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        if self._function is not None:  # a nested function belongs to its outer one
            self.generic_visit(node)
            return
        self._function = f"{self._class}.{node.name}" if self._class else node.name
        self.functions.setdefault(self._function, [])
        self.names.setdefault(self._function, set())
        self.generic_visit(node)
        self._function = None

    visit_FunctionDef = _visit_function
    visit_AsyncFunctionDef = _visit_function

    def visit_Name(self, node: ast.Name) -> None:
        if self._function is not None:
            self.names[self._function].add(node.id)


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_bytes(), filename=str(path))


def import_graph(root: Path | None = None) -> ImportGraph:
    """The static import graph of the package at ``root`` (default :data:`PACKAGE_DIR`;
    see the module docstring), parsed once per process and folder."""
    return _import_graph(Path(PACKAGE_DIR if root is None else root))


@functools.cache
def _import_graph(root: Path) -> ImportGraph:
    package = root.name
    files = {_module_name(p, root, package): p for p in sorted(root.rglob("*.py"))}
    module_level, local, function_imports, function_names = {}, {}, {}, {}
    for module, path in files.items():
        collector = _Collector(module, path.name == "__init__.py")
        collector.visit(_parse(path))

        def known(targets: Iterable[tuple[str, ...]], module: str = module) -> frozenset[str]:
            found = (next((n for n in names if n in files), None) for names in targets)
            return frozenset(n for n in found if n is not None and n != module)

        module_level[module] = known(collector.module_level)
        per_function = {f: known(names) for f, names in collector.functions.items()}
        function_imports[module] = per_function
        local[module] = frozenset().union(*per_function.values())
        function_names[module] = {f: frozenset(n) for f, n in collector.names.items()}
    return ImportGraph(files, module_level, local, function_imports, function_names)


def _root_imports(graph: ImportGraph, root: str) -> set[str]:
    """What a root reaches directly: a module (all its imports) or ``module:function``."""
    module, _, function = root.partition(":")
    if module not in graph.files:
        raise ValueError(f"unknown module {module!r} in root {root!r}")
    if not function:
        return {module, *graph.imports(module)}
    functions = graph.function_imports[module]
    if function not in functions:
        raise ValueError(f"no top-level function {function!r} in {module}")
    reached, todo, seen = {module, *graph.module_level[module]}, [function], set()
    while todo:  # the function and the module's own functions it names
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        reached |= functions[name]
        used = graph.function_names[module][name]
        todo += [f for f in functions if f.split(".")[0] in used]
    return reached


def module_closure(roots: Sequence[str], root: Path | None = None) -> tuple[str, ...]:
    """The sorted modules reachable from ``roots`` by static imports (module docstring).

    The module of a ``module:function`` root is in the closure, but only what that function
    reaches is followed from it, unless another module of the closure imports it whole.
    """
    graph = import_graph(root)
    partial = {r.partition(":")[0] for r in roots if ":" in r}
    seen = set(partial)
    todo = set().union(*(_root_imports(graph, r) for r in roots)) - partial if roots else set()
    while todo:
        module = todo.pop()
        if module in seen and module not in partial:
            continue
        partial.discard(module)
        seen.add(module)
        todo |= graph.imports(module) - (seen - partial)
    return tuple(sorted(seen))


@functools.cache
def _file_digest(path: Path, mtime_ns: int, size: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def module_digests(modules: Iterable[str], root: Path | None = None) -> dict[str, str]:
    """SHA-256 (16 hex digits) of each module's source bytes, by module name."""
    graph = import_graph(root)
    out = {}
    for module in sorted(modules):
        path = graph.files[module]
        stat = path.stat()
        out[module] = _file_digest(path, stat.st_mtime_ns, stat.st_size)
    return out


def code_digest(digests: dict[str, str]) -> str:
    """One hash over ``{module: source digest}`` (names included: a moved module counts)."""
    text = "\n".join(f"{module} {digest}" for module, digest in sorted(digests.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@functools.cache
def library_versions() -> dict[str, str]:
    """Python's major.minor and the installed versions of :data:`FINGERPRINT_LIBRARIES`
    (``"not installed"`` for a missing one), read from package metadata: nothing is
    imported, so fingerprinting a cell does not load torch."""
    out = {"python": ".".join(platform.python_version_tuple()[:2])}
    for name in FINGERPRINT_LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def find_cycles(graph: ImportGraph) -> list[list[str]]:
    """Import circles (module-level and function-local imports both), each as a path that
    returns to its start; empty when the graph is acyclic."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph.imports(node)):
            if succ not in index:
                connect(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph.files):
        if node not in index:
            connect(node)
    return [_cycle_in(graph, component) for component in components]


def _cycle_in(graph: ImportGraph, component: list[str]) -> list[str]:
    """One concrete circle through a strongly connected component's first module."""
    members, start = set(component), component[0]
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for node in frontier:
            for succ in sorted(graph.imports(node) & members):
                if succ == start:
                    return [*paths[node], start]
                if succ not in paths:
                    paths[succ] = [*paths[node], succ]
                    nxt.append(succ)
        frontier = nxt
    return component  # pragma: no cover (a component always has a circle)
