"""Resolution (SPEC section 5): a profile plus request overrides -> effective runtime and settings.

Pure functions on plain dicts (the schema's field names); the service feeds them what it
read from a store. Nothing here touches a store, so the rules can be tested on their own.
"""
from __future__ import annotations

import copy
import hashlib
import re
from dataclasses import dataclass
from typing import Any, Mapping

from .errors import PolicyViolationError, ValidationError
from .secrets import is_secret_key
from .slugs import is_slug
from .model import OVERRIDE_KEYS

_CAPITAL_AFTER_FIRST = re.compile(r"(?<=.)([A-Z])", re.DOTALL)


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
    if not isinstance(overrides, Mapping):
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
            if not isinstance(item, Mapping):
                return f"item {i} must be an object with a `name` and an optional `config`"
            if not _nonblank_string(item.get("name")):
                return f"item {i} needs a non-empty string `name`"
            extra = sorted(set(item) - {"name", "config"})
            if extra:
                return f"item {i} has unknown keys: {', '.join(map(str, extra))}"
        return None
    if key == "step_settings_patch":
        return None if isinstance(value, Mapping) else "must be a mapping of section to settings"
    return "is not a supported override key"  # pragma: no cover - names are checked first


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON Merge Patch: mappings merge recursively, `null` removes, the rest replaces.

    Returns a new value; neither argument is changed.
    """
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    result = {k: copy.deepcopy(v) for k, v in target.items()} if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# RFC 8785 numbers are IEEE 754 doubles: integers beyond this are not represented exactly.
MAX_SAFE_INTEGER = 2**53 - 1


def _under_secret(path: str) -> bool:
    """Whether a dotted path (`a.b[0].api_key`) passes through a secret-looking key: a
    message about the value there names its type, never the value (SPEC 6)."""
    return any(is_secret_key(part) for part in re.split(r"[.\[\]]+", path) if part)


def _unrepresentable(value: Any, path: str) -> tuple[str, str] | None:
    """(path, problem) of the first value canonical JSON cannot carry exactly, else None."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return None
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            shown = "the integer" if _under_secret(path) else f"the integer {value}"
            return path, f"{shown} is outside ±(2^53-1), which JSON numbers cannot hold exactly"
        return None
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            shown = "the value" if _under_secret(path) else str(value)
            return path, f"{shown} is not a JSON number"
        return None
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = _unrepresentable(item, f"{path}.{key}" if path else str(key))
            if found:
                return found
        return None
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = _unrepresentable(item, f"{path}[{index}]")
            if found:
                return found
        return None
    return path, f"a {type(value).__name__} is not a JSON value"


def check_json_safe(value: Any, root: str = "") -> None:
    """ValidationError naming the first value canonical JSON cannot carry exactly, if any."""
    found = _unrepresentable(value, root)
    if found:
        raise ValidationError(f"{found[0]}: {found[1]}", field=found[0])


def fingerprint(payload: Any) -> str:
    """`sha256:` + hex SHA-256 of the RFC 8785 (JCS) canonical JSON of `payload`.

    A value JCS cannot encode exactly (an integer beyond ±(2^53-1), NaN, infinity) is a
    ValidationError naming where it is, not a silently different hash.
    """
    check_json_safe(payload)
    import rfc8785  # imported here: CLI start-up time is benchmarked

    try:
        canonical = rfc8785.dumps(payload)
    except rfc8785.CanonicalizationError as exc:  # e.g. a lone surrogate in a string
        raise ValidationError(f"the resolved profile cannot be canonicalised: {exc}") from None
    return "sha256:" + hashlib.sha256(canonical).hexdigest()


def _full_runtime(runtime: Mapping[str, Any] | None) -> dict[str, Any]:
    """Every runtime key present (`""`, `[]`, `{}`, `null` when empty), as a fresh copy."""
    runtime = runtime or {}
    return {
        "system_prompt": runtime.get("system_prompt") or "",
        "middlewares": [
            {"name": m.get("name"), "config": copy.deepcopy(m.get("config"))}
            for m in runtime.get("middlewares") or ()
        ],
        "tools": list(runtime.get("tools") or ()),
        "step_settings_patch": copy.deepcopy(runtime.get("step_settings_patch") or {}),
    }


@dataclass(frozen=True)
class Resolution:
    """The effective profile; `to_json()` is exactly what `resolve --format json` prints."""

    registry: str
    profile: str
    runtime_key: str
    effective_runtime: dict[str, Any]
    effective_settings: dict[str, Any]
    fingerprint: str
    metadata: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "registry": self.registry,
            "profile": self.profile,
            "runtime_key": self.runtime_key,
            "effective_runtime": copy.deepcopy(self.effective_runtime),
            "effective_settings": copy.deepcopy(self.effective_settings),
            "fingerprint": self.fingerprint,
            "metadata": dict(self.metadata),
        }


def _metadata_value(obj: Mapping[str, Any] | None, name: str) -> Any:
    return ((obj or {}).get("metadata") or {}).get(name)


def resolve_profile(
    registry: Mapping[str, Any],
    registry_slug: str,
    profile: Mapping[str, Any],
    profile_slug: str,
    overrides: Mapping[str, Any] | None = None,
    base_settings: Mapping[str, Any] | None = None,
    runtime_key: str | None = None,
) -> Resolution:
    """Apply steps 3-7 of SPEC section 5 to an already-chosen registry and profile."""
    if runtime_key and not is_slug(runtime_key):
        raise ValidationError(f"runtime_key: {runtime_key!r} is not a valid slug", field="runtime_key")
    checked = check_overrides(overrides, profile.get("policy"), profile_slug)
    if base_settings is not None and not isinstance(base_settings, Mapping):
        raise ValidationError("base_settings: must be a mapping of section to settings",
                              field="base_settings")

    runtime = _full_runtime(profile.get("runtime"))
    for key in ("system_prompt", "middlewares", "tools"):
        if key in checked:
            runtime[key] = _full_runtime({key: checked[key]})[key]
    if "step_settings_patch" in checked:
        runtime["step_settings_patch"] = merge_patch(runtime["step_settings_patch"],
                                                     checked["step_settings_patch"])
    settings = merge_patch(dict(base_settings or {}), runtime["step_settings_patch"])

    check_json_safe(runtime, "effective_runtime")  # errors named as in the output
    check_json_safe(settings, "effective_settings")

    version = _metadata_value(profile, "version") or 0
    source = _metadata_value(profile, "source") or _metadata_value(registry, "source") or ""
    payload = {
        "registry_slug": registry_slug,
        "profile_slug": profile_slug,
        "profile_version": version,
        "runtime": runtime,
        "settings": settings,
    }
    return Resolution(
        registry=registry_slug,
        profile=profile_slug,
        runtime_key=runtime_key or profile_slug,
        effective_runtime=runtime,
        effective_settings=settings,
        fingerprint=fingerprint(payload),
        metadata={
            "profile.registry": registry_slug,
            "profile.slug": profile_slug,
            "profile.version": version,
            "profile.source": source,
        },
    )
