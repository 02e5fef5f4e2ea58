"""The store contract (SPEC section 4) and the logic every backend shares.

Objects in and out are plain dicts with the schema's field names. Reads return
independent copies; lists are sorted by slug. Every registry returned has its `slug` and a
`profiles` mapping, and every profile its `slug`.

Backends subclass `BaseStore` and supply four primitives (`_registry_slugs`,
`_load_registry`, `_load_all`, `_commit`); the write semantics (versions, managed metadata,
default-profile rules, validation before persisting, expected-version checks) live in
`profreg.stores.mutations` and are therefore identical for every backend.

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
`import_registry(registry)` stores a registry exactly as given (managed metadata, versions
included), after validating it; it replaces a registry of the same slug, even a corrupt
one. `import_registries(registries, replace=...)` does the same for many at once: every one
is validated before anything is written, and the SQLite and memory stores write them in one
transaction (one fsync for 2,000 registries instead of 2,000); `replace=True` also removes
every registry not among them, corrupt ones included. Both are meant for `profreg migrate`,
not for ordinary writes.
"""
from __future__ import annotations

import abc
import copy
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from ..errors import NotFoundError, StoreError

Registry = dict[str, Any]
# A change computes the new registry (None: delete it) from the current one (None: absent).
Change = Callable[[Registry | None], Registry | None]


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
    """One contract, three backends (memory, YAML file, SQLite)."""

    @abc.abstractmethod
    def list_registries(self) -> list[dict]:
        """Healthy registries, full objects, sorted by slug."""

    @abc.abstractmethod
    def corrupt_registries(self) -> list[tuple[str, str]]:
        """(slug, reason) for every registry that failed to load; [] if none."""

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
    def import_registries(self, registries: Iterable[dict], *, replace: bool = False) -> None:
        """Store many registries exactly as given, all validated first; `replace`: remove
        every other registry (corrupt ones too). For migrate."""

    @abc.abstractmethod
    def close(self) -> None:
        ...

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class BaseStore(Store):
    """The shared implementation; a backend supplies storage primitives only."""

    kind = "store"

    def __init__(self, name: str) -> None:
        self.name = name  # what error messages call this store (a path, or "memory")
        self._closed = False
        # How long a write waits for another process's write lock (None: the backend's
        # default), and what to call once when that wait passes about a second.
        self.lock_timeout: float | None = None
        self.on_lock_wait: Callable[[], None] | None = None

    # ---- primitives a backend implements ------------------------------------------------
    @abc.abstractmethod
    def _registry_slugs(self) -> list[str]:
        """Slugs of every registry (healthy or not), any order."""

    @abc.abstractmethod
    def _load_registry(self, slug: str) -> Registry | None:
        """The registry (normalised, may be shared: callers copy), None if absent.

        Raises StoreError naming the registry if it is corrupt."""

    @abc.abstractmethod
    def _load_all(self) -> tuple[list[Registry], list[tuple[str, str]]]:
        """(healthy registries, [(slug, reason)] for corrupt ones)."""

    @abc.abstractmethod
    def _commit(self, slug: str, change: Change, *, read_current: bool = True) -> Registry | None:
        """Atomically: read the current registry, apply `change`, persist its result.

        `change` raises to abort (nothing persisted). Returns what was persisted.
        `read_current=False`: `change` ignores the current registry (an import), so a
        corrupt stored one does not stop it from being replaced."""

    def _commit_all(self, registries: dict[str, Registry], replace: bool) -> None:
        """Persist `registries` (validated) as they are; `replace`: delete every other one.

        This default commits registry by registry (not atomic as a whole); backends that
        can do it in one transaction override it."""
        if replace:
            for slug in self._registry_slugs():
                if slug not in registries:
                    self._commit(slug, lambda _current: None, read_current=False)
        for slug, registry in registries.items():
            self._commit(slug, lambda _current, registry=registry: registry, read_current=False)

    def _close(self) -> None:
        """Release resources (called once)."""

    # ---- the contract -------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"{self.kind} store {self.name} is closed")

    def _registry(self, slug: str) -> Registry:
        self._check_open()
        found = self._load_registry(slug) if isinstance(slug, str) else None
        if found is None:
            raise NotFoundError("registry", slug)
        return found

    def list_registries(self) -> list[dict]:
        self._check_open()
        healthy, _corrupt = self._load_all()
        return [copy.deepcopy(r) for r in sorted(healthy, key=lambda r: r["slug"])]

    def corrupt_registries(self) -> list[tuple[str, str]]:
        self._check_open()
        return sorted(self._load_all()[1])

    def registry_slugs(self) -> list[str]:
        self._check_open()
        return sorted(self._registry_slugs())

    def get_registry(self, slug: str) -> dict:
        return copy.deepcopy(self._registry(slug))

    def list_profiles(self, registry: str) -> list[dict]:
        profiles = self._registry(registry)["profiles"]
        return [copy.deepcopy(profiles[key]) for key in sorted(profiles)]

    def get_profile(self, registry: str, profile: str) -> dict:
        profiles = self._registry(registry)["profiles"]
        if not isinstance(profile, str) or profile not in profiles:
            raise NotFoundError("profile", profile, registry=registry)
        return copy.deepcopy(profiles[profile])

    def upsert_registry(self, registry: dict, options: WriteOptions = DEFAULT_OPTIONS) -> dict:
        from . import mutations

        self._check_open()
        slug = mutations.registry_slug_of(registry)
        stored = self._commit(slug, lambda current: mutations.upsert_registry(current, registry, options))
        assert stored is not None
        return copy.deepcopy(stored)

    def delete_registry(self, slug: str, options: WriteOptions = DEFAULT_OPTIONS) -> dict:
        """Returns the registry as it was when deleted."""
        from . import mutations

        self._check_open()
        deleted: list[Registry] = []

        def change(current: Registry | None) -> None:
            result = mutations.delete_registry(current, slug, options)
            deleted[:] = [current]
            return result

        self._commit(slug, change)
        return copy.deepcopy(deleted[0])

    def upsert_profile(self, registry: str, profile: dict, options: WriteOptions = DEFAULT_OPTIONS) -> dict:
        from . import mutations

        self._check_open()
        profile_slug = mutations.profile_slug_of(profile)
        stored = self._commit(
            registry, lambda current: mutations.upsert_profile(current, registry, profile, options)
        )
        assert stored is not None
        return copy.deepcopy(stored["profiles"][profile_slug])

    def delete_profile(
        self,
        registry: str,
        profile: str,
        options: WriteOptions = DEFAULT_OPTIONS,
        new_default: str | None = None,
    ) -> dict:
        """Returns the stored registry (without the profile)."""
        from . import mutations

        self._check_open()
        stored = self._commit(
            registry,
            lambda current: mutations.delete_profile(current, registry, profile, options, new_default),
        )
        assert stored is not None
        return copy.deepcopy(stored)

    def set_default_profile(self, registry: str, profile: str, options: WriteOptions = DEFAULT_OPTIONS) -> dict:
        from . import mutations

        self._check_open()
        stored = self._commit(
            registry, lambda current: mutations.set_default_profile(current, registry, profile, options)
        )
        assert stored is not None
        return copy.deepcopy(stored)

    def import_registry(self, registry: dict) -> dict:
        from . import mutations

        self._check_open()
        slug = mutations.registry_slug_of(registry)
        stored = self._commit(slug, lambda _current: mutations.imported(registry), read_current=False)
        assert stored is not None
        return copy.deepcopy(stored)

    def import_registries(self, registries: Iterable[dict], *, replace: bool = False) -> None:
        from . import mutations

        self._check_open()
        prepared: dict[str, Registry] = {}
        for registry in registries:  # all validated before anything is written
            stored = mutations.imported(registry)
            prepared[stored["slug"]] = stored
        self._commit_all(prepared, replace)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._close()
