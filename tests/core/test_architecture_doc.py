"""docs/architecture.md and the tree agree: every module is on the map, every name on it exists.

The source is read with `ast` (nothing is imported), so the check is about the checkout as
it stands, not an installed copy.
"""
from __future__ import annotations

import ast
import re
from functools import lru_cache
from pathlib import Path

import pytest

from tests.conftest import ROOT

DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
PACKAGES = {"profreg": "profreg", "lsp": "profreg_lsp"}  # folder -> import name
SCHEMA = ROOT / "schema" / "profile-registry.schema.json"


def tree_modules() -> list[str]:
    return sorted(str(path.relative_to(ROOT)) for folder in PACKAGES for path in (ROOT / folder).rglob("*.py"))


def named_paths() -> set[str]:
    return set(re.findall(r"\b((?:profreg|lsp|tests|schema|scripts|docs)/[\w/.-]*\w)", DOC))


def test_every_module_of_the_tree_is_on_the_map():
    missing = [path for path in tree_modules() if path not in named_paths()]
    assert not missing, f"modules docs/architecture.md does not place: {missing}"


def test_every_path_the_map_names_exists():
    absent = sorted(path for path in named_paths() if not (ROOT / path).exists())
    assert not absent, f"paths docs/architecture.md names that are not in the tree: {absent}"


# ---------------------------------------------------------------- names in backticks
class Module:
    """What a module defines at its top (functions, classes, assignments, imported names) and
    each class's attributes (methods, fields, class-level assignments)."""

    def __init__(self, path: Path) -> None:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        self.names: set[str] = set()
        self.classes: dict[str, set[str]] = {}
        for node in tree.body:
            self.names |= _bound(node)
            if isinstance(node, ast.ClassDef):
                self.classes[node.name] = set().union(*(_bound(item) for item in node.body))


def _bound(node: ast.stmt) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, ast.Assign):
        return {t.id for t in node.targets if isinstance(t, ast.Name)}
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return {node.target.id}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    if isinstance(node, ast.If):  # TYPE_CHECKING blocks, version switches
        return set().union(set(), *(_bound(item) for item in node.body + node.orelse))
    if isinstance(node, ast.Try):
        return set().union(set(), *(_bound(item) for item in node.body))
    return set()


@lru_cache(maxsize=1)
def modules() -> dict[str, Module]:
    """Dotted import name -> Module, for every module of profreg and profreg_lsp."""
    found = {}
    for path in tree_modules():
        folder, *rest = Path(path).with_suffix("").parts
        parts = [PACKAGES[folder], *rest]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = Module(ROOT / path)
    return found


@lru_cache(maxsize=1)
def schema_fields() -> set[str]:
    return set(re.findall(r'"([a-z_]+)"\s*:', SCHEMA.read_text(encoding="utf-8")))


def _attribute_of_class(name: str, attrs: list[str]) -> bool:
    for module in modules().values():
        if name in module.classes and (not attrs or (len(attrs) == 1 and attrs[0] in module.classes[name])):
            return True
    return False


def _resolves_in(module_name: str, rest: list[str]) -> bool:
    """`rest` found below the module: submodules, then a top-level name, then its attribute."""
    while rest and f"{module_name}.{rest[0]}" in modules():
        module_name = f"{module_name}.{rest.pop(0)}"
    if not rest:
        return True
    module = modules()[module_name]
    if rest[0] not in module.names:
        return False
    if len(rest) == 1:
        return True
    return len(rest) == 2 and rest[1] in module.classes.get(rest[0], ())


def resolves(token: str) -> bool:
    parts = token.split(".")
    if any(name.endswith("." + parts[0]) or name == parts[0] for name in modules()):
        starts = [name for name in modules() if name == parts[0] or name.endswith("." + parts[0])]
        return any(_resolves_in(start, list(parts[1:])) for start in starts)
    if len(parts) == 1 and any(token in m.names for m in modules().values()):
        return True
    if len(parts) == 1 and any(token in attrs for m in modules().values() for attrs in m.classes.values()):
        return True
    if len(parts) == 1 and (token in schema_fields() or token in _test_module_names()):
        return True
    return _attribute_of_class(parts[0], parts[1:])


# Named on the page but not a module of the tree: the wheel's package name for schema/.
NOT_IN_THE_TREE = {"profreg.schemas"}


def _test_module_names() -> set[str]:
    """Names defined by the test files the page names (`BACKENDS` in tests/stores/conftest.py)."""
    return set().union(set(), *(Module(ROOT / path).names for path in named_paths()
                                if path.startswith("tests/") and path.endswith(".py")))


def _diagram_names() -> set[str]:
    """Dotted names in the page's drawing, those that start with a module's name."""
    drawing = "\n".join(re.findall(r"```\n(.*?)```", DOC, re.S))
    short = {name.rsplit(".", 1)[-1] for name in modules()}
    return {n for n in re.findall(r"\b[a-z_]+(?:\.[A-Za-z_]+)+", drawing) if n.split(".")[0] in short}


def code_names() -> list[tuple[str, str]]:
    """The Python names the page writes in backticks: dotted names, CamelCase and UPPER_CASE
    names, snake_case names with an underscore; `path.py:name` gives its name. And the
    dotted names of the drawing."""
    names = {("", name) for name in _diagram_names()}
    for span in re.findall(r"`([^`\n]+)`", DOC):
        span = span.removesuffix("()")
        if ".py:" in span:
            path, name = span.split(":", 1)
            names.add((path, name))
            continue
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*", span) or span.endswith(".py"):
            continue
        if span in NOT_IN_THE_TREE:
            continue
        if "." in span or "_" in span or re.fullmatch(r"(?:[A-Z][a-z0-9]+){1,}[A-Za-z0-9]*|[A-Z0-9_]+", span):
            names.add(("", span))
    return sorted(names)


def test_the_page_names_code_names():
    tokens = [name for _, name in code_names()]
    for expected in ("engine.run.read_and_check", "read_for_store", "CommandLoadError", "LazyGroup",
                     "engine.reader.parse"):
        assert expected in tokens or any(t.endswith("." + expected) for t in tokens), expected


@pytest.mark.parametrize("path, name", code_names())
def test_every_code_name_the_page_mentions_exists(path, name):
    if path:
        assert name in Module(ROOT / path).names, f"{path} defines no {name}"
        return
    assert resolves(name), f"docs/architecture.md names `{name}`, which nothing in profreg/ or lsp/ defines"
