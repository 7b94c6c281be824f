"""The layout shows the architecture, and a test keeps it so: packages import downward only,
no module imports a module that imports it back, no view module imports another, no module
outgrows 500 lines, and only the places that own a transaction commit it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

KIT = Path(__file__).resolve().parents[2] / "kit"
MAX_LINES = 500
# Lower layers never import higher ones: the page files know nothing of visitors, the list
# nothing of the dashboard. Packages of one layer may use each other (the list queues its
# mail; the mail carries the list's signed links), the module-cycle test still holding. The
# top-level modules (config, models, money, urls...) serve every layer.
LAYERS = [{"pages"}, {"tracking"}, {"waitlist", "delivery"}, {"reports"}, {"visitor", "founder"}]
ABOVE_EVERYTHING = {"kit", "kit.cli", "kit.doctor", "kit.recount"}  # factory, commands
VIEWS = {  # modules that define the blueprints people reach by URL
    "kit.visitor.landing", "kit.visitor.embed", "kit.visitor.checkout",
    "kit.visitor.subscriber", "kit.founder.dashboard", "kit.founder.api", "kit.founder.proof",
}  # fmt: skip
# Who may commit: the views (and the login that keeps its own session row), the commands, the
# two background workers, and the maintenance jobs that rebuild kept rows from the stored ones.
COMMITTERS = VIEWS | {
    "kit", "kit.cli", "kit.founder.auth", "kit.delivery.outbox", "kit.reports.digest",
    "kit.tracking.exposures", "kit.recount", "kit.ratelimit_storage", "kit.waitlist.places",
    "kit.tracking.phases",
}  # fmt: skip


def modules() -> dict[str, Path]:
    found = {}
    for path in KIT.rglob("*.py"):
        parts = path.relative_to(KIT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(path: Path, known: set[str]) -> set[str]:
    """The kit modules a module imports (``from kit.a import b`` names module ``kit.a.b`` when
    that is a module, else ``kit.a``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kit"):
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if child in known else node.module)
    return found


GRAPH = {name: imports(path, set(modules())) for name, path in modules().items()}


def layer(name: str) -> int | None:
    parts = name.split(".")
    if name in ABOVE_EVERYTHING:
        return len(LAYERS)
    ranks = [
        rank for rank, packages in enumerate(LAYERS) if len(parts) > 2 and parts[1] in packages
    ]
    return ranks[0] if ranks else None


def test_no_module_imports_one_that_imports_it_back():
    def cycle_from(start: str) -> list[str] | None:
        path, seen = [start], set()

        def walk(name: str) -> list[str] | None:
            for target in sorted(GRAPH.get(name, ())):
                if target == start:
                    return [*path, start]
                if target not in seen:
                    seen.add(target)
                    path.append(target)
                    found = walk(target)
                    if found:
                        return found
                    path.pop()
            return None

        return walk(start)

    cycles = [cycle for name in GRAPH if (cycle := cycle_from(name))]
    assert cycles == []


def test_no_view_module_imports_another():
    assert [(a, b) for a in VIEWS for b in GRAPH[a] if b in VIEWS and b != a] == []


def test_packages_import_downward_only():
    upward = [
        (a, b)
        for a in GRAPH
        for b in GRAPH[a]
        if layer(a) is not None and layer(b) is not None and layer(b) > layer(a)
    ]
    assert upward == []


def test_the_page_files_need_no_flask():
    flask_users = [
        name
        for name, path in modules().items()
        if name.startswith("kit.pages")
        and any(
            isinstance(node, ast.ImportFrom | ast.Import)
            and "flask" in (getattr(node, "module", None) or "")
            for node in ast.walk(ast.parse(path.read_text()))
        )
    ]
    assert flask_users == []


@pytest.mark.parametrize("name", sorted(modules()))
def test_no_module_over_500_lines(name):
    assert len(modules()[name].read_text().splitlines()) <= MAX_LINES


def test_only_views_commands_and_workers_commit():
    committing = {
        name
        for name, path in modules().items()
        if ".commit()" in path.read_text() or "engine.begin()" in path.read_text()
    }
    assert committing - COMMITTERS == set()


# Speed tricks stay behind the fast path's switch (kit/fastpath.py): answers kept per
# arguments, statements built once at import, rows told to the ORM instead of read back.
TRICKS = (
    "lru_cache",
    "functools.cache",
    "import cache",
    "cached_property",
    "set_committed_value",
    "make_transient_to_detached",
)
STATEMENT_BUILDERS = {"select", "insert", "update", "delete", "union_all"}


def _built_at_import(tree: ast.Module) -> list[str]:
    """Names bound at module level to a statement (a call of select, update...)."""
    found = []
    for node in tree.body:
        if isinstance(node, ast.Assign):
            calls = [n for n in ast.walk(node.value) if isinstance(n, ast.Call)]
            names = {getattr(c.func, "id", getattr(c.func, "attr", "")) for c in calls}
            if names & STATEMENT_BUILDERS:
                found += [ast.unparse(target) for target in node.targets]
    return found


def test_speed_tricks_live_in_the_fast_path_only():
    outside = {
        name: [trick for trick in TRICKS if trick in path.read_text()]
        + _built_at_import(ast.parse(path.read_text()))
        for name, path in modules().items()
        if name != "kit.fastpath"
    }
    assert {name: found for name, found in outside.items() if found} == {}
