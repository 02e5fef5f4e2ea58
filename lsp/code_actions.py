"""Quick fixes for the diagnostics a person can fix in one step (SPEC section 7)."""
from __future__ import annotations

import difflib

from lsprotocol import types

from profreg.pointer import pointer_split

from . import quickfixes
from .diagnostics import analyse, lsp_diagnostics
from .documents import Document
from .outline import RegistryOutline, registry_at
from profreg.engine.detection import is_legacy
from profreg.legacy import legacy_to_registry
from profreg.yamldump import dump_yaml, ordered_registry

MAX_PROFILE_CHOICES = 10


def code_actions(doc: Document, params: types.CodeActionParams) -> list[types.CodeAction]:
    actions: list[types.CodeAction] = []
    asked = list(params.context.diagnostics)
    # The legacy convert is offered anywhere in a legacy file, not only where its warning sits.
    if not any(str(d.code) == "legacy-format" for d in asked):
        asked.extend(d for d in _published(doc) if str(d.code) == "legacy-format")
    for diag in asked:
        if diag.source not in (None, "profreg"):
            continue
        fix = _FIXES.get(str(diag.code))
        if fix is not None:
            actions.extend(fix(doc, diag))
        more = quickfixes.FIXES.get(str(diag.code))
        if more is not None:
            actions.extend(_action(doc, f.title, diag, f.edits, f.preferred) for f in more(doc, diag))
    return actions


def _published(doc: Document) -> list[types.Diagnostic]:
    """The current text's diagnostics, as published (the analysis is reused, not redone)."""
    return lsp_diagnostics(doc)


def _action(doc: Document, title: str, diag: types.Diagnostic, edits: list[types.TextEdit],
            preferred: bool = False) -> types.CodeAction:
    return types.CodeAction(
        title=title,
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diag],
        is_preferred=preferred or None,
        edit=types.WorkspaceEdit(changes={doc.uri: edits}),
    )


def _pointer(diag: types.Diagnostic) -> str | None:
    data = diag.data if isinstance(diag.data, dict) else {}
    pointer = data.get("pointer")
    return pointer if isinstance(pointer, str) else None


def _fix_slug_mismatch(doc: Document, diag: types.Diagnostic) -> list[types.CodeAction]:
    pointer = _pointer(diag)
    if pointer is None:
        return []
    tokens = pointer_split(pointer)
    if len(tokens) < 2 or tokens[-1] != "slug":
        return []
    key = tokens[-2]
    return [_action(doc, f"Set slug to its key {key!r}", diag, [types.TextEdit(range=diag.range, new_text=key)], True)]


def _registry_for(doc: Document, diag: types.Diagnostic) -> RegistryOutline | None:
    line, _ = doc.char_position(diag.range.start)
    return registry_at(doc, line)


def _set_default(doc: Document, reg: RegistryOutline, slug: str) -> list[types.TextEdit] | None:
    """Edits that make `default_profile_slug` name `slug` (writing the key if absent)."""
    if reg.default_key_line is not None:
        line = reg.default_key_line
        text = doc.line(line)
        colon = text.index(":", text.index("default_profile_slug") + len("default_profile_slug"))
        if reg.default is not None:
            start, end = reg.default.start, reg.default.end
        else:
            start = end = colon + 1
            slug = " " + slug
        return [types.TextEdit(range=doc.range(line, start, line, end), new_text=slug)]
    if reg.profiles_line is None:
        return None
    indent = " " * reg.field_col
    where = doc.range(reg.profiles_line, 0, reg.profiles_line, 0)
    return [types.TextEdit(range=where, new_text=f"{indent}default_profile_slug: {slug}\n")]


def _fix_default_required(doc: Document, diag: types.Diagnostic) -> list[types.CodeAction]:
    reg = _registry_for(doc, diag)
    if reg is None or not reg.profiles:
        return []
    actions = []
    for i, profile in enumerate(reg.profiles[:MAX_PROFILE_CHOICES]):
        key = profile.key.key
        edits = _set_default(doc, reg, key)
        if edits is None:
            return actions
        title = f"Set default_profile_slug to {key!r}" + (" (the first profile)" if i == 0 else "")
        actions.append(_action(doc, title, diag, edits, i == 0))
    return actions


def _fix_default_unknown(doc: Document, diag: types.Diagnostic) -> list[types.CodeAction]:
    reg = _registry_for(doc, diag)
    if reg is None or reg.default is None or not reg.profiles:
        return []
    keys = [p.key.key for p in reg.profiles]
    close = difflib.get_close_matches(reg.default.text, keys, n=MAX_PROFILE_CHOICES, cutoff=0.0)
    ordered = close + [k for k in keys if k not in close]
    actions = []
    for i, key in enumerate(ordered[:MAX_PROFILE_CHOICES]):
        edits = _set_default(doc, reg, key)
        if edits:
            actions.append(_action(doc, f"Set default_profile_slug to {key!r}", diag, edits, i == 0))
    return actions


def _fix_legacy(doc: Document, diag: types.Diagnostic) -> list[types.CodeAction]:
    source = analyse(doc).source  # the current text's data, read once for diagnostics too
    if source.fatal or not is_legacy(source.data):
        return []
    # keep the comment block at the top of the file
    head = []
    for i in range(doc.line_count):
        line = doc.line(i)
        if line.startswith("#") or (not line.strip() and head):
            head.append(line)
        else:
            break
    new_text = "".join(line + "\n" for line in head) + dump_yaml(ordered_registry(legacy_to_registry(source.data)))
    last = doc.line_count - 1
    whole = doc.range(0, 0, last, len(doc.line(last)))
    return [_action(doc, "Convert to a registry document (as `profreg migrate` does)", diag,
                    [types.TextEdit(range=whole, new_text=new_text)], True)]


_FIXES = {
    "profile-slug-mismatch": _fix_slug_mismatch,
    "default-profile-required": _fix_default_required,
    "default-profile-unknown": _fix_default_unknown,
    "legacy-format": _fix_legacy,
}
