"""Looking things up in the registry JSON Schema (the one in `schema/`): no validation here.

Completion and hover walk a path of keys (from the YAML structure at the cursor) down the
schema: `properties`, `additionalProperties`, `items`, following local `$ref`s.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from profreg.schemafile import load_schema
import json

ITEM = "[]"  # a path token for "an item of a sequence"
ANY_KEY = "*"  # a path token for "some key of a mapping with free keys"


def _resolve(node: Any) -> dict:
    """Follow local `$ref`s, merging the referring node's own keywords over the target.

    A boolean schema (`true`, as in `properties: {slug: true}` written for ajv's strict
    mode) says nothing to document, so it never hides the definition it sits beside.
    """
    if node is True:
        return {}
    schema = load_schema()
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 16:
        ref = node["$ref"]
        target: Any = schema
        if ref.startswith("#/"):
            for part in ref[2:].split("/"):
                target = target.get(part, {}) if isinstance(target, dict) else {}
        else:
            target = {}
        merged = dict(_resolve(target))
        for key, value in node.items():
            if key == "$ref":
                continue
            if key == "properties":
                merged["properties"] = {
                    **merged.get("properties", {}),
                    **{k: v for k, v in value.items() if v is not True or k not in merged.get("properties", {})},
                }
            elif key == "required":
                merged["required"] = list(merged.get("required", [])) + list(value)
            else:
                merged[key] = value
        node = merged
        seen += 1
    return node if isinstance(node, dict) else {}


@lru_cache(maxsize=None)
def definition(name: str) -> dict:
    return _resolve(load_schema()["$defs"][name])


def root_schema(bundle: bool) -> dict:
    return definition("bundle" if bundle else "single")


def child(node: dict, token: str) -> dict | None:
    """The schema of `token` inside `node` (a key, or ITEM for a sequence item)."""
    node = _resolve(node)
    if token == ITEM:
        items = node.get("items")
        return _resolve(items) if isinstance(items, dict) else None
    props = node.get("properties") or {}
    if token in props:
        return _resolve(props[token])
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        return _resolve(extra)
    if extra is None and "type" not in node and "properties" not in node:
        return {}  # free-form value (middleware config): anything goes
    return None


def at_path(path: list[str], bundle: bool) -> dict | None:
    node: dict | None = root_schema(bundle)
    for token in path:
        if node is None:
            return None
        node = child(node, token)
    return node


def properties(node: dict) -> dict[str, dict]:
    """The named properties a mapping may hold (resolved), in schema order."""
    props = _resolve(node).get("properties") or {}
    return {name: _resolve(sub) for name, sub in props.items()}


def has_free_keys(node: dict) -> bool:
    """A mapping keyed by user names (profiles, registries, settings sections)."""
    return isinstance(_resolve(node).get("additionalProperties"), dict)


def type_of(node: dict) -> str | None:
    t = _resolve(node).get("type")
    return t if isinstance(t, str) else None


def describe(name: str, node: dict) -> str:
    """Markdown for hover and completion documentation: title, description, type, default."""
    node = _resolve(node)
    parts = [f"**{node.get('title') or name}**"]
    if node.get("description"):
        parts.append(node["description"])
    facts = []
    if type_of(node):
        facts.append(f"type: `{type_of(node)}`")
    if "enum" in node:
        facts.append("one of: " + ", ".join(f"`{v}`" for v in node["enum"]))
    if "default" in node:
        facts.append(f"default: `{json.dumps(node['default'])}`")
    if facts:
        parts.append(" · ".join(facts))
    return "\n\n".join(parts)
