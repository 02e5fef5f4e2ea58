"""Write semantics shared by every backend (SPEC section 4), as pure functions.

Each function takes the current registry (None when absent; never modified) and returns
the registry to persist (None: delete it), or raises: `NotFoundError`,
`VersionConflictError`, or `ValidationError` when the whole resulting registry fails the
validation engine. Backends run them inside their lock / transaction.

Semantics chosen where the SPEC is silent (also in the README):
- `upsert_registry` replaces the registry's own fields (`display_name`, `description`);
  `default_profile_slug` and `profiles` are kept when the input leaves them out. When the
  input does carry `profiles`, that is the new profile set: profiles equal to the stored
  ones (ignoring metadata) are kept untouched, the others are written like `upsert_profile`.
- `upsert_profile` replaces the profile's fields (`display_name`, `description`, `runtime`,
  `policy`); the service does field-wise patching before calling it.
- `metadata.tags` are user data: taken from the input when it has them, else kept.
  `metadata.source` follows `WriteOptions.source`, else the input's `source`, else is kept.
  The other metadata fields are managed and ignored in the input.
- Deleting a profile with `new_default` sets that default whether or not the deleted
  profile was the default; a `new_default` that names no remaining profile is NotFound.
"""
from __future__ import annotations

import copy
import time
from typing import Any

from .. import engine
from ..engine import errors_only, first_error_line
from ..errors import NotFoundError, ValidationError, VersionConflictError
from ..model import (
    MANAGED_METADATA,
    METADATA_KEY_ORDER,
    PROFILE_SECTIONS,
    PROFILE_STRING_FIELDS,
    REGISTRY_SECTIONS,
    REGISTRY_STRING_FIELDS,
    version_of,
)
from .contract import Registry, WriteOptions


def now_ms() -> int:
    return time.time_ns() // 1_000_000


# --------------------------------------------------------------------------------------
# Normalising what backends read (Go payloads carry null / {} for empty optional fields)
# --------------------------------------------------------------------------------------
def _drop_empty(obj: dict, strings: tuple[str, ...], mappings: tuple[str, ...]) -> None:
    for key in strings:
        if key in obj and obj[key] is None:
            del obj[key]
    for key in mappings:
        if key in obj and (obj[key] is None or obj[key] == {}):
            del obj[key]


def normalise_profile(profile: Any, slug: str) -> Any:
    """A profile as stores return it: `slug` filled in, null/{} optional fields absent."""
    if not isinstance(profile, dict):
        return profile
    out = dict(profile)
    _drop_empty(out, PROFILE_STRING_FIELDS + ("slug",), PROFILE_SECTIONS)
    for section in PROFILE_SECTIONS:
        inner = out.get(section)
        if isinstance(inner, dict):
            inner = out[section] = {k: v for k, v in inner.items() if v is not None}
            if section == "runtime" and inner.get("step_settings_patch") == {}:
                del inner["step_settings_patch"]
            if not inner:
                del out[section]
    out.setdefault("slug", slug)
    return out


def normalise_registry(registry: Any, slug: str | None = None) -> Any:
    """A registry as stores return it: `slug` and `profiles` present, profiles normalised.

    Non-mapping input is returned unchanged (validation reports it)."""
    if not isinstance(registry, dict):
        return registry
    out = dict(registry)
    _drop_empty(out, REGISTRY_STRING_FIELDS + ("slug",), REGISTRY_SECTIONS)
    metadata = out.get("metadata")
    if isinstance(metadata, dict):
        metadata = {k: v for k, v in metadata.items() if v is not None}
        if metadata:
            out["metadata"] = metadata
        else:
            del out["metadata"]
    if slug is not None:
        out.setdefault("slug", slug)
    profiles = out.get("profiles")
    if profiles is None:
        out["profiles"] = {}
    elif isinstance(profiles, dict):
        out["profiles"] = {key: normalise_profile(value, key) for key, value in profiles.items()}
    return out


# --------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------
def check_valid(registry: Registry, unchanged_from: Registry | None = None) -> Registry:
    """Validate the whole resulting registry with the engine; ValidationError if invalid.

    `unchanged_from`: the (valid) registry the write started from; profiles it shares with
    the result are not re-checked one by one (a one-profile write to a registry of 40,000
    checks one profile, plus the registry's own rules)."""
    errors = errors_only(engine.validate_registry(registry, valid_profiles=unchanged_from))
    if errors:
        raise ValidationError(first_error_line(errors), errors)
    return registry


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError(f"{field}: {message}", field=field)


