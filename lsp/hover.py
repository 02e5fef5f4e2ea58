"""Hover: the schema's documentation for a key; a profile summary on a profile slug."""
from __future__ import annotations

from typing import Any

from lsprotocol import types

from profreg.secrets import mask_secrets

from . import schema_nav
from .completion import is_bundle
from .documents import Document
from .outline import slug_at
from .reportdata import profiles_data, registry_data
from .resolved import resolved_section
from .value_hover import value_hover
from .yamlcontext import Lines, container_path, shape


def hover(doc: Document, position: types.Position) -> types.Hover | None:
    line_no, col = doc.char_position(position)
    s = shape(doc.line(line_no))
    if s is None:
        return None
    if s.key is None:
        return value_hover(doc, line_no, col)
    if s.key in ("default_profile_slug", "slug") and col >= s.value_col and s.value:
        target = slug_at(doc, line_no, col)
        if target is not None and target.role in ("default", "slug"):
            summary = profile_summary(doc, target.registry, target.profile_key)
            return _markdown(doc, summary, line_no, target.start, target.end)
        return None
    if not (s.key_col <= col <= s.key_end):
        return value_hover(doc, line_no, col)
    lines = Lines(doc)
    path = container_path(lines, line_no, s.key_col, s.dashes)
    bundle = is_bundle(lines)
    parent = schema_nav.at_path(path, bundle)
    if parent is None:
        return None
    if s.key in schema_nav.properties(parent):
        node = schema_nav.child(parent, s.key)
        text = schema_nav.describe(s.key, node)
    elif path and path[-1] in ("profiles", "registries") and schema_nav.has_free_keys(parent):
        target = slug_at(doc, line_no, col) if path[-1] == "profiles" else None
        if target is not None:
            text = _with_resolution(doc, target.registry, s.key, profile_summary(doc, target.registry, s.key))
        else:
            text = schema_nav.describe(s.key, schema_nav.child(parent, s.key) or {})
    else:
        return None
    return _markdown(doc, text, line_no, s.key_col, s.key_end)


def _markdown(doc: Document, text: str, line: int, start: int, end: int) -> types.Hover:
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
        range=doc.range(line, start, line, end),
    )


def _registry_data(doc: Document, registry) -> dict | None:
    return registry_data(doc, registry.name)


def _profile_data(doc: Document, registry, key: str) -> Any:
    """The profile's data from the latest validation, if that text had it."""
    return profiles_data(doc, registry.name).get(key)


def _with_resolution(doc: Document, registry, key: str, summary: str) -> str:
    """The summary, plus the profile's resolved settings when the text has its data."""
    data = _registry_data(doc, registry)
    profile = _profile_data(doc, registry, key)
    if data is None or not isinstance(profile, dict):
        return summary
    slug = data.get("slug") if isinstance(data.get("slug"), str) and data.get("slug") else registry.name
    return summary + "\n\n" + resolved_section(data, slug, profile, key)


def profile_summary(doc: Document, registry, key: str) -> str:
    outline_entry = registry.profile(key)
    if outline_entry is None:
        return f"**{key}**: no profile of this name in registry `{registry.name}`"
    parts = [f"**Profile `{key}`** (registry `{registry.name}`, line {outline_entry.key.line + 1})"]
    data = _profile_data(doc, registry, key)
    if isinstance(data, dict):  # masked as everywhere profile content is shown (SPEC 6)
        data = mask_secrets(data)
    if isinstance(data, dict):
        if isinstance(data.get("display_name"), str):
            parts.append(data["display_name"])
        if isinstance(data.get("description"), str):
            parts.append(data["description"])
        runtime = data.get("runtime") if isinstance(data.get("runtime"), dict) else {}
        facts = []
        if isinstance(runtime.get("system_prompt"), str) and runtime["system_prompt"]:
            prompt = runtime["system_prompt"]
            facts.append("system prompt: " + (prompt if len(prompt) <= 80 else prompt[:77] + "..."))
        if isinstance(runtime.get("middlewares"), list):
            names = [m.get("name") for m in runtime["middlewares"] if isinstance(m, dict)]
            facts.append("middlewares: " + ", ".join(f"`{n}`" for n in names if isinstance(n, str)))
        if isinstance(runtime.get("tools"), list):
            facts.append("tools: " + ", ".join(f"`{t}`" for t in runtime["tools"] if isinstance(t, str)))
        policy = data.get("policy") if isinstance(data.get("policy"), dict) else {}
        if policy.get("read_only") is True:
            facts.append("read-only")
        if policy.get("allow_overrides") is not True:  # closed unless opened (SPEC 2)
            facts.append("no request overrides")
        if facts:
            parts.append("\n".join(f"- {f}" for f in facts))
    return "\n\n".join(parts)
