"""The SQLite store (sqlite-utils 4), in the original Go implementation's layout.

One row per registry: `profile_registries(slug, payload_json, updated_at_ms)`, the payload
being the registry as JSON with the schema's field names, so databases written by the Go
implementation open here and the other way round.

- Schema changes go through `sqlite_utils.Migrations` (set "profreg", in `sqlite_schema`); a
  database that has migrations this profreg does not know comes from a newer profreg and is
  refused for writes. sqlite-utils is imported only when a migration is pending: opening an
  up-to-date database reads the migrations table with plain `sqlite3` (CLI start-up time is
  benchmarked, and sqlite-utils costs more to import than a whole resolve).
- WAL journal and a busy timeout; every mutation is one `BEGIN IMMEDIATE` transaction that
  reads the row, checks versions and writes, so concurrent processes lose no update.
- Reads touch only the rows they need (one row by primary key for a registry).
- A corrupt row (bad JSON, row slug != payload slug, invalid payload) fails only the
  operations on that registry, with a StoreError naming it.
"""
from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from typing import Iterator

from cachetools import LRUCache

from ..errors import ProfregError, StoreError
from ..limits import current_limits, nesting_exceeds
from .base import BaseStore
from .contract import LOCK_WAIT_NOTICE_S as WAIT_NOTICE_S, Change, Registry
from .paths import create_parent_folders, store_file_exists
from .writes import check_valid, normalise_registry

TABLE = "profile_registries"
BUSY_TIMEOUT_S = 30.0  # reads, and writes without a lock_timeout
BUSY_SLICE_S = 0.1  # one SQLite busy wait while a write polls for the lock
# Decoded, validated registries kept by payload size (characters of JSON): a process that
# reads many registries stays flat; one registry larger than this is simply not kept.
DEFAULT_CACHE_CHARS = 64 * 1024 * 1024

# The migration set and the names of its migrations, as `sqlite_schema.MIGRATIONS` defines
# them (a test keeps the two in step), and the table sqlite-utils records them in.
MIGRATION_SET = "profreg"
KNOWN_MIGRATIONS = frozenset({"0001_profile_registries"})
MIGRATIONS_TABLE = "_sqlite_migrations"

# The payload, unless it is over the size limit (the parameter): then NULL, with its size.
_BOUNDED_PAYLOAD = (
    "CASE WHEN length(CAST(payload_json AS BLOB)) > ? THEN NULL ELSE payload_json END, "
    "length(CAST(payload_json AS BLOB))"
)

UPSERT = (
    f"INSERT INTO {TABLE} (slug, payload_json, updated_at_ms) VALUES (?, ?, ?) "
    "ON CONFLICT(slug) DO UPDATE SET payload_json = excluded.payload_json, updated_at_ms = excluded.updated_at_ms"
)


def _row_values(slug: str, registry: Registry) -> tuple[str, str, int]:
    """The row a registry is stored as: slug, compact JSON payload, updated_at_ms."""
    updated = (registry.get("metadata") or {}).get("updated_at_ms", 0)
    return slug, json.dumps(registry, ensure_ascii=False, separators=(",", ":")), updated if isinstance(updated, int) else 0


