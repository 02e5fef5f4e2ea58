"""Pausing Python's cyclic garbage collector around bulk work on large documents.

Reading a large file allocates a great many acyclic objects (nodes, dicts, strings) that
reference counting frees on its own; left on, the cyclic collector rescans them again and
again. The reader and the engine's run pause it (nothing else does); paused, never disabled
for good: the previous state comes back on exit, so in-process callers (tests, the
language server) are unaffected. What survives a pause is counted as old on the way out, so
the collection that follows does not scan the whole document at once.

A document a process keeps for its session (the language server's open documents) is read
once and then edited a little at a time: `keep_out_of_scans` moves what is alive after
such a read out of the collector's reach (`gc.freeze`), so each later collection does not
scan the whole document again. Frozen objects are still freed when their last reference
goes; only a reference cycle among them would stay (the server's structures have none).
"""
from __future__ import annotations

import contextlib
import gc
from typing import Iterator

# Whether `keep_out_of_scans` has frozen anything in this process. Asked before
# `gc.get_freeze_count()`, which walks every frozen object: after a large document is kept
# out of scans, that walk would cost each later pause (each keystroke in the server) a
# pass over the whole document.
_kept_out = False


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            _age_without_scan()
            gc.enable()


def _age_without_scan() -> None:
    """Count what survived the pause as old, without scanning it.

    Everything allocated during a pause waits in the youngest generation, so the first
    collection after it would scan all of it at once (a whole document still held by the
    result). `freeze` then `unfreeze` moves it to the oldest generation in one step and
    resets the young count, as if it had aged there. Only when nothing else is frozen:
    `unfreeze` would also release what a caller keeps out of scans (`keep_out_of_scans`).
    """
    if not _kept_out and gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()


def keep_out_of_scans() -> None:
    global _kept_out
    _kept_out = True
    gc.freeze()
