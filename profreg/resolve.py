"""Resolution (SPEC section 5): a profile plus request overrides -> effective runtime and settings.

Pure functions on plain dicts (the schema's field names); the service feeds them what it
read from a store. Nothing here touches a store, so the rules can be tested on their own.
"""
from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import rfc8785

from .errors import NotFoundError, PolicyViolationError, ValidationError
from .frozen import FrozenDict, FrozenList, freeze, thaw
from .model import MIDDLEWARE_FIELDS, OVERRIDE_KEYS, RUNTIME_KEY_ORDER
from .slugs import is_slug

_CAPITAL_AFTER_FIRST = re.compile(r"(?<=.)([A-Z])", re.DOTALL)


@functools.lru_cache(maxsize=1024)  # an application sends the same few keys on every request
def canonical_override_key(key: str) -> str:
    """`systemPrompt`, `SystemPrompt`, `system-prompt` -> `system_prompt`.

    Trimmed, `_` before every ASCII capital but the first character, lower-cased, `-` -> `_`.
    """
    key = key.strip()
    return _CAPITAL_AFTER_FIRST.sub(r"_\1", key).lower().replace("-", "_")


def _override_field(key: str) -> str:
    return f"request_overrides.{key}" if key else "request_overrides"


def _policy_keys(policy: Mapping[str, Any], name: str) -> set[str]:
    # Policy lists are compared in canonical form, so `systemPrompt` in a list means system_prompt.
    return {canonical_override_key(k) for k in policy.get(name) or () if isinstance(k, str)}


def check_overrides(overrides: Mapping[str, Any] | None, policy: Mapping[str, Any] | None,
                    profile_slug: str = "") -> dict[str, Any]:
    """Canonicalise and check request overrides; return them keyed by canonical key.

    Checks run in SPEC order over all keys: names first (a typo is named as a typo, even on a
    locked profile), then the policy, then value types.
    """
    if not overrides:
        return {}
    if type(overrides) is not dict and not isinstance(overrides, Mapping):
        raise ValidationError("request_overrides: must be a mapping of override key to value",
                              field="request_overrides")
    canonical: dict[str, Any] = {}
    for raw_key, value in overrides.items():
        key = canonical_override_key(raw_key) if isinstance(raw_key, str) else ""
        field = _override_field(key)
        if not key:
            raise ValidationError(f"{field}: an override key must not be empty", field=field)
        if key not in OVERRIDE_KEYS:
            raise ValidationError(
                f"{field}: unknown override key {raw_key!r}; supported keys: {', '.join(OVERRIDE_KEYS)}",
                field=field,
            )
        if key in canonical:
            raise ValidationError(f"{field}: override key given twice (as {raw_key!r} too)", field=field)
        canonical[key] = value

    policy = policy or {}
    who = f"profile {profile_slug!r}" if profile_slug else "the profile"
    # Closed by default (SPEC 2, as in Go): only an explicit `allow_overrides: true` opens it.
    if policy.get("allow_overrides") is not True:
        raise PolicyViolationError(f"{who} does not allow request overrides")
    denied = _policy_keys(policy, "denied_override_keys")
    allowed = _policy_keys(policy, "allowed_override_keys")
    for key in canonical:
        if key in denied:
            raise PolicyViolationError(f"{who} denies the override key {key!r}")
        if allowed and key not in allowed:
            raise PolicyViolationError(
                f"{who} does not allow the override key {key!r} (allowed: {', '.join(sorted(allowed))})"
            )

    for key, value in canonical.items():
        problem = _override_type_problem(key, value)
        if problem:
            field = _override_field(key)
            raise ValidationError(f"{field}: {problem}", field=field)
    return canonical


