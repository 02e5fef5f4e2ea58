"""Document highlights for profile slugs: the key, its `slug:` and `default_profile_slug`.

Without them an editor falls back to highlighting every equal word, comments and
descriptions included.
"""
from __future__ import annotations

from lsprotocol import types

from .documents import Document
from .navigation import occurrences
from .outline import slug_at


def document_highlights(doc: Document, position: types.Position) -> list[types.DocumentHighlight] | None:
    line, col = doc.char_position(position)
    target = slug_at(doc, line, col)
    if target is None or target.registry.profile(target.profile_key) is None:
        return None
    return [
        types.DocumentHighlight(
            range=doc.range(at_line, start, at_line, end),
            kind=types.DocumentHighlightKind.Write if role == "key" else types.DocumentHighlightKind.Read,
        )
        for at_line, start, end, role in occurrences(target)
    ]
