"""The service on a store (SPEC section 5): reads, profile CRUD with policy checks, resolve.

The store guarantees versioning, validation of every write and atomicity; the service adds
what a caller means: defaults (registry `default`, the registry's default profile), "create"
that refuses what exists, "update" as a patch, read-only profiles, and resolution.
"""
from __future__ import annotations

import copy
import dataclasses
from typing import Any, Callable, Mapping

from . import history
from .errors import NotFoundError, PolicyViolationError, ValidationError, VersionConflictError
from .model import NESTED_PATCH_FIELDS, PROFILE_PATCH_FIELDS, REGISTRY_PATCH_FIELDS, version_of
from .resolve import Resolution, choose_profile, resolve_profile
from .stores.contract import Store, WriteOptions

DEFAULT_REGISTRY = "default"

# Attempts of an update/delete that someone else's write keeps overtaking.
_OPTIMISTIC_RETRIES = 5


def _options(options: "WriteOptions | None") -> "WriteOptions":
    if options is not None:
        return options
    return WriteOptions()


def _patched(current: Mapping[str, Any], slug: str, patch: Mapping[str, Any]) -> dict[str, Any]:
    """`current` with the patch applied: top-level fields replaced, runtime/policy per field."""
    updated = copy.deepcopy(dict(current))
    updated["slug"] = slug
    for name, value in patch.items():
        if name == "tags":
            updated["metadata"] = {**(updated.get("metadata") or {}), "tags": copy.deepcopy(value)}
        elif name in NESTED_PATCH_FIELDS and isinstance(value, Mapping):
            updated[name] = {**(updated.get(name) or {}), **copy.deepcopy(dict(value))}
        else:
            updated[name] = copy.deepcopy(value)
    return updated


def _is_read_only(profile: Mapping[str, Any]) -> bool:
    return bool((profile.get("policy") or {}).get("read_only"))


