"""What the SQL backends (SQLite, PostgreSQL) share: one JSON payload row per registry, and
the registry's history.

Tables (SPEC section 4), the same on both:
- `profile_registries(slug, payload_json, updated_at_ms)`: the current registries;
- `profile_registry_versions(id, slug, version, payload_json, updated_at_ms, updated_by,
  source)`: one row per committed mutation, appended in the mutation's own transaction and
  never changed or removed by a write. `id` orders the rows (a registry deleted and created
  again starts at version 1 again, so `(slug, version)` alone is not unique); a deletion is
  a row whose `payload_json` is NULL, its version one past the deleted registry's.

A backend supplies a connection (`_execute`, with `?` placeholders), a write transaction
that serialises writers of one registry (`_write_transaction`), the mapping of driver errors
to StoreError (`_guard`), and optionally a hook run inside each write's transaction
(`_announce`, PostgreSQL's NOTIFY). Decoding rows, the payload cache, the commit sequence
and the history are here, identical for both.
"""
from __future__ import annotations

import abc
import contextlib
import json
from typing import Any, Callable, Iterable, Sequence

from cachetools import LRUCache

from .. import engine
from ..errors import ProfregError, StoreError
from ..limits import current_limits, nesting_exceeds
from . import validcache
from .base import BaseStore
from .contract import Change, HistoryRow, Registry
from .writes import check_valid, normalise_registry, version_of

TABLE = "profile_registries"
VERSIONS_TABLE = "profile_registry_versions"
# Decoded, validated registries kept by payload size (characters of JSON): a process that
# reads many registries stays flat; one registry larger than this is simply not kept.
DEFAULT_CACHE_CHARS = 64 * 1024 * 1024

HISTORY_FIELDS = ("slug", "version", "registry", "updated_at_ms", "updated_by", "source")


def payload_text(registry: Registry) -> str:
    """A registry as the compact JSON text stored in `payload_json`."""
    return json.dumps(registry, ensure_ascii=False, separators=(",", ":"))


def updated_at_of(registry: Registry | None) -> int:
    updated = ((registry or {}).get("metadata") or {}).get("updated_at_ms", 0)
    return updated if isinstance(updated, int) and not isinstance(updated, bool) else 0


def _metadata_text(registry: Registry | None, name: str) -> str:
    value = ((registry or {}).get("metadata") or {}).get(name)
    return value if isinstance(value, str) else ""


