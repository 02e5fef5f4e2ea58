"""Fixtures for the store tests: one parametrized fixture runs a test against every backend."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from profreg.stores import Store, open_store

BACKENDS = ("memory", "yaml", "sqlite", "postgres")


class Backend:
    """Opens stores of one kind at a fixed location (memory: always the same instance)."""

    def __init__(self, kind: str, directory: Path, pg_spec: str = "") -> None:
        self.kind = kind
        self.path = directory / {"memory": "", "yaml": "store.yaml", "sqlite": "store.db", "postgres": ""}[kind]
        self.pg_spec = pg_spec
        self._memory: Store | None = None
        self.opened: list[Store] = []

    @property
    def spec(self) -> str:
        if self.kind == "postgres":
            return self.pg_spec
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


def make_backend(request, kind: str, directory: Path) -> Backend:
    """A Backend of `kind`; PostgreSQL ones get a fresh schema on the test server."""
    return Backend(kind, directory, request.getfixturevalue("pg_spec") if kind == "postgres" else "")


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path) -> Backend:
    made = make_backend(request, request.param, tmp_path)
    yield made
    made.close_all()


@pytest.fixture(params=("yaml", "sqlite", "postgres"))
def file_backend(request, tmp_path) -> Backend:
    """The persistent backends (what a reopened store must still hold)."""
    made = make_backend(request, request.param, tmp_path)
    yield made
    made.close_all()


@pytest.fixture
def store(backend) -> Store:
    return backend.open()


@pytest.fixture(params=("sqlite", "postgres"))
def sql_backend(request, tmp_path) -> Backend:
    """The backends that keep history (SPEC section 4, History)."""
    made = make_backend(request, request.param, tmp_path)
    yield made
    made.close_all()


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """A private validation-cache folder for the test (PROFREG_CACHE_DIR)."""
    directory = tmp_path / "cache"
    monkeypatch.setenv("PROFREG_CACHE_DIR", str(directory))
    return directory


def two_resolves(store: str, cache_dir: Path, prefixes: tuple[str, ...]) -> tuple[list[dict], list[list[str]]]:
    """`profreg resolve agent --store STORE` in two fresh processes sharing one cache folder:
    (each run's JSON output, each run's loaded modules whose names start with a prefix)."""
    probe = (
        "import sys, json\n"
        "from profreg.cli import main\n"
        "try:\n"
        f"    main(['resolve', 'agent', '--store', {store!r}, '--format', 'json'])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"sys.stderr.write(json.dumps(sorted(m for m in sys.modules if m.startswith({prefixes!r}))))\n"
    )
    env = dict(os.environ, PROFREG_CACHE_DIR=str(cache_dir))
    runs = [subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env) for _ in range(2)]
    return ([json.loads(run.stdout) for run in runs],
            [json.loads(run.stderr.strip().splitlines()[-1]) for run in runs])
