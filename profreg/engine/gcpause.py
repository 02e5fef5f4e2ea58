"""Pausing Python's cyclic garbage collector around bulk work on large documents.

Reading a large file allocates a great many acyclic objects (nodes, dicts, strings) that
reference counting frees on its own; left on, the cyclic collector rescans them again and
again. The reader and the engine's run pause it (nothing else does); paused, never disabled
for good: the previous state comes back on exit, so in-process callers (tests, the
language server) are unaffected.
"""
from __future__ import annotations

import contextlib
import gc
from typing import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
