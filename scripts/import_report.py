"""Imports inside functions and import cycles among the project's modules, by reading the
source with `ast` (nothing is imported).

    python scripts/import_report.py [ROOT]        # ROOT defaults to the repository

Counts every `import`/`from ... import` statement nested in a function (TYPE_CHECKING
blocks are not imports at run time and are left out), lists them with `-v`, and reports the
strongly connected components (cycles) of the graph of imports between modules of
`profreg` and `lsp` (imported as `profreg_lsp`): once for module-level imports, once with
the imports inside functions too (a cycle there is one "dodged" by a late import). A
package's `__init__` running before its submodules is not counted as an edge.
"""
from __future__ import annotations

import ast
import os
import sys

PACKAGES = {"profreg": "profreg", "lsp": "profreg_lsp"}


def modules(root: str) -> dict[str, str]:
    found = {}
    for directory, name in PACKAGES.items():
        base = os.path.join(root, directory)
        for folder, _dirs, files in os.walk(base):
            for file in files:
                if file.endswith(".py"):
                    rel = os.path.relpath(os.path.join(folder, file), base)[:-3].split(os.sep)
                    if rel[-1] == "__init__":
                        rel = rel[:-1]
                    found[".".join([name, *rel])] = os.path.join(folder, file)
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join(parts + ([node.module] if node.module else []))


def scan(root: str):
    mods = modules(root)
    inside: list[tuple[str, int, str]] = []
    graph: dict[str, set[str]] = {m: set() for m in mods}
    late: dict[str, set[str]] = {m: set() for m in mods}
    for module, path in mods.items():
        tree = ast.parse(open(path, encoding="utf-8").read(), path)
        is_package = path.endswith("__init__.py")

        def targets(node) -> list[str]:
            if isinstance(node, ast.Import):
                return [alias.name for alias in node.names]
            base = _resolve(module, is_package, node)
            # `from pkg import mod` imports the submodule; `from mod import name`, the module
            return [f"{base}.{alias.name}" if f"{base}.{alias.name}" in mods else base for alias in node.names]

        def visit(node, in_function: bool) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.If) and _is_type_checking(child):
                    continue
                if isinstance(child, (ast.Import, ast.ImportFrom)):
                    if in_function:
                        names = ", ".join(a.name for a in child.names)
                        where = "." * getattr(child, "level", 0) + (getattr(child, "module", None) or "")
                        inside.append((path, child.lineno, f"{where}: {names}" if where else names))
                    for target in targets(child):
                        # `from . import x` names a module; `from .m import f` the module m
                        while target and target not in mods and "." in target:
                            target = target.rsplit(".", 1)[0]
                        if target in mods and target != module:
                            (late if in_function else graph)[module].add(target)
                    continue
                visit(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

        visit(tree, False)
    everything = {m: graph[m] | late[m] for m in mods}
    return inside, graph, everything


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(10000)

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "-v"]
    root = args[0] if args else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    inside, graph, everything = scan(root)
    if "-v" in sys.argv:
        for path, line, what in inside:
            print(f"{os.path.relpath(path, root)}:{line}: {what}")
    print(f"imports inside functions: {len(inside)}")
    for label, edges in (("module-level imports", graph), ("all imports, late ones included", everything)):
        found = cycles(edges)
        print(f"import cycles ({label}): {len(found)}")
        for component in found:
            print("  cycle: " + " <-> ".join(component))


if __name__ == "__main__":
    main()
