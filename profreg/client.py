"""The Python API for applications (SPEC section 5, *Applications*): `connect(spec) -> Client`.

An application resolves profiles in-process, many times a second, while a person, a CLI
write or another host may change the registry. A `Client` therefore keeps what it derived
from the store (the chosen profile, its effective runtime, the whole `Resolution` of a
plain resolve) and asks the store one cheap question per call, `Store.change_token()`
(a file's identity, size and mtime; SQLite's `PRAGMA data_version`). While the token is
the same nothing is read, parsed or validated. When it differs the store is asked for the
registry again (`Store.registry_view`, no copy); an unchanged registry comes back as the
same object and keeps its cached results.

A store that fails to read after it was read well (a YAML file caught half-saved, or
saved invalid; a corrupt SQLite row) keeps the last good registry being served: the error
is kept in `Client.last_error` and logged once as a warning, and the store is not asked
again until its token changes.

Change events (`Client.watch()`, `Client.on_change()`) come from a background thread that
polls the same token and compares `Store.registry_states()`.
"""
from __future__ import annotations

import dataclasses
import logging
import queue
import threading
from typing import Any, Callable, Hashable, Iterator, Mapping

from cachetools import LRUCache

from .errors import NotFoundError, StoreError, ValidationError
from .frozen import FrozenDict, thaw
from .resolve import Resolution, check_runtime_key, choose_profile, full_runtime, resolve_profile, runtime_json
from .service import DEFAULT_REGISTRY, Service
from .slugs import is_slug
from .stores import Store, WriteOptions, open_store

__all__ = ["Client", "ChangeEvent", "connect"]

logger = logging.getLogger("profreg")

ChangeEvent = dict  # {"registry": slug, "version": int | None}; None: the registry is gone
"""A change event: `{"registry": SLUG, "version": N}` (`version` None: deleted)."""

# Profiles whose derived results a client keeps, over all registries (least recently used
# registries are dropped first); the registry in use is always kept.
DEFAULT_MAX_CACHED_PROFILES = 200_000
# How often the watcher thread asks the store for its change token.
DEFAULT_WATCH_INTERVAL_S = 0.2

_FAILED = object()  # no token has failed yet


class _RegistryState:
    """One registry as last read, with what was derived from it (immutable results only)."""

    __slots__ = ("token", "registry", "runtimes", "resolutions", "weight")

    def __init__(self, token: Hashable, registry: Mapping[str, Any] | None) -> None:
        self.token = token
        self.registry = registry  # the store's own object (read-only); None: no such registry
        self.runtimes: dict[str, tuple[FrozenDict, dict[str, str]]] = {}  # and its canonical JSON
        self.resolutions: dict[str | None, Resolution] = {}
        self.weight = 1 + len((registry or {}).get("profiles") or ())

    def runtime(self, slug: str, profile: Mapping[str, Any]) -> tuple[FrozenDict, dict[str, str]]:
        prepared = self.runtimes.get(slug)
        if prepared is None:
            runtime = full_runtime(profile.get("runtime"))
            prepared = self.runtimes[slug] = (runtime, runtime_json(runtime))
        return prepared


class _QueueFeed:
    """An `on_change` callback that queues events for `Client.watch`, and its end."""

    def __init__(self, events: "queue.Queue[ChangeEvent | None]") -> None:
        self.events = events

    def __call__(self, event: ChangeEvent) -> None:
        self.events.put(event)

    def client_closed(self) -> None:
        self.events.put(None)


