"""Imports flow one way (docs/architecture.md): each rule below is read off the
source with ``ast`` (imports inside functions count too), so a new import that
breaks the layout fails here with the file and the line. (Orchestration's own
rule, components never import defs, is in tests/orchestration.)"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ACTIVATIONS = ROOT / "activations"
ORCHESTRATION = ROOT / "orchestration"

# modules that start the product (the command line, each package's commands.py, the
# demo): the app layer above every package, which may wire anything in (the sandbox too)
APP_ENTRY_POINTS = {"activations/cli.py", "activations/demo.py"}


def is_entry_point(rel: str) -> bool:
    return rel in APP_ENTRY_POINTS or rel.endswith("/commands.py")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """``(line, imported module)`` for every import in ``path``; ``from a import b``
    yields ``a`` and ``a.b`` (``b`` may be a module)."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def violations(tree: Path, forbidden: tuple[str, ...], *, entry_points_may: bool = False) -> list:
    found = []
    for path in sorted(tree.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if entry_points_may and is_entry_point(rel):
            continue
        for line, name in imports(path):
            if name in forbidden or name.startswith(tuple(f + "." for f in forbidden)):
                found.append(f"{rel}:{line} imports {name}")
    return found


def test_nothing_in_activations_imports_dagster() -> None:
    assert violations(ACTIVATIONS, ("dagster", "dagster_dbt", "dagster_duckdb")) == []


def test_nothing_outside_the_sandbox_imports_it_but_the_entry_points() -> None:
    outside = [
        v
        for v in violations(ACTIVATIONS, ("activations.sandbox",), entry_points_may=True)
        if not v.startswith("activations/sandbox/")
    ]
    assert outside == []
    assert violations(ORCHESTRATION, ("activations.sandbox",)) == []


def test_the_sandbox_imports_nothing_of_production_but_errors() -> None:
    production = tuple(
        f"activations.{p.stem if p.is_file() else p.name}"
        for p in ACTIVATIONS.iterdir()
        if p.name not in ("sandbox", "errors.py", "__init__.py", "__pycache__")
        and (p.is_dir() or p.suffix == ".py")
    )
    assert violations(ACTIVATIONS / "sandbox", production) == []


def test_delivery_speaks_only_the_contract() -> None:
    delivery = ACTIVATIONS / "sync" / "delivery"
    assert violations(delivery, ("activations.providers", "httpx", "activations.sandbox")) == []


def test_providers_do_not_reach_into_the_engine_or_the_warehouse() -> None:
    forbidden = ("activations.sync", "activations.warehouse", "activations.consent")
    assert violations(ACTIVATIONS / "providers", forbidden) == []


def package_of(module: str) -> str | None:
    """``activations.sync.plan`` -> ``sync``; ``activations.cli`` -> ``cli``; a
    package's ``commands`` module belongs to the app layer (``cli``)."""
    parts = module.split(".")
    if parts[0] != "activations" or len(parts) < 2:
        return None
    return "cli" if parts[-1] == "commands" else parts[1]


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for path in ACTIVATIONS.rglob("*.py"):
        source = package_of(module_name(path))
        for _, name in imports(path):
            target = package_of(name)
            if source and target and target != source and (ACTIVATIONS / target).exists():
                graph[source].add(target)
    return graph


def test_no_cycles_between_packages() -> None:
    graph = package_graph()
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt in path:
                cycles.append(" -> ".join(path[path.index(nxt) :] + [nxt]))
            elif len(path) < 12:
                visit(nxt, path + [nxt])

    for start in sorted(graph):
        visit(start, [start])
    assert cycles == [], cycles


def test_the_layers_point_down() -> None:
    """The engine-side packages and what each may import (app-level modules such
    as cli and demo, and consent's commands, sit above them all)."""
    may_import = {
        "contract": set(),
        "warehouse": set(),
        "providers": {"contract"},
        "sync": {"contract", "providers", "warehouse", "coupons"},
        "coupons": {"warehouse"},
        "consent": {"contract", "providers", "warehouse", "sync"},
        "collect": {"warehouse", "generator"},
        "imports": {"warehouse"},
        "generator": {"warehouse"},
        "dashboards": {"warehouse"},
        "sandbox": set(),
    }
    leaves = {"errors", "paths"}
    graph = package_graph()
    wrong = {
        package: sorted(graph.get(package, set()) - allowed - leaves)
        for package, allowed in may_import.items()
        if graph.get(package, set()) - allowed - leaves
    }
    assert wrong == {}