def _nonblank_string(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _override_type_problem(key: str, value: Any) -> str | None:
    if key == "system_prompt":
        return None if isinstance(value, str) else "must be a string"
    if key == "tools":
        if not isinstance(value, list):
            return "must be a list of tool names"
        for i, tool in enumerate(value):
            if not _nonblank_string(tool):
                return f"item {i} must be a non-empty string"
        return None
    if key == "middlewares":
        if not isinstance(value, list):
            return "must be a list of middlewares ({name, config})"
        for i, item in enumerate(value):
            if type(item) is not dict and not isinstance(item, Mapping):
                return f"item {i} must be an object with a `name` and an optional `config`"
            if not _nonblank_string(item.get("name")):
                return f"item {i} needs a non-empty string `name`"
            extra = sorted(set(item) - MIDDLEWARE_FIELDS)
            if extra:
                return f"item {i} has unknown keys: {', '.join(map(str, extra))}"
        return None
    if key == "step_settings_patch":
        return None if type(value) is dict or isinstance(value, Mapping) else "must be a mapping of section to settings"
    return "is not a supported override key"  # pragma: no cover - names are checked first


def _merged(target: Any, patch: Any) -> Any:
    """RFC 7386 merge of `patch` over `target`, sharing unchanged parts of both (no copies)."""
    if type(patch) is not dict and type(patch) is not FrozenDict and not isinstance(patch, Mapping):
        return patch
    result = dict(target) if isinstance(target, dict) or isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merged(result.get(key), value)
    return result


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON Merge Patch: mappings merge recursively, `null` removes, the rest replaces.

    Returns a new value that shares nothing with the arguments; neither is changed.
    """
    return thaw(_merged(target, patch))


def check_json_safe(value: Any, root: str = "") -> None:
    """ValidationError naming the first value canonical JSON cannot carry exactly, if any."""
    freeze(value, root)


# The standard encoder writes what RFC 8785 writes (sorted keys, the same string escapes,
# shortest round-trip float digits, UTF-8) except for two things: floats that Python spells
# `1.0` or with an exponent (`1e-07`), and keys outside the Basic Multilingual Plane (RFC
# 8785 sorts by UTF-16 code units). Text that may hold either, even inside a string, goes
# to rfc8785 instead, so the result is always exactly rfc8785's (a test compares the two
# on generated values). Plain substring tests go first: they rule most text out far
# faster than the pattern.
_FLOAT_SPELLING = re.compile("[0-9](?:\\.0(?![0-9])|e[-+])")


def _maybe_not_canonical(text: str) -> bool:
    if ("e-" in text or "e+" in text or ".0" in text) and _FLOAT_SPELLING.search(text) is not None:
        return True
    return not text.isascii() and max(text) > "\uffff"


_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def canonical_text(value: Any) -> str:
    """RFC 8785 (JCS) canonical JSON of a JSON value whose numbers are JSON-safe, as text."""
    try:
        text = _ENCODER.encode(value)
        if not _maybe_not_canonical(text):
            return text
    except (TypeError, ValueError):  # non-string keys, lone surrogates: rfc8785 says what is wrong
        pass
    try:
        return rfc8785.dumps(value).decode("utf-8")
    except rfc8785.CanonicalizationError as exc:  # e.g. a lone surrogate in a string
        raise ValidationError(f"the resolved profile cannot be canonicalised: {exc}") from None


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JCS) canonical JSON of a JSON value whose numbers are JSON-safe."""
    return canonical_text(value).encode("utf-8")


def fingerprint(payload: Any) -> str:
    """`sha256:` + hex SHA-256 of the RFC 8785 (JCS) canonical JSON of `payload`.

    A value JCS cannot encode exactly (an integer beyond ±(2^53-1), NaN, infinity) is a
    ValidationError naming where it is, not a silently different hash.
    """
    check_json_safe(payload)
    return "sha256:" + hashlib.sha256(canonical_json(payload)).hexdigest()


_EMPTY = FrozenDict()
_NO_ITEMS = FrozenList()


def _runtime_value(key: str, value: Any, root: str) -> Any:
    """One runtime key's effective value (its empty value when unset), frozen and JSON-safe."""
    if key == "system_prompt":
        return value or ""
    if key == "middlewares":
        return FrozenList([
            FrozenDict({"name": m.get("name"), "config": freeze(m.get("config"), f"{root}.middlewares[{i}].config")})
            for i, m in enumerate(value or _NO_ITEMS)
        ])
    if key == "tools":
        return freeze(list(value or _NO_ITEMS), f"{root}.tools")
    return freeze(value or _EMPTY, f"{root}.step_settings_patch")


def full_runtime(runtime: Mapping[str, Any] | None, root: str = "effective_runtime") -> FrozenDict:
    """Every runtime key present (`""`, `[]`, `{}`, `null` when empty), frozen and JSON-safe."""
    runtime = runtime or _EMPTY
    return FrozenDict({key: _runtime_value(key, runtime.get(key), root) for key in RUNTIME_KEY_ORDER})


def runtime_json(runtime: Mapping[str, Any]) -> dict[str, str]:
    """The canonical JSON of each key of a `full_runtime`, for `resolve_profile` to reuse."""
    return {key: canonical_text(runtime[key]) for key in RUNTIME_KEY_ORDER}


def _slug_text(slug: str) -> str:
    """`canonical_text` of a string, without the encoder for a slug (nothing to escape)."""
    if is_slug(slug):
        return f'"{slug}"'
    return canonical_text(slug)


def _payload_fingerprint(registry_slug: str, profile_slug: str, version: Any, runtime: Mapping[str, str],
                         settings: FrozenDict) -> str:
    """`fingerprint` of the SPEC payload, its canonical JSON put together from its parts.

    RFC 8785 is compositional (an object is its members' canonical forms in key order, and
    these keys are ASCII, so their order is plain string order): a runtime's parts are
    encoded once per profile, not on every resolve."""
    freeze(version, "profile_version")
    text = "".join((
        '{"profile_slug":', _slug_text(profile_slug),
        ',"profile_version":', str(version) if type(version) is int else canonical_text(version),
        ',"registry_slug":', _slug_text(registry_slug),
        ',"runtime":{"middlewares":', runtime["middlewares"],
        ',"step_settings_patch":', runtime["step_settings_patch"],
        ',"system_prompt":', runtime["system_prompt"],
        ',"tools":', runtime["tools"],
        '},"settings":', canonical_text(settings), "}",
    ))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Resolution:
    """The effective profile a resolve gives (SPEC section 5): an immutable value.

    `effective_runtime` (`system_prompt`, `middlewares`, `tools`, `step_settings_patch`,
    every key present), `effective_settings` and `metadata` are read-only mappings
    (`FrozenDict`: a `dict` whose mutating methods raise), so one result can be shared by
    every caller; `to_json()` gives a plain copy, exactly what `profreg resolve --format
    json` prints.
    """

    registry: str
    profile: str
    runtime_key: str
    effective_runtime: Mapping[str, Any]
    effective_settings: Mapping[str, Any]
    fingerprint: str
    metadata: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The CLI's `resolve --format json` object, as plain (mutable) JSON data."""
        return {
            "registry": self.registry,
            "profile": self.profile,
            "runtime_key": self.runtime_key,
            "effective_runtime": thaw(self.effective_runtime),
            "effective_settings": thaw(self.effective_settings),
            "fingerprint": self.fingerprint,
            "metadata": thaw(self.metadata),
        }


def _metadata_value(obj: Mapping[str, Any] | None, name: str) -> Any:
    return ((obj or {}).get("metadata") or {}).get(name)


def choose_profile(registry: Mapping[str, Any], registry_slug: str, profile: str | None) -> tuple[str, Mapping[str, Any]]:
    """SPEC section 5 step 2: (profile slug, profile) — the one named, else the registry's
    default, else one named `default`; ValidationError on `profile.slug` if none applies."""
    profiles = registry.get("profiles") or _EMPTY
    if profile:
        chosen = profile
    elif registry.get("default_profile_slug"):
        chosen = registry["default_profile_slug"]
    elif "default" in profiles:
        chosen = "default"
    else:
        raise ValidationError(
            f"profile.slug: registry {registry_slug!r} has no default profile and no profile "
            "named `default`; name the profile to resolve",
            field="profile.slug",
        )
    if chosen not in profiles:
        raise NotFoundError("profile", f"{registry_slug}/{chosen}")
    return chosen, profiles[chosen] or _EMPTY


def check_runtime_key(runtime_key: str | None) -> None:
    """ValidationError on `runtime_key` unless it is absent or a slug."""
    if runtime_key and not is_slug(runtime_key):
        raise ValidationError(f"runtime_key: {runtime_key!r} is not a valid slug", field="runtime_key")


def resolve_profile(
    registry: Mapping[str, Any],
    registry_slug: str,
    profile: Mapping[str, Any],
    profile_slug: str,
    overrides: Mapping[str, Any] | None = None,
    base_settings: Mapping[str, Any] | None = None,
    runtime_key: str | None = None,
    *,
    runtime: FrozenDict | None = None,
    runtime_parts: Mapping[str, str] | None = None,
) -> Resolution:
    """Apply steps 3-7 of SPEC section 5 to an already-chosen registry and profile.

    `runtime`, `runtime_parts`: the profile's `full_runtime` and its `runtime_json`, when
    the caller keeps them (a client that resolves the same profile again and again).
    """
    check_runtime_key(runtime_key)
    checked = check_overrides(overrides, profile.get("policy"), profile_slug)
    if base_settings is not None and type(base_settings) is not dict and not isinstance(base_settings, Mapping):
        raise ValidationError("base_settings: must be a mapping of section to settings",
                              field="base_settings")

    if runtime is None:
        runtime = full_runtime(profile.get("runtime"))
        runtime_parts = None
    parts = dict(runtime_parts) if runtime_parts is not None else runtime_json(runtime)
    if checked:
        replaced = dict(runtime)
        for key in RUNTIME_KEY_ORDER:  # schema order: the first value that cannot be frozen is named
            if key not in checked:
                continue
            if key == "step_settings_patch":  # merged over the profile's (SPEC 5); the others replace
                replaced[key] = freeze(_merged(runtime[key], checked[key]), "effective_runtime.step_settings_patch")
            else:
                replaced[key] = _runtime_value(key, checked[key], "effective_runtime")
            parts[key] = canonical_text(replaced[key])
        runtime = FrozenDict(replaced)
    settings = freeze(_merged(base_settings or _EMPTY, runtime["step_settings_patch"]), "effective_settings")

    version = _metadata_value(profile, "version") or 0
    source = _metadata_value(profile, "source") or _metadata_value(registry, "source") or ""
    return Resolution(
        registry=registry_slug,
        profile=profile_slug,
        runtime_key=runtime_key or profile_slug,
        effective_runtime=runtime,
        effective_settings=settings,
        fingerprint=_payload_fingerprint(registry_slug, profile_slug, version, parts, settings),
        metadata=FrozenDict({
            "profile.registry": registry_slug,
            "profile.slug": profile_slug,
            "profile.version": version,
            "profile.source": source,
        }),
    )