class RowStore(BaseStore):
    """A store of JSON payload rows with history; subclasses bind it to a database driver."""

    # How a payload column reads as JSON text (PostgreSQL: `payload_json::text`), and as
    # (text or NULL when over the size limit given as parameter, size in bytes).
    payload_column = "payload_json"
    bounded_payload = ""

    def __init__(self, name: str, *, cache_chars: int = DEFAULT_CACHE_CHARS) -> None:
        super().__init__(name)
        # slug -> (payload text, registry): a row whose payload is unchanged is not decoded
        # or validated again.
        self._cache: LRUCache[str, tuple[str, Registry]] = LRUCache(
            maxsize=cache_chars, getsizeof=lambda entry: len(entry[0]) or 1
        )
        self._own_writes = 0  # this connection's commits (change tokens count them)
        self._read_only_reason = ""
        self.registries_table = TABLE
        self.versions_table = VERSIONS_TABLE

    # ---- what a backend supplies ----------------------------------------------------------
    @abc.abstractmethod
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement (`?` placeholders); returns a cursor (fetchone/fetchall)."""

    @abc.abstractmethod
    def _executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        ...

    @abc.abstractmethod
    def _write_transaction(self, slugs: Sequence[str]) -> contextlib.AbstractContextManager:
        """One transaction in which no other writer can change the registries `slugs`
        (every registry when `slugs` is empty) between its reads and its writes."""

    @abc.abstractmethod
    def _guard(self, operation, *args):
        """Run `operation(*args)`; driver errors become StoreError."""

    def _announce(self, slug: str, version: int) -> None:
        """Called inside a write's transaction for each registry it commits (0: deleted)."""

    def _history_exists(self) -> bool:
        """Whether the history table exists (a database from before history has none)."""
        return True

    def _tables_exist(self) -> bool:
        """Whether the registries table exists (reads of a fresh database find nothing)."""
        return True

    # ---- decoding rows ----------------------------------------------------------------------
    def _corrupt(self, slug: str, reason: str) -> StoreError:
        return StoreError(f"registry {slug!r} in {self.kind} store {self.name} is corrupt: {reason}")

    def _parse(self, slug: str, text: str | None, size: int | None, what: str = "payload") -> Any:
        """A payload's JSON, within the size, nesting and node limits; StoreError naming
        the registry otherwise."""
        limits = current_limits()
        if text is None:
            if size is not None:  # left unread by the query: over the size limit
                raise self._corrupt(slug, f"{what} is {size} bytes, over the limit of {limits.max_bytes}")
            raise self._corrupt(slug, f"{what} is NULL")
        try:
            payload = json.loads(text)
        except (TypeError, ValueError) as exc:  # ValueError: bad JSON, or an integer over 4300 digits
            raise self._corrupt(slug, f"{what} is not JSON ({exc})") from None
        except RecursionError:
            raise self._corrupt(slug, f"{what} nests deeper than the limit of {limits.max_depth} levels") from None
        too_big = nesting_exceeds(payload, limits.max_depth, limits.max_nodes)
        if too_big is not None:
            raise self._corrupt(slug, f"{what} is over a limit: {too_big}")
        if not isinstance(payload, dict):
            raise self._corrupt(slug, f"{what} is not a JSON object")
        return payload

    def _decode(self, slug: str, text: str | None, size: int | None = None) -> Registry:
        cached = self._cache.get(slug)
        if cached is not None and text is not None and cached[0] == text:
            return cached[1]
        if text is not None and validcache.row_validated(slug, text):
            # this exact payload validated before under the same engine: decoded, not judged
            # (a process that only reads loads no validator, nor the engine's stages)
            registry = self._normalised(slug, text, size)
        else:
            registry = engine.read_and_check(lambda: self._normalised(slug, text, size),
                                             lambda read: self._check(slug, read, text))
        self._remember(slug, text, registry)
        return registry

    def _normalised(self, slug: str, text: str | None, size: int | None) -> Registry:
        payload = self._parse(slug, text, size)
        if payload.get("slug") not in (None, slug):
            raise self._corrupt(slug, f"payload slug {payload['slug']!r} differs from the row's")
        return normalise_registry(payload, slug)

    def _check(self, slug: str, registry: Registry, text: str) -> None:
        """Validate a decoded row; a valid one is recorded (`validcache`), so the next
        process that reads this exact payload does not validate it again."""
        try:
            check_valid(registry)
        except ProfregError as exc:
            raise self._corrupt(slug, f"payload is invalid ({exc})") from None
        validcache.remember_row(slug, text)

    def _remember(self, slug: str, text: str, registry: Registry) -> None:
        self._cache.pop(slug, None)
        if len(text) <= self._cache.maxsize:
            self._cache[slug] = (text, registry)

    def _row(self, slug: str) -> tuple[str | None, int | None] | None:
        """(payload or None, its size in bytes) of the registry's row; None if there is none.

        The payload is NULL in the result when it is NULL in the row (a database not made
        here may allow that) or over the size limit (then it is never read into memory)."""
        return self._execute(
            f"SELECT {self.bounded_payload} FROM {self.registries_table} WHERE slug = ?",
            [current_limits().max_bytes, slug],
        ).fetchone()

    # ---- primitives ---------------------------------------------------------------------------
    def _registry_slugs(self) -> list[str]:
        if not self._guard(self._tables_exist):
            return []
        return self._guard(lambda: [row[0] for row in self._execute(f"SELECT slug FROM {self.registries_table}")])

    def _load_registry(self, slug: str) -> Registry | None:
        if not self._guard(self._tables_exist):
            return None
        row = self._guard(self._row, slug)
        return None if row is None else self._decode(slug, *row)

    def _load_all(self) -> tuple[list[Registry], list[tuple[str, str]]]:
        if not self._guard(self._tables_exist):
            return [], []
        rows = self._guard(lambda: self._execute(
            f"SELECT slug, {self.bounded_payload} FROM {self.registries_table} ORDER BY slug",
            [current_limits().max_bytes],
        ).fetchall())
        healthy: list[Registry] = []
        corrupt: list[tuple[str, str]] = []
        for slug, text, size in rows:
            try:
                healthy.append(self._decode(slug, text, size))
            except StoreError as exc:
                corrupt.append((slug, str(exc)))
        return healthy, corrupt

    def registry_version(self, slug: str) -> int:
        """The registry's current version (0: absent), read without decoding its payload."""
        self._check_open()
        if not self._guard(self._tables_exist):
            return 0
        row = self._guard(self._row, slug)
        if row is None:
            return 0
        cached = self._cache.get(slug)
        if cached is not None and cached[0] == row[0]:
            return version_of(cached[1])
        return version_of(self._parse(slug, *row))

    # ---- writes -------------------------------------------------------------------------------
    def _note_newer_migrations(self, applied: set[str], known: frozenset[str]) -> bool:
        """Whether the database records migrations this profreg does not know (it comes
        from a newer profreg): then it is refused for writes, saying so."""
        newer = sorted(applied - known)
        if newer:
            self._read_only_reason = (
                f"{self.kind} store {self.name} was written by a newer profreg "
                f"(unknown migrations: {', '.join(newer)}); upgrade profreg to write to it"
            )
        return bool(newer)

    def _check_writable(self) -> None:
        if self._read_only_reason:
            raise StoreError(self._read_only_reason)

    def _put(self, slug: str, registry: Registry) -> str:
        text = payload_text(registry)
        self._execute(
            f"INSERT INTO {self.registries_table} (slug, payload_json, updated_at_ms) VALUES (?, ?, ?) "
            "ON CONFLICT(slug) DO UPDATE SET payload_json = excluded.payload_json, "
            "updated_at_ms = excluded.updated_at_ms",
            [slug, text, updated_at_of(registry)],
        )
        return text

    def _append_history(self, slug: str, version: int, registry: Registry | None, text: str | None) -> None:
        self._execute(
            f"INSERT INTO {self.versions_table} (slug, version, payload_json, updated_at_ms, updated_by, source) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [slug, version, text, updated_at_of(registry), _metadata_text(registry, "updated_by"),
             _metadata_text(registry, "source")],
        )

    def _commit(self, slug: str, change: Change, *, read_current: bool = True) -> Registry | None:
        self._check_writable()

        def transaction() -> Registry | None:
            self._own_writes += 1
            with self._write_transaction([slug]):
                row = self._row(slug) if read_current else None
                current = None if row is None else self._decode(slug, *row)
                result = change(current)
                if result is None:
                    self._execute(f"DELETE FROM {self.registries_table} WHERE slug = ?", [slug])
                    self._append_history(slug, version_of(current) + 1, None, None)
                    self._announce(slug, 0)
                    self._cache.pop(slug, None)
                    return None
                text = self._put(slug, result)
                self._append_history(slug, version_of(result), result, text)
                self._announce(slug, version_of(result))
            self._remember(slug, text, result)
            validcache.remember_row(slug, text)  # the write validated `result`: readers need not
            return result

        return self._guard(transaction)

    def _commit_all(self, registries: dict[str, Registry], replace: bool, *,
                    history: Sequence[HistoryRow] | None = None, document: bytes | None = None,
                    check: Callable[[], None] | None = None) -> None:
        """Import: `history` given (a migration from another SQL store) is written as it
        is, instead of one new history row per imported registry."""
        self._check_writable()

        def transaction() -> dict[str, str]:
            self._own_writes += 1
            texts: dict[str, str] = {}
            with self._write_transaction([]):  # one transaction, however many registries
                if check is not None:
                    check()
                removed: list[str] = []
                if replace:
                    removed = [row[0] for row in self._execute(f"SELECT slug FROM {self.registries_table}")
                               if row[0] not in registries]
                    self._execute(f"DELETE FROM {self.registries_table}")
                    self._cache.clear()
                for slug, registry in registries.items():
                    texts[slug] = self._put(slug, registry)
                if history is not None:
                    self._import_history(history)
                else:
                    self._executemany(
                        f"INSERT INTO {self.versions_table} "
                        "(slug, version, payload_json, updated_at_ms, updated_by, source) VALUES (?, ?, ?, ?, ?, ?)",
                        [(slug, version_of(r), texts[slug], updated_at_of(r), _metadata_text(r, "updated_by"),
                          _metadata_text(r, "source")) for slug, r in registries.items()],
                    )
                for slug in removed:
                    self._announce(slug, 0)
                for slug, registry in registries.items():
                    self._announce(slug, version_of(registry))
            return texts

        texts = self._guard(transaction)
        for slug, registry in registries.items():
            self._remember(slug, texts[slug], registry)
            validcache.remember_row(slug, texts[slug])  # validated before the import (`imported`)

    def _import_history(self, rows: Sequence[HistoryRow]) -> None:
        self._executemany(
            f"INSERT INTO {self.versions_table} (slug, version, payload_json, updated_at_ms, updated_by, source) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(row["slug"], row["version"], None if row["registry"] is None else payload_text(row["registry"]),
              row["updated_at_ms"], row["updated_by"], row["source"]) for row in rows],
        )

    # ---- history ------------------------------------------------------------------------------
    def _history_rows(self, where: str, params: Sequence[Any]) -> list[HistoryRow]:
        if not (self._guard(self._tables_exist) and self._guard(self._history_exists)):
            return []
        rows = self._guard(lambda: self._execute(
            f"SELECT slug, version, {self.payload_column}, updated_at_ms, updated_by, source "
            f"FROM {self.versions_table} {where} ORDER BY id DESC", params
        ).fetchall())
        out = []
        for slug, version, text, updated_at_ms, updated_by, source in rows:
            registry = None
            if text is not None:
                registry = normalise_registry(self._parse(slug, text, None, f"history row of version {version}"), slug)
            out.append(dict(zip(HISTORY_FIELDS, (slug, version, registry, updated_at_ms, updated_by or "",
                                                   source or ""))))
        return out

    def history(self, slug: str) -> list[HistoryRow]:
        """Every committed state of registry `slug`, newest first (`registry` None: deleted)."""
        self._check_open()
        return self._history_rows("WHERE slug = ?", [slug])

    def all_history(self) -> list[HistoryRow]:
        """Every history row of every registry, oldest first (what a migration copies)."""
        self._check_open()
        return list(reversed(self._history_rows("", [])))

    def _exported_history(self, only: str | None) -> list[HistoryRow]:
        if only is None:
            return self.all_history()
        return list(reversed(self._history_rows("WHERE slug = ?", [only])))

    def _disconnect(self) -> None:
        self.conn.close()

    def _close(self) -> None:
        self._cache.clear()
        self._disconnect()

