"""The in-memory store: the reference backend (tests, `memory:` spec)."""
from __future__ import annotations

import threading
from typing import Callable, Sequence

from .base import BaseStore
from .contract import Change, HistoryRow, Registry


class MemoryStore(BaseStore):
    kind = "memory"

    def __init__(self, registries: list[Registry] | None = None) -> None:
        super().__init__("memory:")
        self._registries: dict[str, Registry] = {}
        self._lock = threading.RLock()
        self._generation = 0  # counts commits: the change token
        for registry in registries or ():
            self.import_registry(registry)

    def change_token(self) -> int:
        self._check_open()
        return self._generation

    def _registry_slugs(self) -> list[str]:
        return list(self._registries)

    def _load_registry(self, slug: str) -> Registry | None:
        return self._registries.get(slug)

    def _load_all(self) -> tuple[list[Registry], list[tuple[str, str]]]:
        return list(self._registries.values()), []

    def _commit(self, slug: str, change: Change, *, read_current: bool = True) -> Registry | None:
        with self._lock:
            result = change(self._registries.get(slug))
            self._generation += 1
            if result is None:
                self._registries.pop(slug, None)
            else:
                self._registries[slug] = result
            return result

    def _commit_all(self, registries: dict[str, Registry], replace: bool, *,
                    history: Sequence[HistoryRow] | None = None, document: bytes | None = None,
                    check: Callable[[], None] | None = None) -> None:
        with self._lock:  # all at once, as one transaction would (no history kept, no document)
            if check is not None:
                check()
            if replace:
                self._registries = {}
            self._registries.update(registries)
            self._generation += 1

    def _close(self) -> None:
        self._registries = {}
