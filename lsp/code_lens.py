"""A code lens on each profile: "default" for the registry's default, and how often it is named.

A reference is a place other than its key that names the profile: its own `slug:` and the
registry's `default_profile_slug` (the same places as Find References without the key).
"""
from __future__ import annotations

from lsprotocol import types

from .documents import Document
from .navigation import occurrences
from .outline import SlugTarget, outline

# Lenses only show text: an empty command id makes them labels, not buttons.
_LABEL = ""


def code_lenses(doc: Document) -> list[types.CodeLens]:
    lenses = []
    for reg in outline(doc):
        default = reg.default.text if reg.default is not None else None
        for profile in reg.profiles:
            k = profile.key
            target = SlugTarget(reg, k.key, k.line, k.col, k.end, "key")
            count = sum(1 for *_, role in occurrences(target) if role != "key")
            titles = (["default"] if k.key == default else []) + [
                f"{count} reference" + ("" if count == 1 else "s")
            ]
            where = doc.range(k.line, k.col, k.line, k.end)
            lenses.extend(types.CodeLens(range=where, command=types.Command(title=t, command=_LABEL)) for t in titles)
    return lenses
