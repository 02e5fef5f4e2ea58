"""The store contract (SPEC section 4): the protocol every backend honours and its value types.

Objects in and out are plain dicts with the schema's field names. Reads return
independent copies; lists are sorted by slug. Every registry returned has its `slug` and a
`profiles` mapping, and every profile its `slug`.

Backends subclass `profreg.stores.base.BaseStore` and supply four primitives
(`_registry_slugs`, `_load_registry`, `_load_all`, `_commit`); the write semantics
(versions, managed metadata, default-profile rules, validation before persisting,
expected-version checks) live in `profreg.stores.writes` and are therefore identical for
every backend.

A store that does not exist yet
-------------------------------
A store spec that names nothing on disk yet (a YAML file or SQLite database not created)
is an *empty store*, the same for every backend: reads answer empty (`list_registries()`
is `[]`), a lookup is a `NotFoundError` whose message says the store does not exist, and
nothing is created on disk by opening or reading. The first write creates the store and any
missing parent folders. What cannot be created or opened (a folder that may not be written,
a path under a regular file, a file that is not a store) is a `StoreError` (one line).
`exists()` tells the two apart.

Version checks (`WriteOptions`)
-------------------------------
- `expected_version` (None/0 = no check) is compared with the version of what the call
  changes: the PROFILE for `upsert_profile`/`delete_profile`, the REGISTRY for
  `upsert_registry`/`delete_registry`/`set_default_profile`.
- `expected_registry_version` (None/0 = no check) is compared with the registry's version on
  `upsert_profile`/`delete_profile` (what `profile create --expected-version N` needs).
- `create_only=True` on `upsert_registry`/`upsert_profile` makes "creating what exists" a
  `VersionConflictError` (expected 0, actual = the existing object's version).

Bulk copy (migrate)
-------------------
`export(only=None)` is everything a store holds, as an `Export`: its healthy registries
with all their metadata, the history where the store keeps one (the SQL stores), and for a
store that is one document (a YAML file) its form and its own bytes, so that a copy to
another YAML file keeps comments and layout.

`import_registry(registry)` stores a registry exactly as given (managed metadata, versions
included), after validating it; it replaces a registry of the same slug, even a corrupt
one. `import_registries(registries, replace=...)` does the same for many at once: every one
is validated before anything is written, and the SQLite, PostgreSQL and memory stores write
them in one transaction (one fsync, not one per registry); `replace=True` also removes
every registry not among them, corrupt ones included (a YAML file is then written once, as
a whole: `document`, an export's bytes, where they read back as exactly these registries,
else rendered anew). `history` (an export's) is kept by the stores that keep history instead
of one new history row per registry; `check` is called under the store's write lock before
anything is written, and what it raises aborts the import (migrate's "the target is not
empty" test cannot go stale). `holds_data()` tells whether a replacing import would lose
anything. `open_store(spec, lazy=True)` reads nothing before it is asked to, so a YAML file
that does not read can still be checked (`check()`) or replaced. All of this is meant for
`profreg migrate` and `profreg validate --store`, not for ordinary writes.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, Callable, Hashable, Iterable, Sequence

from ..errors import NotFoundError


Registry = dict[str, Any]
# A change computes the new registry (None: delete it) from the current one (None: absent).
Change = Callable[[Registry | None], Registry | None]
# One history row as the SQL stores hand it out: `slug`, `version`, `registry` (None:
# deleted), `updated_at_ms`, `updated_by`, `source`.
HistoryRow = dict[str, Any]


@dataclass
class Export:
    """A store's whole content, as `profreg migrate` copies it (`Store.export`)."""

    registries: list[Registry]  # healthy ones, sorted by slug, managed metadata as stored
    history: list[HistoryRow] | None = None  # oldest first; None: the store keeps no history
    form: str | None = None  # a document store (YAML): bundle | single | legacy | empty
    # A YAML store's own bytes holding exactly `registries` (comments, layout and line ends
    # kept), where its form allows; None otherwise.
    document: bytes | None = None
    has_comments: bool = False  # the store's text has comments a rendered copy would not carry


@dataclass(frozen=True)
class StoreCheck:
    """One entry of `Store.check()`: `slug` None is the store's document as a whole."""

    slug: str | None
    diagnostics: Sequence[Any]  # the engine's Diagnostics
    registries: tuple[str, ...] | None  # the registries the entry holds (None: none readable)


@dataclass(frozen=True)
class WriteOptions:
    expected_version: int | None = None  # None/0 = no check
    actor: str = ""
    source: str = ""
    expected_registry_version: int | None = None  # profile writes: check the registry too
    create_only: bool = False  # upsert_*: an existing object is a VersionConflictError


DEFAULT_OPTIONS = WriteOptions()
# A write waiting this long for another writer's lock calls the store's `on_lock_wait`.
LOCK_WAIT_NOTICE_S = 1.0


