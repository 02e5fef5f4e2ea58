"""The PostgreSQL store (psycopg 3, the `postgres` extra): registries shared by many hosts.

The spec is a libpq connection URL (`postgresql://…` or `postgres://…`); profreg's own
query parameter `schema=NAME` (default `public`) names the schema holding the tables, and is
not passed to libpq. A password comes from the URL, `PGPASSWORD` or `~/.pgpass`; messages
show the URL without it.

- Tables as in SQLite (`profreg.stores.sqlrows`), `payload_json` being `jsonb`. Schema
  changes are versioned migrations recorded in `profreg_migrations(name, applied_at_ms)`,
  applied under an advisory lock at the first write (reads create nothing: a database
  without the tables is an empty store), idempotent; a database that records a migration
  this profreg does not know comes from a newer profreg and is refused for writes.
- Each mutation is one transaction that takes an advisory lock on the registry's slug
  (that covers a registry that does not exist yet, which a row lock cannot), reads the
  row, checks versions, writes the row and its history row, and sends
  `NOTIFY profreg_changes` with `{"registry": SLUG, "version": N}` (0: deleted): listeners
  hear of a write exactly when it commits. A bulk import holds the store-wide lock that
  single-registry writers share.
- Reads touch only the rows they need; a corrupt row fails only its registry.
"""
from __future__ import annotations

import contextlib
import json
import time
from typing import Any, Iterable, Iterator, Sequence
from urllib.parse import parse_qsl, urlsplit

import psycopg
from psycopg import sql

from ..errors import StoreError
from .pgspec import password_of, redacted, split_spec
from .sqlrows import DEFAULT_CACHE_CHARS, TABLE, VERSIONS_TABLE, RowStore

CHANNEL = "profreg_changes"
CONNECT_TIMEOUT_S = 10
DEFAULT_LOCK_TIMEOUT_S = 30.0
FALLBACK_CHECK_S = 1.0  # change_token: how often the newest history row is looked up anyway  # how long a write waits for another writer of its registry
MIGRATIONS_TABLE = "profreg_migrations"
# name -> statements; {registries}, {versions}, {migrations} are the schema-qualified tables.
MIGRATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("0001_profile_registries", (
        "CREATE TABLE IF NOT EXISTS {registries} (slug text PRIMARY KEY, payload_json jsonb NOT NULL, "
        "updated_at_ms bigint NOT NULL DEFAULT 0)",
    )),
    ("0002_profile_registry_versions", (
        "CREATE TABLE IF NOT EXISTS {versions} (id bigserial PRIMARY KEY, slug text NOT NULL, "
        "version bigint NOT NULL, payload_json jsonb, updated_at_ms bigint NOT NULL DEFAULT 0, "
        "updated_by text NOT NULL DEFAULT '', source text NOT NULL DEFAULT '')",
        "CREATE INDEX IF NOT EXISTS profile_registry_versions_slug_id ON {versions} (slug, id)",
    )),
)
KNOWN_MIGRATIONS = frozenset(name for name, _statements in MIGRATIONS)


def _connect(conninfo: str, display: str) -> psycopg.Connection:
    params = dict(parse_qsl(urlsplit(conninfo).query))
    extra: dict[str, Any] = {} if "connect_timeout" in params else {"connect_timeout": CONNECT_TIMEOUT_S}
    if "application_name" not in params:
        extra["application_name"] = "profreg"
    try:
        return psycopg.connect(conninfo, autocommit=True, **extra)
    except psycopg.Error as exc:
        raise StoreError(f"cannot open PostgreSQL store {display}: {_one_line(exc, conninfo)}") from None