def _slug_of(kind: str, obj: Any) -> str:
    if not isinstance(obj, dict):
        raise _invalid(kind, f"a {kind} must be a mapping")
    slug = obj.get("slug")
    if not isinstance(slug, str) or not slug:
        raise _invalid(f"{kind}.slug", f"the {kind} needs a slug")
    return slug


def registry_slug_of(registry: Any) -> str:
    return _slug_of("registry", registry)


def profile_slug_of(profile: Any) -> str:
    return _slug_of("profile", profile)


def _check_expected(resource: str, slug: str, expected: int | None, obj: dict | None) -> None:
    if expected:  # None and 0 mean "no check"
        actual = version_of(obj)
        if actual != expected:
            raise VersionConflictError(resource, slug, expected, actual)


def _check_create_only(resource: str, slug: str, options: WriteOptions, existing: dict | None) -> None:
    if options.create_only and existing is not None:
        actual = version_of(existing)
        raise VersionConflictError(
            resource, slug, 0, actual, f"{resource} {slug!r} already exists (version {actual})"
        )


# --------------------------------------------------------------------------------------
# Managed metadata
# --------------------------------------------------------------------------------------
def _written_metadata(previous: Any, given: Any, options: WriteOptions, now: int) -> Any:
    """Metadata after a write: `previous` None for a new object; `given` from the input."""
    if given is not None and not isinstance(given, dict):
        return given  # validation reports it
    given = given or {}
    user = {k: v for k, v in given.items() if k not in MANAGED_METADATA and k != "source"}
    if previous is None or not isinstance(previous, dict):
        meta: dict[str, Any] = {"version": 1, "created_at_ms": now, "updated_at_ms": now}
        if options.actor:
            meta["created_by"] = meta["updated_by"] = options.actor
    else:
        meta = {k: v for k, v in previous.items()}
        meta["version"] = version_of({"metadata": previous}) + 1
        previous_update = previous.get("updated_at_ms")
        meta["updated_at_ms"] = max(now, previous_update) if isinstance(previous_update, int) else now
        meta.setdefault("created_at_ms", meta["updated_at_ms"])
        if options.actor:
            meta["updated_by"] = options.actor
            meta.setdefault("created_by", options.actor)
    source = options.source or given.get("source")
    if source:
        meta["source"] = source
    meta.update(user)  # tags (and any unknown key, which validation then reports)
    return _ordered_metadata(meta)


def _ordered_metadata(meta: dict[str, Any]) -> dict[str, Any]:
    """Managed fields first, in the schema's order (how new metadata reads in a YAML file)."""
    out = {key: meta[key] for key in METADATA_KEY_ORDER if key in meta}
    out.update((key, value) for key, value in meta.items() if key not in out)
    return out


def _bump_registry(registry: Registry, options: WriteOptions, now: int) -> None:
    registry["metadata"] = _written_metadata(registry.get("metadata") or {}, None, options, now)


def _written_profile(previous: dict | None, given: dict, slug: str, options: WriteOptions, now: int) -> dict:
    out = {k: copy.deepcopy(v) for k, v in given.items() if k != "metadata"}
    out["slug"] = slug
    previous_meta = (previous.get("metadata") or {}) if previous is not None else None
    out["metadata"] = _written_metadata(previous_meta, given.get("metadata"), options, now)
    if previous is not None and "tags" not in (given.get("metadata") or {}) and "tags" in previous_meta:
        out["metadata"]["tags"] = list(previous_meta["tags"])
    return normalise_profile(out, slug)


def _content(profile: Any) -> Any:
    """A profile without metadata and slug: what decides whether it changed."""
    if not isinstance(profile, dict):
        return profile
    return {k: v for k, v in profile.items() if k not in ("metadata", "slug")}