class Store(abc.ABC):
    """One contract, four backends (memory, YAML file, SQLite, PostgreSQL)."""

    kind = "store"  # what messages call the backend ("YAML", "SQLite", ...)
    name = ""  # what messages call this store (a path, "memory:", a URL without password)

    @abc.abstractmethod
    def list_registries(self) -> list[dict]:
        """Healthy registries, full objects, sorted by slug."""

    @abc.abstractmethod
    def exists(self) -> bool:
        """Whether the store has been created (False: an empty store that no write has
        created yet; see "A store that does not exist yet")."""

    def registry_not_found(self, slug: str) -> NotFoundError:
        """The error for a registry that is not there: it says so when the whole store does not
        exist yet, so every backend (and every cache in front of one) words it alike."""
        missing = NotFoundError("registry", slug)
        if not self.exists():
            return missing.explained_by(f"{self.kind} store {self.name} does not exist (the first write creates it)")
        return missing

    @abc.abstractmethod
    def corrupt_registries(self) -> list[tuple[str, str]]:
        """(slug, reason) for every registry that failed to load; [] if none."""

    @abc.abstractmethod
    def registry_views(self) -> tuple[list[dict], list[tuple[str, str]]]:
        """(the healthy registries as the store holds them, sorted by slug, without a copy:
        read-only for the caller, each as `registry_view` gives it; the corrupt ones as
        `corrupt_registries` names them), from one read of the store: for a caller that
        only looks (`profreg list`)."""

    @abc.abstractmethod
    def registry_slugs(self) -> list[str]:
        """Every registry's slug, sorted, corrupt ones included; reads no payload (cheap:
        for shell completion and the like)."""

    @abc.abstractmethod
    def get_registry(self, slug: str) -> dict:
        """The registry; NotFoundError("registry", slug); StoreError if it is corrupt."""

    @abc.abstractmethod
    def list_profiles(self, registry: str) -> list[dict]:
        """The registry's profiles, each with `slug`, sorted by slug."""

    @abc.abstractmethod
    def get_profile(self, registry: str, profile: str) -> dict:
        """One profile (with `slug`); NotFoundError("profile", slug)."""

    @abc.abstractmethod
    def upsert_registry(self, registry: dict, options: WriteOptions = DEFAULT_OPTIONS) -> dict:
        """Create or replace a registry's own fields; returns the stored registry."""

    @abc.abstractmethod
    def delete_registry(self, slug: str, options: WriteOptions = DEFAULT_OPTIONS) -> dict:
        """Returns the registry as it was when deleted."""

    @abc.abstractmethod
    def upsert_profile(self, registry: str, profile: dict, options: WriteOptions = DEFAULT_OPTIONS) -> dict:
        """Create or replace one profile (`profile["slug"]` names it); returns the stored profile."""

    @abc.abstractmethod
    def delete_profile(
        self,
        registry: str,
        profile: str,
        options: WriteOptions = DEFAULT_OPTIONS,
        new_default: str | None = None,
    ) -> dict:
        """Returns the stored registry, without the profile."""

    @abc.abstractmethod
    def set_default_profile(self, registry: str, profile: str, options: WriteOptions = DEFAULT_OPTIONS) -> dict:
        """Returns the stored registry."""

    @abc.abstractmethod
    def import_registry(self, registry: dict) -> dict:
        """Store a registry exactly as given (metadata kept); for migrate."""

    @abc.abstractmethod
    def import_registries(self, registries: Iterable[dict], *, replace: bool = False,
                          history: Sequence[HistoryRow] | None = None, document: bytes | None = None,
                          check: Callable[[], None] | None = None) -> None:
        """Store many registries exactly as given, all validated first; `replace`: remove
        every other registry (corrupt ones too). For migrate (see "Bulk copy")."""

    @abc.abstractmethod
    def export(self, only: str | None = None) -> Export:
        """Everything the store holds (see "Bulk copy"); `only`: registry `only` alone
        (`registry_not_found` if it is not there). Corrupt registries are left out
        (`corrupt_registries()` names them)."""

    @abc.abstractmethod
    def holds_data(self) -> bool:
        """Whether replacing the store's content would lose anything: a registry (corrupt
        ones too), or for a file any text at all (a file of comments)."""

    @abc.abstractmethod
    def check(self) -> list[StoreCheck]:
        """Every registry validated as the stores validate them, by slug; a registry that
        does not load is one `store-corrupt` error saying why. A store that is one document
        (a YAML file) is one entry: the file validated as a document, with exact ranges."""

    @abc.abstractmethod
    def close(self) -> None:
        ...

    @abc.abstractmethod
    def change_token(self) -> Hashable:
        """A value that differs whenever the store may have changed since it was taken, by
        anyone (another process, a person editing the file, this store's own writes).

        Cheap: it reads no payload (a file's identity, size and mtime; SQLite's
        `PRAGMA data_version`). A different token does not mean a change, only that one is
        possible; an equal token means nothing changed."""

    @abc.abstractmethod
    def registry_view(self, slug: str) -> dict:
        """The registry as the store holds it, without a copy: read-only for the caller.

        The same object comes back while the registry is unchanged, so callers can cache
        what they derive from it by identity. Its `profiles` is a mapping, not always a
        `dict` (the YAML store decodes a cached profile when it is first read). Errors as
        `get_registry`."""

    @abc.abstractmethod
    def registry_fields(self, slug: str) -> dict:
        """The registry's own fields (`metadata`, `default_profile_slug`, ...) for a caller
        that reads no profile from it: read-only, and its `profiles` may be left undecoded
        (None) where the store can skip them. Errors as `get_registry`."""

    @abc.abstractmethod
    def registry_states(self) -> dict[str, tuple[int, object]]:
        """slug -> (version, state) for every registry; a registry's state differs after any
        change to it (for change events). Corrupt registries have version 0."""

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