def _one_line(exc: BaseException, conninfo: str) -> str:
    """The driver's message as one line, the password (if any) never in it."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    password = password_of(conninfo)
    return text.replace(password, "***") if password else text


class PostgresStore(RowStore):
    kind = "PostgreSQL"
    payload_column = "payload_json::text"
    bounded_payload = (
        "CASE WHEN octet_length(payload_json::text) > ? THEN NULL ELSE payload_json::text END, "
        "octet_length(payload_json::text)"
    )

    def __init__(self, spec: str, *, cache_chars: int = DEFAULT_CACHE_CHARS) -> None:
        conninfo, schema = split_spec(spec)
        super().__init__(redacted(spec), cache_chars=cache_chars)
        self._conninfo = conninfo
        self.schema = schema
        self.conn = _connect(conninfo, self.name)
        quote = lambda name: sql.Identifier(schema, name).as_string(self.conn)  # noqa: E731
        self.registries_table = quote(TABLE)
        self.versions_table = quote(VERSIONS_TABLE)
        self.migrations_table = quote(MIGRATIONS_TABLE)
        self._lock_class = f"{schema}.{TABLE}"
        self._known_tables: set[str] = set()
        self._migrated = False
        self._token_listener: ChangeListener | None = None  # change_token's, made at its first call
        self._heard = self._newest_row = 0
        self._fallback_at = 0.0
        self._guard(self._check_migrations)

    # ---- schema and migrations ----------------------------------------------------------------
    def _existing_tables(self) -> set[str]:
        """Which of profreg's tables exist (a fresh database has none)."""
        row = self._execute("SELECT to_regclass(?), to_regclass(?), to_regclass(?)",
                            [self.migrations_table, self.registries_table, self.versions_table]).fetchone()
        names = (MIGRATIONS_TABLE, TABLE, VERSIONS_TABLE)
        self._known_tables = {name for name, oid in zip(names, row) if oid is not None}
        return self._known_tables

    def _applied_migrations(self) -> set[str]:
        if MIGRATIONS_TABLE not in self._existing_tables():
            return set()
        return {name for (name,) in self._execute(f"SELECT name FROM {self.migrations_table}")}

    def _check_migrations(self) -> None:
        applied = self._applied_migrations()
        self._note_newer_migrations(applied, KNOWN_MIGRATIONS)
        self._migrated = KNOWN_MIGRATIONS <= applied

    def _migrate(self) -> None:
        """Apply the pending migrations, one transaction, serialised across hosts."""
        tables = {"registries": self.registries_table, "versions": self.versions_table,
                  "migrations": self.migrations_table}
        with self.conn.transaction():
            self._execute("SELECT pg_advisory_xact_lock(hashtext(?), 0)", [f"{self.schema}.migrations"])
            self._execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema))
                          .as_string(self.conn))
            self._execute(f"CREATE TABLE IF NOT EXISTS {self.migrations_table} "
                          "(name text PRIMARY KEY, applied_at_ms bigint NOT NULL)")
            applied = self._applied_migrations()
            for name, statements in MIGRATIONS:
                if name in applied:
                    continue
                for statement in statements:
                    self._execute(statement.format(**tables))
                self._execute(f"INSERT INTO {self.migrations_table} (name, applied_at_ms) VALUES (?, ?)",
                              [name, time.time_ns() // 1_000_000])
        self._check_migrations()

    def exists(self) -> bool:
        self._check_open()
        return self._guard(self._tables_exist)

    def _tables_exist(self) -> bool:
        return TABLE in self._known_tables or TABLE in self._existing_tables()

    def _history_exists(self) -> bool:
        return VERSIONS_TABLE in self._known_tables or VERSIONS_TABLE in self._existing_tables()

    # ---- the RowStore primitives ----------------------------------------------------------------
    def _execute(self, statement: str, params: Sequence[Any] = ()) -> Any:
        return self.conn.execute(statement.replace("?", "%s"), params)

    def _executemany(self, statement: str, rows: Iterable[Sequence[Any]]) -> None:
        with self.conn.cursor() as cursor:
            cursor.executemany(statement.replace("?", "%s"), list(rows))

    @contextlib.contextmanager
    def _write_transaction(self, slugs: Sequence[str]) -> Iterator[None]:
        self._check_writable()
        if not self._migrated:
            self._migrate()
            self._check_writable()
        # Pipeline mode: BEGIN, the locks and the row's read go in one round trip, the
        # writes, NOTIFY and COMMIT in another.
        with self.conn.pipeline(), self.conn.transaction():
            timeout = DEFAULT_LOCK_TIMEOUT_S if self.lock_timeout is None else self.lock_timeout
            self._execute("SELECT set_config('lock_timeout', ?, true)", [f"{max(int(timeout * 1000), 1)}ms"])
            # Every writer shares the store-wide key and a bulk import takes it alone; the
            # writers of one registry take its slug's key.
            if slugs:
                keys = ", ".join(["pg_advisory_xact_lock(hashtext(?), hashtext(?))"] * len(slugs))
                params = [value for slug in sorted(slugs) for value in (self._lock_class, slug)]
                self._execute(f"SELECT pg_advisory_xact_lock_shared(hashtext(?), 0), {keys}",
                              [self._lock_class + "*", *params])
            else:
                self._execute("SELECT pg_advisory_xact_lock(hashtext(?), 0)", [self._lock_class + "*"])
            yield

    def _announce(self, slug: str, version: int) -> None:
        self._execute("SELECT pg_notify(?, ?)", [CHANNEL, json.dumps({"registry": slug, "version": version})])

    def _guard(self, operation, *args):
        try:
            return operation(*args)
        except psycopg.errors.LockNotAvailable:
            timeout = DEFAULT_LOCK_TIMEOUT_S if self.lock_timeout is None else self.lock_timeout
            raise StoreError(f"PostgreSQL store {self.name}: a registry is locked by another writer; gave up "
                             f"after {timeout:g} s (--lock-timeout SECONDS to wait longer)") from None
        except psycopg.OperationalError as exc:
            raise StoreError(f"PostgreSQL store {self.name}: {_one_line(exc, self._conninfo)}") from None
        except psycopg.Error as exc:
            raise StoreError(f"PostgreSQL store {self.name} is unreadable: {_one_line(exc, self._conninfo)}") from None

    def _close(self) -> None:
        if self._token_listener is not None:
            self._token_listener.close()
        super()._close()

    # ---- for applications (profreg.connect, watch) -------------------------------------------
    def change_token(self) -> tuple[int, int, int]:
        """Differs once another host's commit is heard of: a NOTIFY counted by this store's
        own listener (at once), else the newest history row (looked up at most once per
        FALLBACK_CHECK_S, and on every call while the listener is down); and this store's
        own writes."""
        self._check_open()
        now = time.monotonic()
        try:
            if self._token_listener is None:
                self._token_listener = ChangeListener(self._conninfo, self.name)
                self._fallback_at = 0.0
            if self._token_listener.poll(0):
                self._heard += 1
        except StoreError:  # no listener: ask the database every time
            if self._token_listener is not None:
                self._token_listener.close()
            self._token_listener, self._fallback_at = None, 0.0
        if now - self._fallback_at >= FALLBACK_CHECK_S:
            self._fallback_at = now if self._token_listener is not None else 0.0
            self._newest_row = self._guard(self._newest_history_id)
        return self._heard, self._newest_row, self._own_writes

    def _newest_history_id(self) -> int:
        if not self._history_exists():
            return 0
        return self._execute(f"SELECT coalesce(max(id), 0) FROM {self.versions_table}").fetchone()[0]

    def registry_states(self) -> dict[str, tuple[int, object]]:
        """From the rows' version, timestamp and payload size; no payload is decoded."""
        self._check_open()
        if not self._guard(self._tables_exist):
            return {}
        rows = self._guard(lambda: self._execute(
            "SELECT slug, CASE WHEN jsonb_typeof(payload_json->'metadata'->'version') = 'number' "
            "THEN (payload_json->'metadata'->>'version')::numeric END, updated_at_ms, "
            f"octet_length(payload_json::text) FROM {self.registries_table}"
        ).fetchall())
        return {slug: (int(version) if version is not None and version == int(version) else 0,
                       (version, updated, size)) for slug, version, updated, size in rows}

    def listen(self) -> "ChangeListener":
        """A dedicated connection listening on `profreg_changes`."""
        self._check_open()
        return ChangeListener(self._conninfo, self.name)


class ChangeListener:
    """`LISTEN profreg_changes` on its own connection; `poll(timeout)` returns the events."""

    def __init__(self, conninfo: str, display: str) -> None:
        self._conninfo = conninfo
        self.name = display
        self.conn = _connect(conninfo, display)
        self._closed = False
        self._guard(lambda: self.conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL))))

    def poll(self, timeout: float) -> list[dict[str, Any]]:
        """Wait up to `timeout` seconds for a change; every event that arrived, maybe none.

        Each event is `{"registry": SLUG, "version": N}` (0: the registry was deleted)."""
        if self._closed:
            raise StoreError(f"change listener on PostgreSQL store {self.name} is closed")

        def receive() -> list[dict[str, Any]]:
            got = list(self.conn.notifies(timeout=timeout, stop_after=1))
            if got:  # and whatever else is already there
                got += list(self.conn.notifies(timeout=0.001))
            return [event for event in map(_event, got) if event is not None]

        return self._guard(receive)

    def _guard(self, operation):
        try:
            return operation()
        except psycopg.Error as exc:
            raise StoreError(f"change listener on PostgreSQL store {self.name}: "
                             f"{_one_line(exc, self._conninfo)}") from None

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.conn.close()

    def __enter__(self) -> "ChangeListener":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _event(notification: Any) -> dict[str, Any] | None:
    try:
        payload = json.loads(notification.payload)
    except ValueError:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("registry"), str):
        return None
    return {"registry": payload["registry"], "version": payload.get("version")}
