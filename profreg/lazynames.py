"""Names a package exports but defines in its modules, each imported when first used (PEP 562).

`profreg` (the Python API) and `profreg.engine` (the engine's face) export this way, so that
importing the package, as the CLI does at start-up, loads none of the modules behind it.
"""
from __future__ import annotations

import importlib
import sys
from typing import Any, Callable


def lazy_names(package: str, module_of: dict[str, str],
               exported: list[str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The package's `__getattr__` and `__dir__`: `module_of` maps each name to the module
    (relative to the package) that defines it; a name once found is set on the package."""

    def __getattr__(name: str) -> Any:
        module = module_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{module}", package), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(exported)

    return __getattr__, __dir__