# --------------------------------------------------------------------------------------
# Operations
# --------------------------------------------------------------------------------------
def upsert_registry(current: Registry | None, given: dict, options: WriteOptions) -> Registry:
    slug = registry_slug_of(given)
    _check_create_only("registry", slug, options, current)
    _check_expected("registry", slug, options.expected_version, current)
    now = now_ms()
    out: Registry = {k: copy.deepcopy(v) for k, v in given.items() if k not in ("metadata", "profiles")}
    previous_meta = (current.get("metadata") or {}) if current is not None else None
    out["metadata"] = _written_metadata(previous_meta, given.get("metadata"), options, now)
    if current is not None:
        if "tags" not in (given.get("metadata") or {}) and "tags" in previous_meta:
            out["metadata"]["tags"] = list(previous_meta["tags"])
        if "default_profile_slug" not in given and "default_profile_slug" in current:
            out["default_profile_slug"] = current["default_profile_slug"]
    old_profiles = current["profiles"] if current is not None else {}
    if "profiles" not in given:
        out["profiles"] = copy.deepcopy(old_profiles)
    elif not isinstance(given["profiles"], dict):
        out["profiles"] = given["profiles"]  # validation reports it
    else:
        out["profiles"] = {}
        for key, profile in given["profiles"].items():
            previous = old_profiles.get(key)
            if not isinstance(profile, dict):
                out["profiles"][key] = profile  # validation reports it
            elif previous is not None and _content(normalise_profile(profile, key)) == _content(previous):
                out["profiles"][key] = copy.deepcopy(previous)
            else:
                given_profile = dict(profile)
                given_profile.setdefault("slug", key)
                out["profiles"][key] = _written_profile(previous, given_profile, given_profile["slug"], options, now)
    return check_valid(normalise_registry(out, slug))


def delete_registry(current: Registry | None, slug: str, options: WriteOptions) -> None:
    if current is None:
        raise NotFoundError("registry", slug)
    _check_expected("registry", slug, options.expected_version, current)
    return None


def _existing(current: Registry | None, slug: str) -> Registry:
    """A copy of the registry to change: its own dict and `profiles` dict; the profiles in it
    are shared with `current` and are replaced, never modified in place (stored objects
    are immutable by convention: reads hand out deep copies)."""
    if current is None:
        raise NotFoundError("registry", slug)
    out = dict(current)
    out["profiles"] = dict(current["profiles"])
    return out


def upsert_profile(current: Registry | None, registry: str, given: dict, options: WriteOptions) -> Registry:
    profile_slug = profile_slug_of(given)
    out = _existing(current, registry)
    _check_expected("registry", registry, options.expected_registry_version, out)
    previous = out["profiles"].get(profile_slug)
    _check_create_only("profile", profile_slug, options, previous)
    _check_expected("profile", profile_slug, options.expected_version, previous)
    now = now_ms()
    out["profiles"][profile_slug] = _written_profile(previous, given, profile_slug, options, now)
    if not out.get("default_profile_slug"):
        out["default_profile_slug"] = profile_slug  # the first profile of an empty registry
    _bump_registry(out, options, now)
    return check_valid(out, current)


def delete_profile(
    current: Registry | None,
    registry: str,
    profile: str,
    options: WriteOptions,
    new_default: str | None,
) -> Registry:
    out = _existing(current, registry)
    _check_expected("registry", registry, options.expected_registry_version, out)
    previous = out["profiles"].get(profile)
    if previous is None:
        raise NotFoundError("profile", profile, registry=registry)
    _check_expected("profile", profile, options.expected_version, previous)
    del out["profiles"][profile]
    if new_default:
        if new_default not in out["profiles"]:
            raise NotFoundError("profile", new_default, registry=registry)
        out["default_profile_slug"] = new_default
    elif out.get("default_profile_slug") == profile:
        if out["profiles"]:
            raise ValidationError(
                f"registry.default_profile_slug: {profile!r} is the default profile of registry "
                f"{registry!r}; give a new default to delete it",
                field="registry.default_profile_slug",
            )
        del out["default_profile_slug"]  # the last profile: a valid empty registry
    _bump_registry(out, options, now_ms())
    return check_valid(out, current)


def set_default_profile(current: Registry | None, registry: str, profile: str, options: WriteOptions) -> Registry:
    out = _existing(current, registry)
    if profile not in out["profiles"]:
        raise NotFoundError("profile", profile, registry=registry)
    _check_expected("registry", registry, options.expected_version, out)
    out["default_profile_slug"] = profile
    _bump_registry(out, options, now_ms())
    return check_valid(out, current)


def imported(registry: dict) -> Registry:
    """A registry stored as given, managed metadata included (migrate)."""
    slug = registry_slug_of(registry)
    return check_valid(normalise_registry(copy.deepcopy(registry), slug))
