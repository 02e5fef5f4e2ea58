"""Fixtures for the store tests: one parametrized fixture runs a test against every backend."""
from __future__ import annotations

from pathlib import Path

import pytest

from profreg.stores import Store, open_store

BACKENDS = ("memory", "yaml", "sqlite")


class Backend:
    """Opens stores of one kind at a fixed location (memory: always the same instance)."""

    def __init__(self, kind: str, directory: Path) -> None:
        self.kind = kind
        self.path = directory / {"memory": "", "yaml": "store.yaml", "sqlite": "store.db"}[kind]
        self._memory: Store | None = None
        self.opened: list[Store] = []

    @property
    def spec(self) -> str:
        return "memory:" if self.kind == "memory" else f"{self.kind}:{self.path}"

    @property
    def persistent(self) -> bool:
        return self.kind != "memory"

    def open(self) -> Store:
        if self.kind == "memory":
            if self._memory is None:
                self._memory = open_store("memory:")
            return self._memory
        store = open_store(self.spec)
        self.opened.append(store)
        return store

    def close_all(self) -> None:
        for store in self.opened:
            store.close()


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path) -> Backend:
    made = Backend(request.param, tmp_path)
    yield made
    made.close_all()


@pytest.fixture(params=("yaml", "sqlite"))
def file_backend(request, tmp_path) -> Backend:
    made = Backend(request.param, tmp_path)
    yield made
    made.close_all()


@pytest.fixture
def store(backend) -> Store:
    return backend.open()
