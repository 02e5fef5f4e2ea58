"""The model's names and key orders, read from the JSON Schema (its one source).

Field names and the order in which they are written come from the schema's `properties`
(JSON keeps their order); what the schema cannot say (which metadata the stores manage,
where a new field goes in a hand-written file) is spelled out here, once.
"""
from __future__ import annotations

from .schemafile import load_schema

_DEFS = load_schema()["$defs"]


def _properties(defname: str) -> tuple[str, ...]:
    return tuple(_DEFS[defname]["properties"])


REGISTRY_KEY_ORDER = _properties("registry")
PROFILE_KEY_ORDER = _properties("profile")
RUNTIME_KEY_ORDER = _properties("runtime")
POLICY_KEY_ORDER = _properties("policy")
METADATA_KEY_ORDER = _properties("metadata")

# A registry's own fields: a document with any of them at the top is not legacy (SPEC 2).
REGISTRY_FIELDS = frozenset(REGISTRY_KEY_ORDER)
# Request-time overrides may replace or patch exactly the runtime's fields (SPEC 5).
OVERRIDE_KEYS = RUNTIME_KEY_ORDER
# Metadata the stores write themselves; `source` follows the write, `tags` are user data.
MANAGED_METADATA = tuple(key for key in METADATA_KEY_ORDER if key not in ("source", "tags"))

# Where an edit of a hand-written file inserts a new field of a registry or profile: the
# schema's order, but `profiles` (usually most of the file) last, so a registry's own
# fields stay together above it.
EDIT_FIELD_ORDER = tuple(
    dict.fromkeys(
        key for key in REGISTRY_KEY_ORDER[:4] + PROFILE_KEY_ORDER[3:] + ("profiles",) if key != "profiles"
    )
) + ("profiles",)



def version_of(obj: dict | None) -> int:
    """The `metadata.version` of a registry or profile (0 when absent or not an integer)."""
    version = ((obj or {}).get("metadata") or {}).get("version", 0)
    return version if isinstance(version, int) and not isinstance(version, bool) else 0


# The three document forms (SPEC section 2).
BUNDLE, SINGLE, LEGACY = "bundle", "single", "legacy"
