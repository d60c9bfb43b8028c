"""The evaluation app's modules import one another one way only (services → tasks → reports → selectors →
models): no cycle, counting the imports written inside functions too, which hide a cycle rather than
remove it. Read from the source with ``ast``, so nothing needs importing in a particular order."""

import ast
import graphlib
from pathlib import Path

import evaluation

PACKAGE = "evaluation"
ROOT = Path(evaluation.__file__).parent


def _modules(root: Path, package: str) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its ``__init__``), migrations aside."""
    found = {}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        if "migrations" in parts:
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join((package, *parts))] = path
    return found


def _runs(node: ast.AST) -> bool:
    """False for ``if TYPE_CHECKING:`` blocks: imports there are read by type checkers, never run."""
    if isinstance(node, ast.If):
        test = node.test
        name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", "")
        return name != "TYPE_CHECKING"
    return True


def _imported(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """The dotted names ``module`` imports (relative imports resolved), wherever in the file."""
    names: set[str] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if not _runs(node):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            names.add(target)
            names.update(f"{target}.{alias.name}" for alias in node.names)  # ``from . import tasks``
    return names


def import_graph(root: Path = ROOT, package: str = PACKAGE) -> dict[str, set[str]]:
    """Module → the package's modules it imports. Importing ``a.b.c`` runs ``a`` and ``a.b`` first, so those
    count too, except the importing module's own parents (already running when it is imported)."""
    modules = _modules(root, package)
    graph = {}
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        own_parents = {module.rsplit(".", n)[0] for n in range(1, module.count(".") + 1)}
        edges = set()
        for name in _imported(ast.parse(path.read_text(), str(path)), module, is_package):
            parts = name.split(".")
            for end in range(1, len(parts) + 1):
                prefix = ".".join(parts[:end])
                if prefix in modules and prefix != module and prefix not in own_parents:
                    edges.add(prefix)
        graph[module] = edges
    return graph


def test_the_graph_sees_the_imports_that_matter():
    graph = import_graph()
    assert "evaluation.tasks" in graph["evaluation.services.report_jobs"]
    assert "evaluation.reports" in graph["evaluation.tasks"]
    assert "evaluation.selectors" in graph["evaluation.reports"]
    assert "evaluation.services" in graph["evaluation.views"]


def test_the_modules_of_the_evaluation_app_import_one_another_without_a_cycle():
    try:
        graphlib.TopologicalSorter(import_graph()).prepare()
    except graphlib.CycleError as cycle:
        raise AssertionError(f"import cycle: {' → '.join(reversed(cycle.args[1]))}") from None


def test_rendering_never_imports_the_services_or_the_tasks():
    graph = import_graph()
    reached, todo = set(), ["evaluation.reports"]
    while todo:
        module = todo.pop()
        for imported in graph[module] - reached:
            reached.add(imported)
            todo.append(imported)
    assert not {m for m in reached if m.startswith(("evaluation.services", "evaluation.tasks"))}, reached
