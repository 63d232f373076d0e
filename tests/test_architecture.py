"""The import graph of matcher/: no cycles, and synthetic-world code kept apart.

Every import counts, also those inside functions: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import matcher

PACKAGE = Path(matcher.__file__).resolve().parent
#: The composition root: the only production package that may reach matcher.synthetic
#: (for `matcher seed`, `simulate-feedback` and the oracle on synthetic worlds).
MAY_USE_SYNTHETIC = "matcher.cli"


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """matcher module -> the matcher modules it imports."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join([*package.split(".")[:len(package.split(".")) - node.level
                                                         + 1], *filter(None, [base])])
                targets.add(base)
                targets |= {f"{base}.{a.name}" for a in node.names}
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                found.append([*path[path.index(target):], target])
            elif target not in state:
                visit(target, [*path, target])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def test_the_import_graph_has_no_cycles():
    cycles = _cycles(import_graph())
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_production_modules_never_import_synthetic_code():
    offenders = {module: sorted(t for t in targets if _within(t, "matcher.synthetic"))
                 for module, targets in import_graph().items()
                 if not _within(module, "matcher.synthetic")
                 and not _within(module, MAY_USE_SYNTHETIC)}
    assert not {m: t for m, t in offenders.items() if t}


def test_the_graph_sees_imports_inside_functions():
    graph = import_graph()
    assert "matcher.migrations" in graph["matcher.db"]  # imported inside make_engine


SQL_FILE = re.compile(r"^([a-z_]+)/[a-z_/]+\.sql$")


def test_each_sql_folder_is_run_only_by_the_module_of_its_stage():
    """``sql/<stage>/`` belongs to ``matcher/<stage>.py`` (``sql/synthetic/`` to the
    synthetic package); shared plumbing is a module every stage calls, not shared SQL."""
    strays = []
    for path in PACKAGE.rglob("*.py"):
        module = _module_name(path)
        owner = "synthetic" if _within(module, "matcher.synthetic") else path.stem
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                match = SQL_FILE.match(node.value)
                if match and match.group(1) != owner:
                    strays.append(f"{module} runs {node.value}")
            elif isinstance(node, ast.JoinedStr) and node.values:  # f"exporter/{name}.sql"
                first, last = node.values[0], node.values[-1]
                if (isinstance(first, ast.Constant) and re.match(r"^[a-z_]+/", first.value)
                        and isinstance(last, ast.Constant) and last.value.endswith(".sql")
                        and first.value.split("/")[0] != owner):
                    strays.append(f"{module} runs {first.value}...")
    assert not strays


def test_every_sql_file_is_in_the_folder_of_a_stage():
    root = PACKAGE.parent / "sql"
    modules = {p.stem for p in PACKAGE.rglob("*.py")}
    for path in root.rglob("*.sql"):
        folder = path.relative_to(root).parts[0]
        assert folder in modules | {"synthetic", "queries"}, path
