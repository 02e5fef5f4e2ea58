"""profreg: profile registries — schema, validation, stores, resolution, CLI, language server.

The Python API for applications (SPEC section 5, *Applications*)::

    import profreg

    with profreg.connect("profiles.yaml") as client:
        resolution = client.resolve("agent", overrides={"tools": ["search"]})
        print(resolution.fingerprint, resolution.effective_settings)

`connect`, `Client`, `Resolution` and the typed errors are importable from here. The API's
modules are loaded on first use of one of these names, so `import profreg` (and the CLI's
start-up) stays as light as before.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import (
    NotFoundError,
    PolicyViolationError,
    ProfregError,
    StoreError,
    UsageError,
    ValidationError,
    VersionConflictError,
)
from .lazynames import lazy_names

if TYPE_CHECKING:
    from .client import ChangeEvent, Client, connect
    from .resolve import Resolution

__version__ = "0.1.0"

__all__ = [
    "ChangeEvent",
    "Client",
    "NotFoundError",
    "PolicyViolationError",
    "ProfregError",
    "Resolution",
    "StoreError",
    "UsageError",
    "ValidationError",
    "VersionConflictError",
    "__version__",
    "connect",
]

# name -> module that defines it, imported when the name is first used (PEP 562)
_LAZY = {
    "connect": "client",
    "Client": "client",
    "ChangeEvent": "client",
    "Resolution": "resolve",
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY, __all__)
