"""The package's shape: no module imports another in a circle, not even inside a function, and
every import points down the table of tiers."""

import ast
from pathlib import Path

from registry import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "registry"


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, modules: set[str]) -> set[str]:
    """The registry modules this file imports, wherever in the file the import stands."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            target = f"{base}.{node.module}" if node.module else base
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                found.add(candidate if candidate in modules else target)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            found.update(names)
    return {m for m in found if m in modules and m != name}


def test_no_import_circle_in_the_package():
    files = [p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts]
    modules = {module_name(p) for p in files}
    graph = {module_name(p): imports(p, modules) for p in files}
    circles = []

    def visit(module, path):
        for target in graph[module]:
            if target in path:
                circles.append([*path[path.index(target) :], target])
            elif len(path) < 12:
                visit(target, [*path, target])

    for module in graph:
        visit(module, [module])
    assert circles == []


# The package read top-down: every module in the order it may be built on. The rule: a module
# imports only modules that stand before it here (a lower tier, or earlier in its own tier), so
# no import points sideways or up. A new module takes its place in this table.
TIERS = {
    # Plain tools that know nothing of schools: text, language, settings, the database handle,
    # and the rules a value must meet.
    "foundation": [
        "config",
        "text",
        "i18n",
        "db",
        "phones",
        "redirects",
        "static_files",
        "compression",
        "operations",
        "validation",
        "errors",
        "passwords",
        "spelling",
        "special",
        "uploads",
    ],
    # The records and what is declared about them once: fields, filters, gaps, history, mail.
    "domain": [
        "models",
        "fields",
        "geo",
        "filters",
        "history",
        "quality",
        "mail",
        "account_tokens",
        "security",
        "partnership",
    ],
    # Reading and writing many records at once: the query builder and its index, files, DUO,
    # the overviews' documents, the seed.
    "services": [
        "cache",
        "exports",
        "parent_words",
        "search_changes",
        "search_index",
        "search",
        "records",
        "groupings",
        "duo.area",
        "duo.files",
        "duo.uploads",
        "duo.compare",
        "duo.apply",
        "duo.cli",
        "duo",
        "seed",
        "overviews.paper",
        "overviews.markup",
        "overviews.charts",
        "overviews.build",
        "overviews.document",
    ],
    # What people open in a browser or call: logging in, accounts, rounds, the public pages,
    # the API, the overviews' pages.
    "web": [
        "auth",
        "second_factor",
        "accounts",
        "rounds",
        "corrections",
        "listing",
        "directory",
        "findability",
        "openapi",
        "api",
        "overviews",
    ],
    # The coordinators' admin: its base first, then the screens.
    "admin": [
        "admin.widgets",
        "admin.labels",
        "admin.access",
        "admin.adaptations",
        "admin.base",
        "admin.views",
        "admin.corrections",
        "admin.duo",
        "admin.partnership",
        "admin.accounts",
        "admin.rounds",
        "admin.schools",
        "admin.support.rows",
        "admin.support.spreadsheet",
        "admin.support.upload",
        "admin.support.grid",
        "admin.support.view",
        "admin.support",
        "admin",
    ],
    # create_app, the table of contents.
    "factory": [""],
}


def _places() -> dict[str, int]:
    order = [f"registry.{name}".rstrip(".") for tier in TIERS.values() for name in tier]
    return {module: place for place, module in enumerate(order)}


def test_every_import_points_up_the_table_of_tiers():
    files = {module_name(p): p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts}
    places = _places()
    assert set(files) - set(places) == set(), "give these modules their place in TIERS"
    assert set(places) - set(files) == set(), "TIERS names modules that no longer exist"
    wrong = sorted(
        f"{name} imports {target}"
        for name, path in files.items()
        for target in imports(path, set(files))
        if places[target] >= places[name]
    )
    assert wrong == []
