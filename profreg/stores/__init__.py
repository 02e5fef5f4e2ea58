"""Stores: one contract, interchangeable backends (memory, YAML file, SQLite, PostgreSQL).

`open_store(spec)` picks the backend from a store spec (SPEC section 4):
`PATH.yaml`/`PATH.yml` -> YAML file, `PATH.db`/`.sqlite`/`.sqlite3` -> SQLite,
`postgresql://…`/`postgres://…` -> PostgreSQL (the `postgres` extra), or explicitly
`yaml:PATH`, `sqlite:PATH`, `memory:`.
"""
from __future__ import annotations

import os

from ..errors import StoreError, UsageError
from .base import BaseStore
from .contract import Store, WriteOptions
from .memory import MemoryStore
from .pgspec import is_postgres_spec
from .yamlfile import YamlFileStore
from .yamlfile.store import NO_HISTORY

__all__ = ["Store", "BaseStore", "WriteOptions", "open_store", "store_kind", "no_history_reason"]

YAML_SUFFIXES = (".yaml", ".yml")
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
POSTGRES_EXTRA_MISSING = (
    "a PostgreSQL store needs the `postgres` extra (psycopg 3): pip install 'profreg[postgres]'"
)


def store_kind(spec: str) -> tuple[str, str]:
    """(kind, path) for a store spec; kind is "yaml", "sqlite", "postgres" or "memory" (for
    PostgreSQL the "path" is the URL). UsageError if unknown."""
    spec = (spec or "").strip()
    if is_postgres_spec(spec):
        return "postgres", spec
    prefix, sep, rest = spec.partition(":")
    if sep and prefix in ("yaml", "sqlite", "memory"):
        if prefix != "memory" and not rest:
            raise UsageError(f"store spec {spec!r} names no file")
        return prefix, rest
    suffix = os.path.splitext(spec)[1].lower()
    if suffix in YAML_SUFFIXES:
        return "yaml", spec
    if suffix in SQLITE_SUFFIXES:
        return "sqlite", spec
    raise UsageError(
        f"unknown store {spec!r}: use PATH.yaml, PATH.yml, PATH.db, PATH.sqlite, PATH.sqlite3, "
        "postgresql://…, yaml:PATH or sqlite:PATH"
    )


def no_history_reason(spec: str) -> str | None:
    """Why the store a spec names keeps no history of its own, said without opening it (a
    YAML file's history is its version control); None for the stores that keep one."""
    kind, path = store_kind(spec)
    return NO_HISTORY.format(name=path) if kind == "yaml" else None


def open_store(spec: str, *, must_exist: bool = False, legacy_registry: str = "default", lazy: bool = False,
               source_map: bool = True) -> Store:
    """Open the store a spec names. Opening and reading create nothing on disk: a YAML file or
    SQLite database that does not exist yet is an empty store, created with any missing
    parent folders by the first write (see `contract`, "A store that does not exist yet").

    must_exist=True: a missing file is a UsageError (exit 2) instead, for inputs that must
    be there (a `migrate` source). `legacy_registry`: the slug a legacy-form YAML file is
    read as (SPEC section 2). `lazy`: a YAML file is read when first asked, not now, so
    one that does not read can still be checked (`check()`) or replaced (a replacing
    `import_registries`); the database stores connect as always. `source_map=False`: a
    YAML store keeps no node tree of the file between writes (see `YamlFileStore`).
    """
    kind, path = store_kind(spec)
    if kind == "memory":
        return MemoryStore()
    if kind == "postgres":
        return _open_postgres(path)
    if must_exist and not os.path.exists(path):
        raise UsageError(f"store file {path} does not exist")
    if kind == "yaml":
        return YamlFileStore(path, legacy_registry=legacy_registry, lazy=lazy, source_map=source_map)
    from .sqlite import SqliteStore  # sqlite3: loaded only by processes that open a database

    return SqliteStore(path)


def _open_postgres(url: str) -> Store:
    try:
        from .postgres import PostgresStore
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] == "psycopg":
            raise StoreError(POSTGRES_EXTRA_MISSING) from None
        raise
    return PostgresStore(url)
