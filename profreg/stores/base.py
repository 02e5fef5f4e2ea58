"""`BaseStore`: the contract implemented once over four storage primitives.

A backend subclasses it and supplies `_registry_slugs`, `_load_registry`, `_load_all` and
`_commit`; reads hand out deep copies, writes go through `profreg.stores.writes`.
"""
from __future__ import annotations

import abc
import copy
from typing import Callable, Hashable, Iterable, Sequence

from .. import engine
from ..errors import NotFoundError, StoreError, UsageError
from . import writes
from .contract import DEFAULT_OPTIONS, Change, Export, HistoryRow, Registry, Store, StoreCheck, WriteOptions


class _Content:
    """A registry compared by content (a state for `registry_states`)."""

    __slots__ = ("registry",)

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Content) and (other.registry is self.registry or other.registry == self.registry)

    __hash__ = None  # type: ignore[assignment]


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

    def _commit_all(self, registries: dict[str, Registry], replace: bool, *,
                    history: Sequence[HistoryRow] | None = None, document: bytes | None = None,
                    check: Callable[[], None] | None = None) -> None:
        """Persist `registries` (validated) as they are; `replace`: delete every other one
        (`history`, `document`, `check`: see `import_registries`).

        This default commits registry by registry (not atomic as a whole) and keeps no
        history; backends that can do better override it."""
        if check is not None:
            check()
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

    def exists(self) -> bool:
        self._check_open()
        return True

    def _registry(self, slug: str) -> Registry:
        self._check_open()
        found = self._load_registry(slug) if isinstance(slug, str) else None
        if found is None:
            raise self.registry_not_found(slug)
        return found

    def list_registries(self) -> list[dict]:
        self._check_open()
        healthy, _corrupt = self._load_all()
        return [copy.deepcopy(r) for r in sorted(healthy, key=lambda r: r["slug"])]

    def corrupt_registries(self) -> list[tuple[str, str]]:
        self._check_open()
        return sorted(self._load_all()[1])

    def registry_views(self) -> tuple[list[dict], list[tuple[str, str]]]:
        self._check_open()
        healthy, corrupt = self._load_all()
        return sorted(healthy, key=lambda r: r["slug"]), sorted(corrupt)

    def registry_slugs(self) -> list[str]:
        self._check_open()
        return sorted(self._registry_slugs())

    def get_registry(self, slug: str) -> dict:
        return copy.deepcopy(self._registry(slug))

    def registry_view(self, slug: str) -> dict:
        return self._registry(slug)

    def registry_fields(self, slug: str) -> dict:
        return self._registry(slug)

    def change_token(self) -> Hashable:
        self._check_open()
        return object()  # a backend that cannot tell: every call may be a change

    def registry_states(self) -> dict[str, tuple[int, object]]:
        self._check_open()
        healthy, corrupt = self._load_all()
        states: dict[str, tuple[int, object]] = {slug: (0, reason) for slug, reason in corrupt}
        for registry in healthy:
            version = (registry.get("metadata") or {}).get("version") or 0
            states[registry["slug"]] = (version, _Content(registry))
        return states

    def list_profiles(self, registry: str) -> list[dict]:
        profiles = self._registry(registry)["profiles"]
        return [copy.deepcopy(profiles[key]) for key in sorted(profiles)]

    def get_profile(self, registry: str, profile: str) -> dict:
        profiles = self._registry(registry)["profiles"]
        if not isinstance(profile, str) or profile not in profiles:
            raise NotFoundError("profile", profile, registry=registry)
        return copy.deepcopy(profiles[profile])

    def upsert_registry(self, registry: dict, options: WriteOptions = DEFAULT_OPTIONS) -> dict:
        self._check_open()
        slug = writes.registry_slug_of(registry)
        stored = self._commit(slug, lambda current: writes.upsert_registry(current, registry, options))
        assert stored is not None
        return copy.deepcopy(stored)

    def delete_registry(self, slug: str, options: WriteOptions = DEFAULT_OPTIONS) -> dict:
        """Returns the registry as it was when deleted."""
        self._check_open()
        deleted: list[Registry] = []

        def change(current: Registry | None) -> None:
            result = writes.delete_registry(current, slug, options)
            deleted[:] = [current]
            return result

        self._commit(slug, change)
        return copy.deepcopy(deleted[0])

    def upsert_profile(self, registry: str, profile: dict, options: WriteOptions = DEFAULT_OPTIONS) -> dict:
        self._check_open()
        profile_slug = writes.profile_slug_of(profile)
        stored = self._commit(
            registry, lambda current: writes.upsert_profile(current, registry, profile, options)
        )
        assert stored is not None
        return copy.deepcopy(stored["profiles"][profile_slug])

    def delete_profile(self, registry: str, profile: str, options: WriteOptions = DEFAULT_OPTIONS,
                       new_default: str | None = None) -> dict:
        self._check_open()
        stored = self._commit(
            registry,
            lambda current: writes.delete_profile(current, registry, profile, options, new_default),
        )
        assert stored is not None
        return copy.deepcopy(stored)

    def set_default_profile(self, registry: str, profile: str, options: WriteOptions = DEFAULT_OPTIONS) -> dict:
        self._check_open()
        stored = self._commit(
            registry, lambda current: writes.set_default_profile(current, registry, profile, options)
        )
        assert stored is not None
        return copy.deepcopy(stored)

    def import_registry(self, registry: dict) -> dict:
        self._check_open()
        slug = writes.registry_slug_of(registry)
        stored = self._commit(slug, lambda _current: writes.imported(registry), read_current=False)
        assert stored is not None
        return copy.deepcopy(stored)

    def import_registries(self, registries: Iterable[dict], *, replace: bool = False,
                          history: Sequence[HistoryRow] | None = None, document: bytes | None = None,
                          check: Callable[[], None] | None = None) -> None:
        self._check_open()
        prepared: dict[str, Registry] = {}
        for registry in registries:  # all validated before anything is written
            stored = writes.imported(registry)
            prepared[stored["slug"]] = stored
        self._commit_all(prepared, replace, history=history, document=document, check=check)

    def export(self, only: str | None = None) -> Export:
        self._check_open()
        registries = self.list_registries()
        if only is not None:
            registries = [registry for registry in registries if registry["slug"] == only]
            if not registries:
                raise self.registry_not_found(only)
        return Export(registries, history=self._exported_history(only))

    def _exported_history(self, only: str | None) -> list[HistoryRow] | None:
        """The history rows an export carries, oldest first (None: the store keeps none)."""
        return None

    def holds_data(self) -> bool:
        return bool(self.registry_slugs())  # corrupt registries count too

    def check(self) -> list[StoreCheck]:
        self._check_open()
        healthy, corrupt = self._load_all()
        checked = {registry["slug"]: StoreCheck(registry["slug"], engine.validate_registry(registry), (registry["slug"],))
                   for registry in healthy}
        for slug, reason in corrupt:
            checked[slug] = StoreCheck(slug, [engine.Diagnostic("error", "store-corrupt", reason, field="registry")], (slug,))
        return [checked[slug] for slug in sorted(checked)]

    def history(self, slug: str) -> list[dict]:
        """Every committed state of registry `slug`, newest first: dicts with `slug`,
        `version`, `registry` (None: deleted), `updated_at_ms`, `updated_by`, `source`.

        Only the SQL stores keep history; the others raise UsageError saying where it is."""
        self._check_open()
        raise UsageError(f"the {self.kind} store keeps no history")

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._close()
