"""The legacy flat form (older tools): profile slug -> settings section -> settings.

SPEC section 2: it converts to one registry (slug `default`, or the one asked for), each
profile carrying its map as `runtime.step_settings_patch`; the default profile is `default`
if present, else the first slug in sorted order. Used by the YAML store (to read legacy
files) and by `profreg migrate`. Whether data has the legacy shape is the engine's form
detection (`profreg.engine.detection.is_legacy`); this module needs no engine.
"""
from __future__ import annotations

import copy
from typing import Any

DEFAULT_REGISTRY_SLUG = "default"
DEFAULT_PROFILE_SLUG = "default"


def legacy_to_registry(data: dict[str, Any], slug: str = DEFAULT_REGISTRY_SLUG) -> dict[str, Any]:
    """The registry a legacy document stands for (data is not modified)."""
    profiles = {
        name: {"slug": name, "runtime": {"step_settings_patch": copy.deepcopy(sections)}}
        for name, sections in data.items()
    }
    registry: dict[str, Any] = {"slug": slug, "profiles": profiles}
    if profiles:
        registry["default_profile_slug"] = (
            DEFAULT_PROFILE_SLUG if DEFAULT_PROFILE_SLUG in profiles else min(profiles)
        )
    return registry
