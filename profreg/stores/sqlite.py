"""The SQLite store (sqlite-utils 4), in the original Go implementation's layout.

One row per registry: `profile_registries(slug, payload_json, updated_at_ms)`, the payload
being the registry as JSON with the schema's field names, so databases written by the Go
implementation open here and the other way round; and the history,
`profile_registry_versions` (rows, decoding, caching, commits and history:
`profreg.stores.sqlrows`, shared with PostgreSQL).

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
import os
import sqlite3
import time
from typing import Any, Iterable, Iterator, Sequence

from ..errors import StoreError
from .contract import LOCK_WAIT_NOTICE_S as WAIT_NOTICE_S
from .paths import create_parent_folders, store_file_exists
from .sqlrows import DEFAULT_CACHE_CHARS, TABLE, VERSIONS_TABLE, RowStore

BUSY_TIMEOUT_S = 30.0  # reads, and writes without a lock_timeout
BUSY_SLICE_S = 0.1  # one SQLite busy wait while a write polls for the lock
# The migration set and the names of its migrations, as `sqlite_schema.MIGRATIONS` defines
# them (a test keeps the two in step), and the table sqlite-utils records them in.
MIGRATION_SET = "profreg"
KNOWN_MIGRATIONS = frozenset({"0001_profile_registries", "0002_profile_registry_versions"})
MIGRATIONS_TABLE = "_sqlite_migrations"

def _create_private_file(path: str) -> None:
    """Create an empty database file readable by its owner only (SQLite accepts an empty file)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


class SqliteStore(RowStore):
    kind = "SQLite"
    # The payload, unless it is over the size limit (the parameter): then NULL, with its size.
    bounded_payload = (
        "CASE WHEN length(CAST(payload_json AS BLOB)) > ? THEN NULL ELSE payload_json END, "
        "length(CAST(payload_json AS BLOB))"
    )

    def __init__(self, path: str | os.PathLike[str], *, cache_chars: int = DEFAULT_CACHE_CHARS) -> None:
        super().__init__(os.fspath(path), cache_chars=cache_chars)
        self.path = os.fspath(path)
        self._has_history_table = False
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
        if self._note_newer_migrations(applied, KNOWN_MIGRATIONS):
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

    # ---- the RowStore primitives ----------------------------------------------------------------
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def _executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)

    def _write_transaction(self, slugs: Sequence[str]) -> contextlib.AbstractContextManager:
        self._create_if_missing()
        self._check_writable()  # a database that appeared meanwhile may be a newer profreg's
        return self._immediate()  # SQLite has one writer at a time: the whole database

    def _tables_exist(self) -> bool:
        return not self._missing()

    def _history_exists(self) -> bool:
        if not self._has_history_table:
            self._has_history_table = bool(self.conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [VERSIONS_TABLE]
            ).fetchone())
        return self._has_history_table

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

    def _guard(self, operation, *args):
        """Run a database operation; SQLite failures (locked, read-only, I/O) become StoreError."""
        try:
            return operation(*args)
        except sqlite3.OperationalError as exc:
            raise StoreError(f"SQLite store {self.path}: {exc}") from None
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"SQLite store {self.path} is unreadable: {exc}") from None

    def _disconnect(self) -> None:
        if self._conn is not None:
            self._conn.close()
