"""Go to definition, references and rename for profile slugs (SPEC section 7).

A profile is written in up to three places of its registry: its key under `profiles`,
its own `slug:` value, and the registry's `default_profile_slug:` value. Rename changes
them together in one edit.
"""
from __future__ import annotations

from lsprotocol import types

from profreg.slugs import is_slug

from .documents import Document
from .outline import SlugTarget, slug_at


class RenameRefused(ValueError):
    """A rename that cannot be done (answered to the client as an error)."""


def _target(doc: Document, position: types.Position) -> SlugTarget | None:
    line, col = doc.char_position(position)
    return slug_at(doc, line, col)


def occurrences(target: SlugTarget) -> list[tuple[int, int, int, str]]:
    """(line, start, end, role) of every place naming the target's profile."""
    reg = target.registry
    out = []
    profile = reg.profile(target.profile_key)
    if profile is not None:
        k = profile.key
        out.append((k.line, k.col, k.end, "key"))
        if profile.slug is not None and profile.slug.text == target.profile_key:
            out.append((profile.slug.line, profile.slug.start, profile.slug.end, "slug"))
    d = reg.default
    if d is not None and d.text == target.profile_key:
        out.append((d.line, d.start, d.end, "default"))
    return out


def definition(doc: Document, position: types.Position) -> list[types.Location] | None:
    target = _target(doc, position)
    if target is None:
        return None
    profile = target.registry.profile(target.profile_key)
    if profile is None:
        return None
    k = profile.key
    return [types.Location(uri=doc.uri, range=doc.range(k.line, k.col, k.line, k.end))]


def references(doc: Document, position: types.Position, include_declaration: bool) -> list[types.Location] | None:
    target = _target(doc, position)
    if target is None or target.registry.profile(target.profile_key) is None:
        return None
    return [
        types.Location(uri=doc.uri, range=doc.range(line, start, line, end))
        for line, start, end, role in occurrences(target)
        if include_declaration or role != "key"
    ]


def prepare_rename(doc: Document, position: types.Position):
    target = _target(doc, position)
    if target is None or target.registry.profile(target.profile_key) is None:
        return None
    return types.PrepareRenamePlaceholder(
        range=doc.range(target.line, target.start, target.line, target.end), placeholder=target.profile_key
    )


def rename(doc: Document, position: types.Position, new_name: str) -> types.WorkspaceEdit | None:
    target = _target(doc, position)
    if target is None or target.registry.profile(target.profile_key) is None:
        return None
    if not is_slug(new_name):
        raise RenameRefused(f"{new_name!r} is not a valid profile slug (lower-case letters, digits, '.', '_', '-')")
    if new_name != target.profile_key and target.registry.profile(new_name) is not None:
        raise RenameRefused(f"registry {target.registry.name!r} already has a profile {new_name!r}")
    edits = [
        types.TextEdit(range=doc.range(line, start, line, end), new_text=new_name)
        for line, start, end, _ in occurrences(target)
    ]
    return types.WorkspaceEdit(changes={doc.uri: edits})
