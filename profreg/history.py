"""A registry's history (SPEC section 4, *History*): what changed, old versions, diffs.

The SQL stores keep every committed state of a registry in `profile_registry_versions`
(`Store.history(slug)`, newest first); a store without history (YAML, memory) raises a
UsageError saying where its history is. Everything here reads those rows:

- `registry_history` / `profile_history`: newest first, each entry with what changed;
- `registry_at` / `profile_at`: a registry at registry version N, a profile at profile
  version N (with the registry state it was committed in, for `resolve R/P@N`);
- `json_patch` / `render_patch`: an RFC 6902 JSON Patch between two documents (the
  `jsonpatch` library), and the same as readable text; secret-looking values masked.

Rollback is a write and lives in the service (`Service.rollback_registry/_profile`).
"""
from __future__ import annotations

import copy
import json
from typing import TYPE_CHECKING, Any, Iterable

import jsonpatch

from .errors import NotFoundError
from .model import REGISTRY_STRING_FIELDS, version_of
from .secrets import MASK, is_secret_key, mask_secrets

if TYPE_CHECKING:
    from .stores.contract import Store


def _profile_content(profile: dict[str, Any] | None) -> Any:
    """What decides whether a profile changed: everything but its managed metadata."""
    if profile is None:
        return None
    out = {k: v for k, v in profile.items() if k not in ("metadata", "slug")}
    out["tags"] = (profile.get("metadata") or {}).get("tags")
    return out


def profile_changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> bool:
    """Whether writing `after` over `before` changes the profile (ignoring managed metadata)."""
    return _profile_content(before) != _profile_content(after)


def _entry(row: dict[str, Any]) -> dict[str, Any]:
    return {"version": row["version"], "updated_at_ms": row["updated_at_ms"],
            "updated_by": row["updated_by"], "source": row["source"]}


def _changes(older: dict[str, Any] | None, newer: dict[str, Any] | None) -> dict[str, Any]:
    """Profiles added, removed and changed, and the registry's own fields changed."""
    old_profiles = (older or {}).get("profiles") or {}
    new_profiles = (newer or {}).get("profiles") or {}
    fields = [name for name in REGISTRY_STRING_FIELDS if (older or {}).get(name) != (newer or {}).get(name)]
    if ((older or {}).get("metadata") or {}).get("tags") != ((newer or {}).get("metadata") or {}).get("tags"):
        fields.append("tags")
    return {
        "added": sorted(set(new_profiles) - set(old_profiles)),
        "removed": sorted(set(old_profiles) - set(new_profiles)),
        "changed": sorted(slug for slug in set(old_profiles) & set(new_profiles)
                          if _profile_content(old_profiles[slug]) != _profile_content(new_profiles[slug])),
        "registry_fields": fields if older is not None and newer is not None else [],
    }


def _rows(store: "Store", slug: str) -> list[dict[str, Any]]:
    rows = store.history(slug)
    if not rows:
        raise NotFoundError("registry history", slug)
    return rows


def registry_history(store: "Store", slug: str) -> list[dict[str, Any]]:
    """Newest first: version, time, actor, source, `deleted`, and what changed."""
    rows = _rows(store, slug)
    out = []
    for index, row in enumerate(rows):
        older = rows[index + 1]["registry"] if index + 1 < len(rows) else None
        entry = _entry(row)
        entry["deleted"] = row["registry"] is None
        entry["changes"] = _changes(older, row["registry"])
        out.append(entry)
    return out


def profile_history(store: "Store", slug: str, profile: str) -> list[dict[str, Any]]:
    """Newest first, the registry versions that added, changed or removed `profile`:
    each with the profile's version then (None once removed) and which fields changed."""
    rows = _rows(store, slug)
    out = []
    for index, row in enumerate(rows):
        older = rows[index + 1]["registry"] if index + 1 < len(rows) else None
        before = ((older or {}).get("profiles") or {}).get(profile)
        after = ((row["registry"] or {}).get("profiles") or {}).get(profile)
        if before is None and after is None:
            continue
        if before is not None and after is not None and _profile_content(before) == _profile_content(after):
            continue
        entry = _entry(row)
        entry["registry_version"] = entry.pop("version")
        entry["version"] = version_of(after) if after is not None else None
        entry["change"] = "added" if before is None else "removed" if after is None else "changed"
        before_content, after_content = _profile_content(before) or {}, _profile_content(after) or {}
        entry["fields"] = sorted(key for key in set(before_content) | set(after_content)
                                 if before_content.get(key) != after_content.get(key))
        out.append({key: entry[key] for key in ("version", "registry_version", "change", "fields",
                                                "updated_at_ms", "updated_by", "source")})
    if not out:
        raise NotFoundError("profile", f"{slug}/{profile}")
    return out


def registry_at(store: "Store", slug: str, version: int) -> dict[str, Any]:
    """The registry as it was at registry version `version` (its latest such state)."""
    for row in store.history(slug):
        if row["registry"] is not None and row["version"] == version:
            return row["registry"]
    raise NotFoundError("registry version", f"{slug}@{version}")


def profile_at(store: "Store", slug: str, profile: str, version: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """(registry state, profile) of the latest commit holding `profile` at profile version
    `version`."""
    for row in store.history(slug):
        found = ((row["registry"] or {}).get("profiles") or {}).get(profile)
        if found is not None and version_of(found) == version:
            return row["registry"], found
    raise NotFoundError("profile version", f"{slug}/{profile}@{version}")


# ---------------------------------------------------------------------------------- diff
def _shown(path: str, value: Any, show_secrets: bool) -> Any:
    """`value` (found at JSON pointer `path`) as output shows it: secrets masked."""
    if show_secrets:
        return value
    parts = jsonpatch.JsonPointer(path).parts if path else []
    if any(is_secret_key(part) for part in parts) and value not in (None, "", [], {}):
        return MASK
    return mask_secrets(value)


def json_patch(old: Any, new: Any, *, show_secrets: bool = False) -> list[dict[str, Any]]:
    """RFC 6902 operations turning `old` into `new` (secret values masked unless asked)."""
    ops = jsonpatch.make_patch(old, new).patch
    return [{**op, "value": _shown(op["path"], op["value"], show_secrets)} if "value" in op else op for op in ops]


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def render_patch(old: Any, new: Any, old_label: str, new_label: str, *, show_secrets: bool = False) -> str:
    """The patch as lines a person reads: `~ path: old -> new`, `+ path: value`, `- path: old`."""
    lines = [f"--- {old_label}", f"+++ {new_label}"]
    current = copy.deepcopy(old)
    for op in jsonpatch.make_patch(old, new).patch:
        kind, path = op["op"], op["path"]
        before = jsonpatch.JsonPointer(path).resolve(current, None) if kind in ("remove", "replace") else None
        if kind == "add":
            lines.append(f"+ {path or '/'}: {_text(_shown(path, op['value'], show_secrets))}")
        elif kind == "remove":
            lines.append(f"- {path or '/'}: {_text(_shown(path, before, show_secrets))}")
        elif kind == "replace":
            lines.append(f"~ {path or '/'}: {_text(_shown(path, before, show_secrets))} -> "
                         f"{_text(_shown(path, op['value'], show_secrets))}")
        elif kind == "move":
            lines.append(f"> {op['from']} -> {path or '/'}")
        else:  # copy
            lines.append(f"+ {path or '/'}: (copy of {op['from']})")
        current = jsonpatch.apply_patch(current, [op])
    if len(lines) == 2:
        lines.append("(no differences)")
    return "\n".join(lines) + "\n"
