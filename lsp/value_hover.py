"""Hover on values: a tool name, a middleware name, a boolean (with the schema's default).

Tools and middlewares are shown with the profiles of the registry that use them (from the
latest validation's data); a boolean says whether it is the default or differs from it.
"""
from __future__ import annotations

import json
import re
from typing import Any

from lsprotocol import types

from profreg.secrets import mask_secrets

from . import schema_nav
from .completion import is_bundle
from .documents import Document
from .outline import registry_at
from .reportdata import profiles_data
from .schema_nav import ITEM
from .yamlcontext import Lines, container_path, unquote

_FLOW_ITEM = re.compile(r"""[^,\[\]{}\s][^,\[\]{}]*""")
MAX_USERS = 12


def _flow_item(text: str, start: int, col: int) -> tuple[str, int, int] | None:
    """The item of a one-line flow list (starting at `start`) under column `col`."""
    for m in _FLOW_ITEM.finditer(text, start):
        value = m.group(0).rstrip()
        if m.start() <= col <= m.start() + len(value):
            return unquote(value), m.start(), m.start() + len(value)
    return None


def _scalar_at(lines: Lines, line: int, col: int) -> tuple[list[str], str, int, int] | None:
    """(schema path, value, start, end) of the scalar value under the cursor."""
    s = lines.shape(line)
    if s is None or not s.value or col < s.value_col:
        return None
    text = lines.doc.line(line)
    if s.key is not None:
        path = container_path(lines, line, s.key_col, s.dashes) + [s.key]
        if s.value.startswith("["):
            item = _flow_item(text, s.value_col + 1, col)
            return (path + [ITEM], *item) if item else None
        if s.value[0] in "{|>&*!":
            return None
        return path, unquote(s.value), s.value_col, s.value_col + len(s.value)
    if s.dashes:
        path = container_path(lines, line, s.value_col, s.dashes)
        return path, unquote(s.value), s.value_col, s.value_col + len(s.value)
    return None


def _profiles_data(doc: Document, line: int) -> dict[str, Any]:
    """The profiles (slug -> data) of the registry around a line, from the latest validation."""
    reg = registry_at(doc, line)
    return profiles_data(doc, reg.name) if reg is not None else {}


def _users(profiles: dict[str, Any], uses) -> str:
    names = [slug for slug, p in profiles.items() if isinstance(p, dict) and uses(p.get("runtime") or {})]
    if not names:
        return ""
    shown = ", ".join(f"`{n}`" for n in names[:MAX_USERS]) + (f" and {len(names) - MAX_USERS} more" if len(names) > MAX_USERS else "")
    return f"Used by {len(names)} profile{'' if len(names) == 1 else 's'} of this registry: {shown}"


def _tool(doc: Document, line: int, name: str, node: dict) -> str:
    uses = lambda runtime: isinstance(runtime, dict) and name in (runtime.get("tools") or [])  # noqa: E731
    parts = [f"**Tool `{name}`**", node.get("description") or "", _users(_profiles_data(doc, line), uses)]
    return "\n\n".join(p for p in parts if p)


def _middleware(doc: Document, line: int, name: str, node: dict) -> str:
    def uses(runtime: Any) -> bool:
        items = runtime.get("middlewares") if isinstance(runtime, dict) else None
        return any(isinstance(m, dict) and m.get("name") == name for m in items or [])

    profiles = _profiles_data(doc, line)
    configs = []
    for p in profiles.values():
        runtime = p.get("runtime") if isinstance(p, dict) else None
        items = runtime.get("middlewares") if isinstance(runtime, dict) else None
        for m in items or []:
            if isinstance(m, dict) and m.get("name") == name and m.get("config") is not None:
                configs.append(json.dumps(mask_secrets({"config": m["config"]})["config"], sort_keys=True))
    parts = [f"**Middleware `{name}`**", node.get("description") or "", _users(profiles, uses)]
    if configs:
        parts.append("Configs in use: " + ", ".join(f"`{c}`" for c in sorted(set(configs))[:3]))
    return "\n\n".join(p for p in parts if p)


def _boolean(key: str, value: str, node: dict) -> str:
    title = node.get("title") or key
    parts = [f"**{title}**: `{value}`", node.get("description") or ""]
    if "default" in node:
        default = json.dumps(node["default"])
        same = default == value
        parts.append(f"default: `{default}`" + (" (this value is the default)" if same else " (this value differs from it)"))
    return "\n\n".join(p for p in parts if p)


def value_hover(doc: Document, line: int, col: int) -> types.Hover | None:
    lines = Lines(doc)
    found = _scalar_at(lines, line, col)
    if found is None:
        return None
    path, value, start, end = found
    if not (start <= col <= end) or not value.strip():
        return None
    node = schema_nav.at_path(path, is_bundle(lines))
    if node is None:
        return None
    if len(path) >= 2 and path[-2:] == ["tools", ITEM]:
        text = _tool(doc, line, value, node)
    elif len(path) >= 3 and path[-3:] == ["middlewares", ITEM, "name"]:
        text = _middleware(doc, line, value, node)
    elif schema_nav.type_of(node) == "boolean" and value in ("true", "false"):
        text = _boolean(path[-1], value, node)
    else:
        return None
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
        range=doc.range(line, start, line, end),
    )