def _create_private_file(path: str) -> None:
    """Create an empty database file readable by its owner only (SQLite accepts an empty file)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


class SqliteStore(BaseStore):
    kind = "SQLite"

    def __init__(self, path: str | os.PathLike[str], *, cache_chars: int = DEFAULT_CACHE_CHARS) -> None:
        super().__init__(os.fspath(path))
        self.path = os.fspath(path)
        # slug -> (payload_json, registry): a row whose payload is unchanged is not decoded
        # or validated again.
        self._cache: LRUCache[str, tuple[str, Registry]] = LRUCache(
            maxsize=cache_chars, getsizeof=lambda entry: len(entry[0]) or 1
        )
        self._own_writes = 0  # this connection's commits, which data_version does not count
        self._read_only_reason = ""
        self._conn: sqlite3.Connection | None = None
        if os.path.isdir(self.path):
            raise StoreError(f"SQLite store {self.path} is a directory")
        if store_file_exists(self.path, f"SQLite store {self.path}"):
            self._open(create=False)
        # else: an empty store until the first write creates it (reads create nothing)

    @property
    def conn(self) -> sqlite3.Connection:
        """The connection. Reads ask `_missing()` first, so only a write gets here without a
        database: the first write creates it, and its missing parent folders."""
        self._create_if_missing()
        return self._conn

    def _create_if_missing(self) -> None:
        """Before a write: create the database if need be (then the migrations tell whether it
        was written by a newer profreg)."""
        if self._conn is None:
            self._open(create=True)

    def _open(self, *, create: bool) -> None:
        try:
            if create:
                create_parent_folders(self.path, f"SQLite store {self.path}")
                _create_private_file(self.path)
            # Not bound to the opening thread: a shared client serialises its calls itself.
            self._conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
            self._conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            self._enable_wal()
            self._migrate()
        except (sqlite3.DatabaseError, OSError) as exc:  # not a database, no permission, a file in the way
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise StoreError(f"cannot {'create' if create else 'open'} SQLite store {self.path}: {reason}") from None

    def _missing(self) -> bool:
        """Whether there is no database yet; one that has appeared since is opened."""
        if self._conn is not None:
            return False
        if not store_file_exists(self.path, f"SQLite store {self.path}"):
            return True
        self._open(create=False)
        return False

    def exists(self) -> bool:
        self._check_open()
        return not self._missing()

    def _enable_wal(self) -> None:
        if self.conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            self.conn.execute("PRAGMA journal_mode = wal")

    def _applied_migrations(self) -> set[str]:
        if not self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [MIGRATIONS_TABLE]
        ).fetchone():
            return set()
        rows = self.conn.execute(f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ?", [MIGRATION_SET])
        return {name for (name,) in rows}

    def _migrate(self) -> None:
        applied = self._applied_migrations()
        newer = sorted(applied - KNOWN_MIGRATIONS)
        if newer:
            self._read_only_reason = (
                f"SQLite store {self.path} was written by a newer profreg "
                f"(unknown migrations: {', '.join(newer)}); upgrade profreg to write to it"
            )
            return
        if KNOWN_MIGRATIONS <= applied:
            return
        from .sqlite_schema import apply_migrations  # sqlite-utils: only when something is pending

        with self._immediate():  # serialises processes that open a fresh database at once
            apply_migrations(self.conn)

    def _begin_immediate(self) -> None:
        """BEGIN IMMEDIATE, waiting up to `lock_timeout` for another writer.

        SQLite's own busy wait is not interrupted by Ctrl-C, so it is kept to short slices
        polled from here; `on_lock_wait` is called once after WAIT_NOTICE_S of waiting."""
        conn = self.conn
        timeout = BUSY_TIMEOUT_S if self.lock_timeout is None else self.lock_timeout
        start = time.monotonic()
        noticed = False
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_SLICE_S * 1000)}")
        try:
            while True:
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) and "busy" not in str(exc):
                        raise
                waited = time.monotonic() - start
                if waited >= timeout:
                    raise StoreError(
                        f"SQLite store {self.path} is locked by another writer; gave up after "
                        f"{timeout:g} s (--lock-timeout SECONDS to wait longer)"
                    )
                if self.on_lock_wait is not None and not noticed and waited >= WAIT_NOTICE_S:
                    noticed = True
                    self.on_lock_wait()
        finally:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")

    @contextlib.contextmanager
    def _immediate(self) -> Iterator[None]:
        """One IMMEDIATE transaction: the write lock is taken before anything is read."""
        conn = self.conn
        self._begin_immediate()
        try:
            yield
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    # ---- decoding rows ------------------------------------------------------------------
    def _corrupt(self, slug: str, reason: str) -> StoreError:
        return StoreError(f"registry {slug!r} in SQLite store {self.path} is corrupt: {reason}")

    def _decode(self, slug: str, payload_json: str | None, size: int | None = None) -> Registry:
        cached = self._cache.get(slug)
        if cached is not None and payload_json is not None and cached[0] == payload_json:
            return cached[1]
        limits = current_limits()
        if payload_json is None:
            if size is not None:  # left unread by the query: over the size limit
                raise self._corrupt(slug, f"payload is {size} bytes, over the limit of {limits.max_bytes}")
            raise self._corrupt(slug, "payload is NULL")
        try:
            payload = json.loads(payload_json)
        except (TypeError, ValueError) as exc:  # ValueError: bad JSON, or an integer over 4300 digits
            raise self._corrupt(slug, f"payload is not JSON ({exc})") from None
        except RecursionError:
            raise self._corrupt(slug, f"payload nests deeper than the limit of {limits.max_depth} levels") from None
        too_big = nesting_exceeds(payload, limits.max_depth, limits.max_nodes)
        if too_big is not None:
            raise self._corrupt(slug, f"payload is over a limit: {too_big}")
        if not isinstance(payload, dict):
            raise self._corrupt(slug, "payload is not a JSON object")
        if payload.get("slug") not in (None, slug):
            raise self._corrupt(slug, f"payload slug {payload['slug']!r} differs from the row's")
        registry = normalise_registry(payload, slug)
        try:
            check_valid(registry)
        except ProfregError as exc:
            raise self._corrupt(slug, f"payload is invalid ({exc})") from None
        self._remember(slug, payload_json, registry)
        return registry

    def _remember(self, slug: str, payload_json: str, registry: Registry) -> None:
        self._cache.pop(slug, None)
        if len(payload_json) <= self._cache.maxsize:
            self._cache[slug] = (payload_json, registry)

    def _row(self, slug: str) -> tuple[str | None, int | None] | None:
        """(payload or None, its size in bytes) of the registry's row; None if there is none.

        The payload is NULL in the result when it is NULL in the row (a database not made
        here may allow that) or over the size limit (then it is never read into memory)."""
        return self.conn.execute(
            f"SELECT {_BOUNDED_PAYLOAD} FROM {TABLE} WHERE slug = ?", [current_limits().max_bytes, slug]
        ).fetchone()

    # ---- primitives ---------------------------------------------------------------------
    def _registry_slugs(self) -> list[str]:
        if self._missing():
            return []
        return self._guard(lambda: [row[0] for row in self.conn.execute(f"SELECT slug FROM {TABLE}")])

    def _load_registry(self, slug: str) -> Registry | None:
        if self._missing():
            return None
        row = self._guard(self._row, slug)
        return None if row is None else self._decode(slug, *row)

    def _load_all(self) -> tuple[list[Registry], list[tuple[str, str]]]:
        if self._missing():
            return [], []
        rows = self._guard(lambda: self.conn.execute(
            f"SELECT slug, {_BOUNDED_PAYLOAD} FROM {TABLE} ORDER BY slug", [current_limits().max_bytes]
        ).fetchall())
        healthy: list[Registry] = []
        corrupt: list[tuple[str, str]] = []
        for slug, payload_json, size in rows:
            try:
                healthy.append(self._decode(slug, payload_json, size))
            except StoreError as exc:
                corrupt.append((slug, str(exc)))
        return healthy, corrupt

    def change_token(self) -> tuple[int, int]:
        """`PRAGMA data_version` (commits by other connections) and this store's own commits."""
        self._check_open()
        if self._missing():  # no database yet: its creation changes the token
            return -1, self._own_writes
        return self._guard(lambda: self.conn.execute("PRAGMA data_version").fetchone()[0]), self._own_writes

    def registry_states(self) -> dict[str, tuple[int, object]]:
        """From the rows' version, timestamp and payload size; no payload is decoded."""
        self._check_open()
        if self._missing():
            return {}
        rows = self._guard(lambda: self.conn.execute(
            f"SELECT slug, CASE WHEN json_valid(payload_json) THEN json_extract(payload_json, '$.metadata.version') END, "
            f"updated_at_ms, length(payload_json) FROM {TABLE}"
        ).fetchall())
        return {slug: (version if isinstance(version, int) else 0, (version, updated, size))
                for slug, version, updated, size in rows}

    def _commit(self, slug: str, change: Change, *, read_current: bool = True) -> Registry | None:
        self._create_if_missing()
        if self._read_only_reason:
            raise StoreError(self._read_only_reason)

        def transaction() -> Registry | None:
            self._own_writes += 1
            with self._immediate():
                row = self._row(slug) if read_current else None
                current = None if row is None else self._decode(slug, *row)
                result = change(current)
                if result is None:
                    self.conn.execute(f"DELETE FROM {TABLE} WHERE slug = ?", [slug])
                    self._cache.pop(slug, None)
                    return None
                row = _row_values(slug, result)
                self.conn.execute(UPSERT, row)
                self._remember(slug, row[1], result)
                return result

        return self._guard(transaction)

    def _commit_all(self, registries: dict[str, Registry], replace: bool) -> None:
        self._create_if_missing()
        if self._read_only_reason:
            raise StoreError(self._read_only_reason)

        def transaction() -> None:
            self._own_writes += 1
            with self._immediate():  # one transaction, one fsync, however many registries
                if replace:
                    self.conn.execute(f"DELETE FROM {TABLE}")
                    self._cache.clear()
                rows = [_row_values(slug, registry) for slug, registry in registries.items()]
                self.conn.executemany(UPSERT, rows)
            for (slug, payload_json, _updated), registry in zip(rows, registries.values()):
                self._remember(slug, payload_json, registry)

        self._guard(transaction)

    def _guard(self, operation, *args):
        """Run a database operation; SQLite failures (locked, read-only, I/O) become StoreError."""
        try:
            return operation(*args)
        except sqlite3.OperationalError as exc:
            raise StoreError(f"SQLite store {self.path}: {exc}") from None
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"SQLite store {self.path} is unreadable: {exc}") from None

    def _close(self) -> None:
        self._cache.clear()
        if self._conn is not None:
            self._conn.close()
