"""The service on a store (SPEC section 5): reads, profile CRUD with policy checks, resolve.

The store guarantees versioning, validation of every write and atomicity; the service adds
what a caller means: defaults (registry `default`, the registry's default profile), "create"
that refuses what exists, "update" as a patch, read-only profiles, and resolution.
"""
from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Mapping

from .errors import NotFoundError, PolicyViolationError, ValidationError, VersionConflictError
from .resolve import Resolution, resolve_profile

if TYPE_CHECKING:
    from .stores.base import Store, WriteOptions

DEFAULT_REGISTRY = "default"

# What `update_profile` may change; `tags` lands in metadata, the rest are profile fields.
PROFILE_PATCH_FIELDS = ("display_name", "description", "runtime", "policy", "tags")
# runtime and policy are patched field by field: `--system-prompt` keeps the tools.
_NESTED_PATCH_FIELDS = ("runtime", "policy")


def _options(options: "WriteOptions | None") -> "WriteOptions":
    if options is not None:
        return options
    from .stores.base import WriteOptions

    return WriteOptions()


def _expected(options: "WriteOptions") -> int | None:
    return options.expected_version or None  # absent/0 means no check


def _version(obj: Mapping[str, Any] | None) -> int:
    return int(((obj or {}).get("metadata") or {}).get("version") or 0)


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
        options = _options(options)
        slug = registry.get("slug") or ""
        existing = self._find_registry(slug)
        if existing is not None:
            raise VersionConflictError(
                "registry", slug, _expected(options), _version(existing),
                message=f"registry {slug!r} already exists",
            )
        return self.store.upsert_registry(dict(registry), options)

    def delete_registry(self, registry: str, options: "WriteOptions | None" = None) -> None:
        self.store.delete_registry(registry, _options(options))

    # ---------------------------------------------------------------- profile writes
    def create_profile(self, registry: str | None, profile: Mapping[str, Any],
                       options: "WriteOptions | None" = None) -> dict[str, Any]:
        """Create a profile; one that exists is a conflict. `expected_version` is the registry's."""
        options = _options(options)
        registry_slug = self._registry_slug(registry)
        current = self.store.get_registry(registry_slug)
        slug = profile.get("slug") or ""
        if slug in (current.get("profiles") or {}):
            raise VersionConflictError(
                "profile", f"{registry_slug}/{slug}", _expected(options),
                _version(current["profiles"][slug]),
                message=f"profile {registry_slug}/{slug} already exists",
            )
        self._check_version("registry", registry_slug, current, options)
        return self.store.upsert_profile(registry_slug, dict(profile), self._unchecked(options))

    def update_profile(self, registry: str | None, profile: str, patch: Mapping[str, Any],
                       options: "WriteOptions | None" = None) -> dict[str, Any]:
        """Replace the given fields (display_name, description, runtime, policy, tags), keep the rest.

        `runtime` and `policy` are patched per field; `expected_version` is the profile's.
        """
        options = _options(options)
        registry_slug = self._registry_slug(registry)
        unknown = sorted(set(patch) - set(PROFILE_PATCH_FIELDS))
        if unknown:
            raise ValidationError(
                f"cannot update {', '.join(unknown)}; updatable fields: {', '.join(PROFILE_PATCH_FIELDS)}",
                field=f"profile.{unknown[0]}",
            )
        current = self.store.get_profile(registry_slug, profile)
        if _is_read_only(current):
            raise PolicyViolationError(f"profile {registry_slug}/{profile} is read-only")
        self._check_version("profile", f"{registry_slug}/{profile}", current, options)

        updated = copy.deepcopy(current)
        updated["slug"] = profile
        for name, value in patch.items():
            if name == "tags":
                updated.setdefault("metadata", {})["tags"] = copy.deepcopy(value)
            elif name in _NESTED_PATCH_FIELDS and isinstance(value, Mapping):
                merged = dict(updated.get(name) or {})
                merged.update(copy.deepcopy(dict(value)))
                updated[name] = merged
            else:
                updated[name] = copy.deepcopy(value)
        return self.store.upsert_profile(registry_slug, updated, self._unchecked(options))

    def delete_profile(self, registry: str | None, profile: str, options: "WriteOptions | None" = None,
                       new_default: str | None = None) -> None:
        """Delete a profile (`expected_version` is the profile's); read-only ones are refused."""
        options = _options(options)
        registry_slug = self._registry_slug(registry)
        current = self.store.get_profile(registry_slug, profile)
        if _is_read_only(current):
            raise PolicyViolationError(f"profile {registry_slug}/{profile} is read-only")
        self._check_version("profile", f"{registry_slug}/{profile}", current, options)
        self.store.delete_profile(registry_slug, profile, self._unchecked(options), new_default=new_default)

    def set_default_profile(self, registry: str | None, profile: str,
                            options: "WriteOptions | None" = None) -> dict[str, Any]:
        """Make `profile` the registry's default; `expected_version` is the registry's."""
        return self.store.set_default_profile(self._registry_slug(registry), profile, _options(options))

    # ---------------------------------------------------------------- resolve
    def resolve(self, registry: str | None = None, profile: str | None = None,
                overrides: Mapping[str, Any] | None = None, base_settings: Mapping[str, Any] | None = None,
                runtime_key: str | None = None) -> Resolution:
        """SPEC section 5: choose registry and profile, check overrides, merge, fingerprint."""
        registry_slug = self._registry_slug(registry)
        current = self.store.get_registry(registry_slug)
        profiles = current.get("profiles") or {}
        if profile:
            profile_slug = profile
        elif current.get("default_profile_slug"):
            profile_slug = current["default_profile_slug"]
        elif "default" in profiles:
            profile_slug = "default"
        else:
            raise ValidationError(
                f"registry {registry_slug!r} has no default profile; name one to resolve",
                field="profile.slug",
            )
        if profile_slug not in profiles:
            raise NotFoundError("profile", f"{registry_slug}/{profile_slug}")
        return resolve_profile(current, registry_slug, profiles[profile_slug] or {}, profile_slug,
                               overrides=overrides, base_settings=base_settings, runtime_key=runtime_key)

    # ---------------------------------------------------------------- helpers
    def _find_registry(self, slug: str) -> dict[str, Any] | None:
        try:
            return self.store.get_registry(slug)
        except NotFoundError:
            return None

    @staticmethod
    def _check_version(resource: str, slug: str, current: Mapping[str, Any], options: "WriteOptions") -> None:
        expected = _expected(options)
        if expected is not None and expected != _version(current):
            raise VersionConflictError(resource, slug, expected, _version(current))

    @staticmethod
    def _unchecked(options: "WriteOptions") -> "WriteOptions":
        """The same options without `expected_version`: the service compared it already."""
        import dataclasses

        return dataclasses.replace(options, expected_version=None)
