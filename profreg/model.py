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


def _of_type(defname: str, json_type: str) -> tuple[str, ...]:
    """The fields of a `$defs` entry the schema declares `type: json_type`, in schema order."""
    return tuple(name for name, node in _DEFS[defname]["properties"].items() if node.get("type") == json_type)


def _section_defs(defname: str) -> dict[str, str]:
    """The fields whose value is an object of its own `$defs` entry (runtime, policy,
    metadata), each with that entry's name."""
    refs = {name: node.get("$ref", "").removeprefix("#/$defs/") for name, node in _DEFS[defname]["properties"].items()}
    return {name: ref for name, ref in refs.items() if _DEFS.get(ref, {}).get("type") == "object"}


REGISTRY_KEY_ORDER = _properties("registry")
PROFILE_KEY_ORDER = _properties("profile")
RUNTIME_KEY_ORDER = _properties("runtime")
POLICY_KEY_ORDER = _properties("policy")
METADATA_KEY_ORDER = _properties("metadata")
MIDDLEWARE_FIELDS = frozenset(_properties("middleware"))

# The text fields (a store reads a null one as absent) and the nested sections.
REGISTRY_STRING_FIELDS = _of_type("registry", "string")
PROFILE_STRING_FIELDS = _of_type("profile", "string")
REGISTRY_SECTIONS = tuple(_section_defs("registry"))
PROFILE_SECTIONS = tuple(_section_defs("profile"))
# Each section's key order (its `$defs` entry's properties).
SECTION_KEY_ORDER = {name: _properties(ref) for defname in ("profile", "registry")
                     for name, ref in _section_defs(defname).items()}
# Each runtime field's JSON type, which an override of it must have.
RUNTIME_FIELD_TYPES = {name: node["type"] for name, node in _DEFS["runtime"]["properties"].items()}
# The policy's lists of override keys (allowed, denied).
OVERRIDE_LIST_FIELDS = _of_type("policy", "array")

# A registry's own fields: a document with any of them at the top is not legacy (SPEC 2).
REGISTRY_FIELDS = frozenset(REGISTRY_KEY_ORDER)
# Request-time overrides may replace or patch exactly the runtime's fields (SPEC 5).
OVERRIDE_KEYS = RUNTIME_KEY_ORDER
# Metadata the stores write themselves; `source` follows the write, `tags` are user data.
MANAGED_METADATA = tuple(key for key in METADATA_KEY_ORDER if key not in ("source", "tags"))

# What an update may change (the service's patches): a profile's own fields but its slug
# and metadata, plus its `tags` (which land in metadata); a registry's descriptive text,
# not its default profile (`set-default` changes that). Runtime and policy are patched
# field by field (`--system-prompt` keeps the tools).
PROFILE_UPDATABLE_FIELDS = tuple(key for key in PROFILE_KEY_ORDER if key not in ("slug", "metadata"))
PROFILE_PATCH_FIELDS = PROFILE_UPDATABLE_FIELDS + ("tags",)
NESTED_PATCH_FIELDS = tuple(key for key in PROFILE_SECTIONS if key != "metadata")
REGISTRY_PATCH_FIELDS = tuple(key for key in REGISTRY_STRING_FIELDS if key != "default_profile_slug")

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