class Service:
    """Registry and profile operations on one store; `default_registry` is used when none is named."""

    def __init__(self, store: "Store", default_registry: str = DEFAULT_REGISTRY):
        self.store = store
        self.default_registry = default_registry

    def _registry_slug(self, registry: str | None) -> str:
        return registry or self.default_registry

    # ---------------------------------------------------------------- reads
    def list_registries(self) -> list[dict[str, Any]]:
        return self.store.list_registries()

    def corrupt_registries(self) -> list[tuple[str, str]]:
        return self.store.corrupt_registries()

    def get_registry(self, registry: str | None = None) -> dict[str, Any]:
        return self.store.get_registry(self._registry_slug(registry))

    def list_profiles(self, registry: str | None = None) -> list[dict[str, Any]]:
        return self.store.list_profiles(self._registry_slug(registry))

    def get_profile(self, registry: str | None, profile: str) -> dict[str, Any]:
        return self.store.get_profile(self._registry_slug(registry), profile)

    # ---------------------------------------------------------------- registry writes
    def create_registry(self, registry: Mapping[str, Any], options: "WriteOptions | None" = None) -> dict[str, Any]:
        """Create a registry; one that exists already is a conflict (exit 5), not an overwrite."""
        options = dataclasses.replace(_options(options), create_only=True)
        return self.store.upsert_registry(dict(registry), options)

    def update_registry(self, registry: str, patch: Mapping[str, Any],
                        options: "WriteOptions | None" = None) -> dict[str, Any]:
        """Replace the registry's own fields given (display_name, description); keep the rest.

        Profiles and the default profile are untouched; `expected_version` is the registry's.
        """
        unknown = sorted(set(patch) - set(REGISTRY_PATCH_FIELDS))
        if unknown:
            raise ValidationError(
                f"registry.{unknown[0]}: cannot be updated; updatable fields: {', '.join(REGISTRY_PATCH_FIELDS)}",
                field=f"registry.{unknown[0]}",
            )
        options = _options(options)
        for _attempt in range(_OPTIMISTIC_RETRIES):
            current = self.store.get_registry(registry)
            checked = options if options.expected_version else dataclasses.replace(
                options, expected_version=version_of(current))
            fields = {k: v for k, v in current.items() if k not in ("profiles", "default_profile_slug")}
            fields.update(copy.deepcopy(dict(patch)))
            try:
                return self.store.upsert_registry(fields, checked)
            except VersionConflictError:
                if options.expected_version:
                    raise
        raise VersionConflictError("registry", registry, None, None,
                                   message=f"registry {registry} keeps changing; try again")

    def delete_registry(self, registry: str, options: "WriteOptions | None" = None, *,
                        force: bool = False) -> dict[str, Any]:
        """Delete a registry and its profiles; `expected_version` is the registry's. Returns
        the registry as it was when deleted.

        A registry holding read-only profiles is deleted only with `force` (SPEC 6)."""
        options = _options(options)
        for _attempt in range(_OPTIMISTIC_RETRIES):
            current = self.store.get_registry(registry)
            locked = sorted(slug for slug, p in (current.get("profiles") or {}).items() if _is_read_only(p or {}))
            if locked and not force:
                raise PolicyViolationError(
                    f"registry {registry} holds read-only profiles ({', '.join(locked)}); "
                    "deleting it needs --force"
                )
            if options.expected_version:
                return self.store.delete_registry(registry, options)
            try:  # the check above holds for the version just read, not for a later one
                return self.store.delete_registry(
                    registry, dataclasses.replace(options, expected_version=version_of(current)))
            except VersionConflictError:
                continue
        raise VersionConflictError("registry", registry, None, None,
                                   message=f"registry {registry} keeps changing; try again")

    # ---------------------------------------------------------------- profile writes
    def create_profile(self, registry: str | None, profile: Mapping[str, Any],
                       options: "WriteOptions | None" = None) -> dict[str, Any]:
        """Create a profile; one that exists is a conflict. `expected_version` is the registry's."""
        options = _options(options)
        options = dataclasses.replace(
            options, expected_version=None, expected_registry_version=options.expected_version,
            create_only=True,
        )
        return self.store.upsert_profile(self._registry_slug(registry), dict(profile), options)

    def update_profile(self, registry: str | None, profile: str, patch: Mapping[str, Any],
                       options: "WriteOptions | None" = None, *, force: bool = False) -> dict[str, Any]:
        """Replace the given fields (display_name, description, runtime, policy, tags), keep the rest.

        `runtime` and `policy` are patched per field; `expected_version` is the profile's.
        A read-only profile is changed only with `force` (else PolicyViolationError).
        """
        options = _options(options)
        registry_slug = self._registry_slug(registry)
        unknown = sorted(set(patch) - set(PROFILE_PATCH_FIELDS))
        if unknown:
            raise ValidationError(
                f"profile.{unknown[0]}: cannot be updated; updatable fields: {', '.join(PROFILE_PATCH_FIELDS)}",
                field=f"profile.{unknown[0]}",
            )

        def write(current: dict[str, Any], checked: "WriteOptions") -> dict[str, Any]:
            return self.store.upsert_profile(registry_slug, _patched(current, profile, patch), checked)

        return self._read_check_write(registry_slug, profile, options, write, force)

    def delete_profile(self, registry: str | None, profile: str, options: "WriteOptions | None" = None,
                       new_default: str | None = None, *, force: bool = False) -> dict[str, Any]:
        """Delete a profile (`expected_version` is the profile's); a read-only one only with `force`.
        Returns the registry after the delete."""
        registry_slug = self._registry_slug(registry)

        def write(_current: dict[str, Any], checked: "WriteOptions") -> dict[str, Any]:
            return self.store.delete_profile(registry_slug, profile, checked, new_default=new_default)

        return self._read_check_write(registry_slug, profile, _options(options), write, force)

    def set_default_profile(self, registry: str | None, profile: str,
                            options: "WriteOptions | None" = None) -> dict[str, Any]:
        """Make `profile` the registry's default; `expected_version` is the registry's."""
        return self.store.set_default_profile(self._registry_slug(registry), profile, _options(options))

    def _read_check_write(self, registry_slug: str, profile: str, options: "WriteOptions",
                          write: Callable[[dict[str, Any], "WriteOptions"], Any], force: bool) -> Any:
        """Read the profile, refuse a read-only one unless forced, then write with a version check.

        The store compares versions inside its transaction. Without a caller's
        `expected_version` the version just read is used, so a write made by someone else
        between the read and the write is never overwritten: the read is retried instead.
        """
        for _attempt in range(_OPTIMISTIC_RETRIES):
            current = self.store.get_profile(registry_slug, profile)
            if _is_read_only(current) and not force:
                raise PolicyViolationError(
                    f"profile {registry_slug}/{profile} is read-only; changing or deleting it needs --force"
                )
            if options.expected_version:
                return write(current, options)
            read_version = version_of(current)
            try:
                return write(current, dataclasses.replace(options, expected_version=read_version))
            except VersionConflictError:
                continue  # someone else wrote in between: read again
        raise VersionConflictError("profile", f"{registry_slug}/{profile}", None, None,
                                   message=f"profile {registry_slug}/{profile} keeps changing; try again")

    # ---------------------------------------------------------------- resolve
    def resolve(self, registry: str | None = None, profile: str | None = None,
                overrides: Mapping[str, Any] | None = None, base_settings: Mapping[str, Any] | None = None,
                runtime_key: str | None = None) -> Resolution:
        """SPEC section 5: choose registry and profile, check overrides, merge, fingerprint."""
        registry_slug = self._registry_slug(registry)
        if profile:
            chosen = self._named_profile(registry_slug, profile)
            # Of the registry only its own fields are read, and only when needed (for
            # profile.source): copying, even decoding, thousands of profiles costs more than
            # the resolution itself.
            has_source = bool((chosen.get("metadata") or {}).get("source"))
            current = {} if has_source else self.store.registry_fields(registry_slug)
            return resolve_profile(current, registry_slug, chosen, profile, overrides=overrides,
                                   base_settings=base_settings, runtime_key=runtime_key)

        current = self.store.get_registry(registry_slug)
        profile_slug, chosen = choose_profile(current, registry_slug, None)
        return resolve_profile(current, registry_slug, chosen, profile_slug,
                               overrides=overrides, base_settings=base_settings, runtime_key=runtime_key)

    def _named_profile(self, registry_slug: str, profile: str) -> dict[str, Any]:
        try:
            return self.store.get_profile(registry_slug, profile)
        except NotFoundError as exc:
            if exc.resource == "profile":  # name it with its registry
                raise NotFoundError("profile", f"{registry_slug}/{profile}") from None
            raise

    # ---------------------------------------------------------------- history
    def resolve_version(self, registry: str | None, profile: str, version: int,
                        overrides: Mapping[str, Any] | None = None, base_settings: Mapping[str, Any] | None = None,
                        runtime_key: str | None = None) -> Resolution:
        """Resolve `profile` as it was at profile version `version`: the fingerprint is the
        one it had then."""
        registry_slug = self._registry_slug(registry)
        state, old = history.profile_at(self.store, registry_slug, profile, version)
        return resolve_profile(state, registry_slug, old, profile, overrides=overrides,
                               base_settings=base_settings, runtime_key=runtime_key)

    def rollback_profile(self, registry: str | None, profile: str, version: int,
                         options: "WriteOptions | None" = None, *, force: bool = False) -> dict[str, Any]:
        """A new write of `profile` whose content equals its version `version` (its version
        grows). A read-only profile is refused unless `force`; `expected_version` is the
        profile's. A profile deleted since is created again."""
        options = _options(options)
        registry_slug = self._registry_slug(registry)
        _state, old = history.profile_at(self.store, registry_slug, profile, version)
        given = _content_of(old)
        try:
            self.store.get_profile(registry_slug, profile)
        except NotFoundError:
            return self.store.upsert_profile(registry_slug, given, dataclasses.replace(options, create_only=True))

        def write(_current: dict[str, Any], checked: "WriteOptions") -> dict[str, Any]:
            return self.store.upsert_profile(registry_slug, given, checked)

        return self._read_check_write(registry_slug, profile, options, write, force=force)

    def rollback_registry(self, registry: str | None, version: int, options: "WriteOptions | None" = None,
                          *, force: bool = False) -> dict[str, Any]:
        """A new write of the registry whose content equals its version `version`: profiles
        equal to their old content are left as they are, the others written again (their
        versions grow). Refused if it would change or remove a read-only profile, unless
        `force`; `expected_version` is the registry's."""
        options = _options(options)
        registry_slug = self._registry_slug(registry)
        old = history.registry_at(self.store, registry_slug, version)
        given = {k: copy.deepcopy(v) for k, v in old.items() if k not in ("metadata", "profiles")}
        given.setdefault("default_profile_slug", None)  # none then: none now
        given["metadata"] = {"tags": list((old.get("metadata") or {}).get("tags") or [])}
        given["profiles"] = {slug: _content_of(p) for slug, p in (old.get("profiles") or {}).items()}
        try:
            current = self.store.get_registry(registry_slug)
        except NotFoundError:
            current = None
        if current is not None and not force:
            for slug, profile in (current.get("profiles") or {}).items():
                if _is_read_only(profile) and history.profile_changes(profile, given["profiles"].get(slug)):
                    raise PolicyViolationError(f"profile {registry_slug}/{slug} is read-only; rolling back "
                                               f"registry {registry_slug} to version {version} would change it")
        if not options.expected_version and current is not None:
            # what was checked above is what gets replaced, or the write is refused (exit 5)
            options = dataclasses.replace(options, expected_version=version_of(current))
        return self.store.upsert_registry(given, options)


def _content_of(profile: Mapping[str, Any]) -> dict[str, Any]:
    """A profile as input for a write: its fields and tags, no managed metadata."""
    out = {k: copy.deepcopy(v) for k, v in profile.items() if k != "metadata"}
    tags = (profile.get("metadata") or {}).get("tags")
    if tags is not None:
        out["metadata"] = {"tags": list(tags)}
    return out