class Client:
    """A registry store opened for an application: cached, change-aware, thread-safe.

    Made by `connect()`. Every method may be called from any thread (calls are serialised
    on one lock; a cached resolve holds it only to look the result up). Use it as a context manager
    or call `close()`.
    """

    def __init__(self, store: Store, *, registry: str = DEFAULT_REGISTRY,
                 max_cached_profiles: int = DEFAULT_MAX_CACHED_PROFILES) -> None:
        if not is_slug(registry):
            raise ValidationError(f"registry.slug: {registry!r} is not a valid slug", field="registry.slug")
        self.registry = registry
        """The registry used when a call names none."""
        self.last_error: StoreError | None = None
        """The error of the last failed re-read while an older good state is being served
        (None once the store reads well again)."""
        self._store = store
        self._service = Service(store, default_registry=registry)
        self._lock = threading.RLock()
        self._states: LRUCache[str, _RegistryState] = LRUCache(
            maxsize=max_cached_profiles, getsizeof=lambda state: state.weight
        )
        self._last: tuple[str, _RegistryState] | None = None  # the registry in use: always kept
        self._failed_token: object = _FAILED
        self._closed = False
        self._subscribers: list[tuple[Callable[[ChangeEvent], None], str | None]] = []
        self._watcher: threading.Thread | None = None
        self._stop = threading.Event()
        self._watch_interval = DEFAULT_WATCH_INTERVAL_S
        self._watched: tuple[Hashable, dict[str, tuple[int, object]]] | None = None

    # ------------------------------------------------------------------ life cycle
    def close(self) -> None:
        """Stop watching, close the store; later calls raise StoreError. Twice is fine."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            subscribers, self._subscribers = self._subscribers, []
        self._stop.set()
        watcher = self._watcher
        if watcher is not None and watcher is not threading.current_thread():
            watcher.join()
        for callback, _registry in subscribers:
            closing = getattr(callback, "client_closed", None)
            if closing is not None:
                closing()
        with self._lock:
            self._states.clear()
            self._last = None
            self._store.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the profreg client is closed")

    # ------------------------------------------------------------------ cached state
    def _state(self, slug: str) -> _RegistryState:
        """The registry's state, re-read only if the store's token moved. Holds the lock."""
        self._check_open()
        token = self._store.change_token()
        last = self._last
        state = last[1] if last is not None and last[0] == slug else self._states.get(slug)
        if state is not None and (state.token == token or token == self._failed_token):
            if last is None or last[1] is not state:
                self._last = (slug, state)
            return state
        return self._refresh(slug, token, state)

    def _refresh(self, slug: str, token: Hashable, state: _RegistryState | None) -> _RegistryState:
        if token == self._failed_token and self.last_error is not None:
            raise self.last_error  # still the store that failed, and nothing good to serve
        try:
            view: Mapping[str, Any] | None = self._store.registry_view(slug)
        except NotFoundError as exc:
            if exc.resource != "registry":
                raise
            view = None
        except StoreError as exc:
            self._failed(token, exc)
            if state is None:
                raise
            return state
        self._recovered(token)
        if state is not None and state.registry is view:
            state.token = token
        else:
            state = _RegistryState(token, view)
            try:
                self._states[slug] = state
            except ValueError:  # larger than the whole cache: kept as the registry in use only
                self._states.pop(slug, None)
        self._last = (slug, state)
        return state

    def _failed(self, token: Hashable, exc: StoreError) -> None:
        if token != self._failed_token:
            logger.warning("profreg: %s; serving the last good state until it is fixed", exc)
        self._failed_token = token
        self.last_error = exc

    def _recovered(self, token: Hashable) -> None:
        if self.last_error is not None and token != self._failed_token:
            self.last_error = None
            self._failed_token = _FAILED

    def _registry(self, registry: str | None) -> tuple[str, Mapping[str, Any]]:
        slug = registry or self.registry
        with self._lock:
            state = self._state(slug)
        if state.registry is None:
            raise self._store.registry_not_found(slug)
        return slug, state.registry

    # ------------------------------------------------------------------ resolve
    def resolve(self, profile: str | None = None, *, registry: str | None = None,
                overrides: Mapping[str, Any] | None = None, base_settings: Mapping[str, Any] | None = None,
                runtime_key: str | None = None) -> Resolution:
        """The effective profile (SPEC section 5): `profile` in `registry` (default: the
        client's registry, and that registry's default profile), with request `overrides`
        checked against the profile's policy and merged, over `base_settings`.

        Raises NotFoundError, PolicyViolationError or ValidationError as the service does.
        A resolve without overrides and base settings on an unchanged store returns the
        cached `Resolution` (it is immutable, so sharing it is safe).
        """
        slug = registry or self.registry
        with self._lock:
            state = self._state(slug)
        plain = not overrides and base_settings is None
        if plain:
            cached = state.resolutions.get(profile)
            if cached is not None:
                if runtime_key:
                    check_runtime_key(runtime_key)
                    return dataclasses.replace(cached, runtime_key=runtime_key)
                return cached
        if state.registry is None:
            raise self._store.registry_not_found(slug)
        profile_slug, chosen = choose_profile(state.registry, slug, profile)
        runtime, parts = state.runtime(profile_slug, chosen)
        if not plain:
            return resolve_profile(state.registry, slug, chosen, profile_slug, overrides=overrides,
                                   base_settings=base_settings, runtime_key=runtime_key, runtime=runtime,
                                   runtime_parts=parts)
        result = resolve_profile(state.registry, slug, chosen, profile_slug, runtime=runtime, runtime_parts=parts)
        state.resolutions[profile] = result
        if runtime_key:
            check_runtime_key(runtime_key)
            return dataclasses.replace(result, runtime_key=runtime_key)
        return result

    # ------------------------------------------------------------------ reads
    def list_registries(self) -> list[dict[str, Any]]:
        """Every healthy registry (full objects, independent copies), sorted by slug."""
        with self._lock:
            self._check_open()
            return self._service.list_registries()

    def get_registry(self, registry: str | None = None) -> dict[str, Any]:
        """The registry (an independent copy); NotFoundError if there is none."""
        current = self._registry(registry)[1]
        copied = thaw({key: value for key, value in current.items() if key != "profiles"})
        if "profiles" in current:  # a mapping the store may decode lazily: copied entry by entry
            profiles = current["profiles"]
            copied["profiles"] = None if profiles is None else {slug: thaw(profiles[slug]) for slug in profiles}
        return copied

    def list_profiles(self, registry: str | None = None) -> list[dict[str, Any]]:
        """The registry's profiles (independent copies, each with `slug`), sorted by slug."""
        profiles = self._registry(registry)[1].get("profiles") or {}
        return [thaw(profiles[slug]) for slug in sorted(profiles)]

    def get_profile(self, profile: str, *, registry: str | None = None) -> dict[str, Any]:
        """One profile (an independent copy); NotFoundError if the registry or it is missing."""
        _slug, current = self._registry(registry)
        profiles = current.get("profiles") or {}
        if not isinstance(profile, str) or profile not in profiles:
            raise NotFoundError("profile", profile)
        return thaw(profiles[profile])

    # ------------------------------------------------------------------ writes
    def _write(self, operation: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            self._check_open()
            return operation(*args, **kwargs)

    def create_registry(self, registry: Mapping[str, Any], *, actor: str = "", source: str = "") -> dict[str, Any]:
        """Create a registry (`slug`, `display_name`, `description`, ...); one that exists
        is a VersionConflictError. Returns the stored registry."""
        return self._write(self._service.create_registry, registry, WriteOptions(actor=actor, source=source))

    def delete_registry(self, registry: str, *, expected_version: int | None = None,
                        actor: str = "", source: str = "") -> None:
        """Delete a registry and its profiles; `expected_version` is the registry's."""
        self._write(self._service.delete_registry, registry, WriteOptions(expected_version, actor, source))

    def create_profile(self, profile: Mapping[str, Any], *, registry: str | None = None,
                       expected_version: int | None = None, actor: str = "", source: str = "") -> dict[str, Any]:
        """Create a profile (`profile["slug"]` names it); one that exists is a conflict.
        `expected_version` is the registry's. Returns the stored profile."""
        return self._write(self._service.create_profile, registry, profile,
                           WriteOptions(expected_version, actor, source))

    def update_profile(self, profile: str, patch: Mapping[str, Any], *, registry: str | None = None,
                       expected_version: int | None = None, actor: str = "", source: str = "") -> dict[str, Any]:
        """Replace the fields given in `patch` (display_name, description, runtime, policy,
        tags; runtime and policy field by field) and keep the rest. `expected_version` is
        the profile's; a read-only profile is a PolicyViolationError."""
        return self._write(self._service.update_profile, registry, profile, patch,
                           WriteOptions(expected_version, actor, source))

    def delete_profile(self, profile: str, *, registry: str | None = None, new_default: str | None = None,
                       expected_version: int | None = None, actor: str = "", source: str = "") -> None:
        """Delete a profile (`expected_version` is the profile's); deleting the default
        while others remain needs `new_default`; a read-only profile is refused."""
        self._write(self._service.delete_profile, registry, profile,
                    WriteOptions(expected_version, actor, source), new_default=new_default)

    def set_default_profile(self, profile: str, *, registry: str | None = None,
                            expected_version: int | None = None, actor: str = "", source: str = "") -> dict[str, Any]:
        """Make `profile` the registry's default; `expected_version` is the registry's."""
        return self._write(self._service.set_default_profile, registry, profile,
                           WriteOptions(expected_version, actor, source))

    # ------------------------------------------------------------------ change events
    def on_change(self, callback: Callable[[ChangeEvent], None], *, registry: str | None = None) -> Callable[[], None]:
        """Call `callback({"registry": SLUG, "version": N})` (from a background thread) for
        every change to a registry (only `registry`'s, if given) committed from now on.
        Returns a function that unsubscribes. A failing callback is logged, not raised."""
        with self._lock:
            self._check_open()
            if self._watched is None:
                token = self._store.change_token()
                self._watched = (token, self._store.registry_states())
            entry = (callback, registry)
            self._subscribers.append(entry)
            if self._watcher is None:
                self._watcher = threading.Thread(target=self._watch_loop, name="profreg-watch", daemon=True)
                self._watcher.start()

        def unsubscribe() -> None:
            with self._lock:
                if entry in self._subscribers:
                    self._subscribers.remove(entry)

        return unsubscribe

    def watch(self, registry: str | None = None) -> Iterator[ChangeEvent]:
        """Change events (see `on_change`) as an iterator, from the moment of this call; it
        ends when the client closes."""
        events: queue.Queue[ChangeEvent | None] = queue.Queue()
        feed = _QueueFeed(events)
        return self._drain(events, self.on_change(feed, registry=registry))

    @staticmethod
    def _drain(events: "queue.Queue[ChangeEvent | None]", unsubscribe: Callable[[], None]) -> Iterator[ChangeEvent]:
        try:
            while True:
                try:
                    event = events.get(timeout=0.5)  # a timeout keeps Ctrl-C responsive
                except queue.Empty:
                    continue
                if event is None:
                    return
                yield event
        finally:
            unsubscribe()

    def _watch_loop(self) -> None:
        while not self._stop.wait(self._watch_interval):
            try:
                events = self._poll_changes()
            except Exception:  # a store that went away: say so, keep watching
                logger.exception("profreg: watching the store failed")
                continue
            if events:
                self._deliver(events)

    def _poll_changes(self) -> list[ChangeEvent]:
        with self._lock:
            if self._closed or self._watched is None:
                return []
            token = self._store.change_token()
            before_token, before = self._watched
            if token == before_token or token == self._failed_token:
                return []
            try:
                after = self._store.registry_states()
            except StoreError as exc:
                self._failed(token, exc)
                return []
            self._recovered(token)
            self._watched = (token, after)
        events = []
        for slug in sorted(before.keys() | after.keys()):
            old, new = before.get(slug), after.get(slug)
            if old != new:
                events.append({"registry": slug, "version": None if new is None else new[0]})
        return events

    def _deliver(self, events: list[ChangeEvent]) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for event in events:
            for callback, registry in subscribers:
                if registry is not None and registry != event["registry"]:
                    continue
                try:
                    callback(dict(event))
                except Exception:
                    logger.exception("profreg: an on_change callback failed")


def connect(spec: str, *, registry: str = DEFAULT_REGISTRY,
            max_cached_profiles: int = DEFAULT_MAX_CACHED_PROFILES) -> Client:
    """Open the store `spec` names (as the CLI's `--store`: `PATH.yaml`, `PATH.db`,
    `yaml:PATH`, `sqlite:PATH`, ...) for an application; `registry` is the one used when a
    call names none (and what a legacy-form YAML file is read as).

    A missing YAML or SQLite path is an empty store. Errors are the typed errors of
    `profreg.errors` (StoreError for a store that cannot be opened, UsageError for a spec
    that names no known kind of store).
    """
    # An application mostly reads: a YAML store keeps its registries, not the file's node tree.
    store = open_store(spec, legacy_registry=registry, source_map=False)
    try:
        return Client(store, registry=registry, max_cached_profiles=max_cached_profiles)
    except BaseException:
        store.close()
        raise
