"""A profile's resolved effective settings, for the hover on its key.

The same resolution as `profreg resolve` (SPEC section 5, no request overrides, no base
settings), secrets masked as `resolve` masks them — what no YAML tool can show.
"""
from __future__ import annotations

import json
from typing import Any

from profreg import engine
from profreg.errors import ProfregError
from profreg.resolve import resolve_profile
from profreg.secrets import mask_secrets

MAX_CHARS = 4000


def resolved_section(registry_data: dict[str, Any], registry_slug: str, profile: dict[str, Any], key: str) -> str:
    command = f"profreg resolve {registry_slug}/{key}"
    # `resolve` refuses what does not validate; the resolver itself trusts its input.
    metadata = registry_data.get("metadata")
    if any(d.is_error for d in engine.validate_profile(profile, slug=key)) or (
            metadata is not None and not isinstance(metadata, dict)):
        return f"**Resolved** (`{command}`): cannot resolve: the profile has problems (see Problems)"
    try:
        result = resolve_profile(registry_data, registry_slug, profile, key)
    except ProfregError as exc:
        return f"**Resolved** (`{command}`): cannot resolve: {exc}"
    shown = mask_secrets({
        "effective_runtime": result.effective_runtime,
        "effective_settings": result.effective_settings,
    })
    body = json.dumps(shown, indent=2, ensure_ascii=False)
    if len(body) > MAX_CHARS:
        body = body[:MAX_CHARS] + "\n…"
    return f"**Resolved** (as `{command}`)\n\n```json\n{body}\n```\n\nfingerprint `{result.fingerprint}`"
