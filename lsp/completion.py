"""Completion from the schema at the cursor, read from indentation (SPEC section 7)."""
from __future__ import annotations

import re

from lsprotocol import types

from profreg.model import OVERRIDE_KEYS, OVERRIDE_LIST_FIELDS

from . import schema_nav
from .documents import Document
from .outline import registry_at
from .reportdata import profiles_data
from .schema_nav import ITEM
from .yamlcontext import Lines, container_path, mapping_entries, shape, sibling_keys, top_level_keys

_WORD = re.compile(r"[A-Za-z0-9_.\-]*$")

# Snippets are written relative to the line they start on ({u} is one indentation step of
# the document): the client adds the cursor line's indentation to every following line
# (LSP insertTextMode adjustIndentation; VS Code and vim.snippet both do).
PROFILE_SNIPPET = (
    "${{1:new-profile}}:\n"
    "{u}display_name: ${{2:New profile}}\n"
    "{u}description: ${{3:What this profile is for.}}\n"
    "{u}runtime:\n"
    "{u}{u}system_prompt: ${{4:You are a helpful assistant.}}\n"
    "{u}{u}tools: [${{5}}]\n"
    "{u}policy:\n"
    "{u}{u}allow_overrides: ${{6:true}}$0"
)
REGISTRY_SNIPPET = (
    "${{1:new-registry}}:\n"
    "{u}display_name: ${{2:New registry}}\n"
    "{u}default_profile_slug: ${{3:default}}\n"
    "{u}profiles:\n"
    "{u}{u}${{3:default}}:\n"
    "{u}{u}{u}display_name: ${{4:Default}}$0"
)
_INDENT_SCAN_LINES = 500


def is_bundle(lines: Lines) -> bool:
    return "registries" in top_level_keys(lines.doc)


def complete(doc: Document, position: types.Position) -> types.CompletionList:
    line_no, col = doc.char_position(position)
    text = doc.line(line_no)
    before = text[:col]
    lines = Lines(doc)
    items: list[types.CompletionItem] = []
    if "#" in before and before.lstrip().startswith("#"):
        return types.CompletionList(is_incomplete=False, items=[])
    here = shape(before + "\0") or shape("\0")  # the \0 stands for the word being typed
    bundle = is_bundle(lines)
    if here.key is not None and col > here.key_end:
        # after `key:` -> a value of that key
        path = container_path(lines, line_no, here.key_col, here.dashes) + [here.key]
        value_text = before[here.value_col:] if col >= here.value_col else ""
        items = _value_items(doc, lines, line_no, here, path, value_text, col, bundle)
    else:
        key_col = here.key_col
        path = container_path(lines, line_no, key_col, here.dashes)
        word = before[key_col:]
        node = schema_nav.at_path(path, bundle)
        if node is not None and path and path[-1] == ITEM and schema_nav.type_of(node) not in (None, "object"):
            items = _scalar_items(path, node, word, line_no, key_col, col, doc, lines, bundle)
        elif node is not None:
            items = _key_items(doc, lines, line_no, key_col, col, path, node, word, bool(here.dashes))
    return types.CompletionList(is_incomplete=False, items=items)


def _edit_range(doc: Document, line: int, start: int, end: int) -> types.Range:
    return doc.range(line, start, line, end)


def _key_items(doc, lines, line_no, key_col, col, path, node, word, starts_item) -> list[types.CompletionItem]:
    items: list[types.CompletionItem] = []
    rng = _edit_range(doc, line_no, key_col, col)
    indent = " " * key_col
    present = sibling_keys(lines, line_no, key_col, starts_item)
    for name, sub in schema_nav.properties(node).items():
        if name in present:
            continue
        kind = schema_nav.type_of(sub)
        if kind == "object":
            insert = f"{name}:\n{indent}  "
        elif kind == "array":
            insert = f"{name}:\n{indent}  - "
        else:
            insert = f"{name}: "
        items.append(
            types.CompletionItem(
                label=name,
                kind=types.CompletionItemKind.Property,
                detail=sub.get("title"),
                documentation=types.MarkupContent(kind=types.MarkupKind.Markdown, value=schema_nav.describe(name, sub)),
                text_edit=types.TextEdit(range=rng, new_text=insert),
                insert_text_mode=types.InsertTextMode.AsIs,
                filter_text=name,
            )
        )
    if path and path[-1] == "profiles" and schema_nav.has_free_keys(node):
        items.append(_snippet("new profile", "A new profile with the usual fields", PROFILE_SNIPPET, lines, rng))
    elif path == ["registries"]:
        items.append(_snippet("new registry", "A new registry with one profile", REGISTRY_SNIPPET, lines, rng))
    return items


def indent_unit(lines: Lines) -> str:
    """One indentation step of the document: the smallest step from a key to its first child."""
    doc = lines.doc
    steps = []
    previous = None
    for number in range(min(doc.line_count, _INDENT_SCAN_LINES)):
        s = lines.shape(number)
        if s is None:
            continue
        if previous is not None and s.indent > previous.indent and previous.key is not None and not previous.value:
            steps.append(s.indent - previous.indent)
        previous = s
    return " " * (min(steps) if steps else 2)


def _snippet(label: str, detail: str, template: str, lines: Lines, rng: types.Range) -> types.CompletionItem:
    return types.CompletionItem(
        label=label,
        kind=types.CompletionItemKind.Snippet,
        detail=detail,
        insert_text_format=types.InsertTextFormat.Snippet,
        insert_text_mode=types.InsertTextMode.AdjustIndentation,
        text_edit=types.TextEdit(range=rng, new_text=template.format(u=indent_unit(lines))),
        sort_text="~",  # after the keys
    )


def _value_items(doc, lines, line_no, here, path, value_text, col, bundle) -> list[types.CompletionItem]:
    node = schema_nav.at_path(path, bundle)
    stripped = value_text.lstrip()
    if stripped.startswith("["):
        # a flow list: complete the item being typed
        inner = stripped[1:]
        word = re.split(r"[,\s]", inner)[-1] if inner else ""
        taken = {w.strip().strip("'\"") for w in inner.split(",")[:-1]}
        item_node = schema_nav.child(node, ITEM) if node else None
        values = _candidates(path + [ITEM], item_node, doc, lines, line_no, here, bundle)
        return _value_list([v for v in values if v not in taken], doc, line_no, col - len(word), col)
    word_start = col - len(_WORD.search(value_text).group(0)) if value_text else col
    if value_text[:1] in ("\"", "'"):  # inside a quoted value (an empty one is not)
        word_start = here.value_col + 1
    values = _candidates(path, node, doc, lines, line_no, here, bundle)
    details = profile_details(doc, line_no) if path[-1] == "default_profile_slug" else None
    return _value_list(values, doc, line_no, word_start, col, details)


def _scalar_items(path, node, word, line_no, key_col, col, doc, lines, bundle) -> list[types.CompletionItem]:
    """Values for a `- ` item of a list of scalars, minus the items already written."""
    taken: set[str] = set()
    for step in (-1, 1):
        i = line_no + step
        while 0 <= i < doc.line_count and abs(i - line_no) < 200:
            s = lines.shape(i)
            if s is not None:
                if s.dashes and s.key_col == key_col and s.key is None:
                    taken.add(s.value.strip("'\""))
                elif s.indent < key_col:
                    break
            i += step
    values = [v for v in _candidates(path, node, doc, lines, line_no, None, bundle) if v not in taken]
    return _value_list(values, doc, line_no, key_col, col)


def _candidates(path, node, doc, lines, line_no, here, bundle) -> list[str]:
    """The values that fit at a path: enum, booleans, profile keys, override keys."""
    if not path:
        return []
    key = path[-1] if path[-1] != ITEM else (path[-2] if len(path) > 1 else "")
    if path[-1] == "default_profile_slug" and here is not None:
        return profile_keys_of_registry(lines, line_no, here.key_col)
    if path[-1] == ITEM and key in OVERRIDE_LIST_FIELDS:
        return list(OVERRIDE_KEYS)
    if node is None:
        return []
    if "enum" in node:
        return [str(v) for v in node["enum"]]
    if schema_nav.type_of(node) == "boolean":
        return ["true", "false"]
    return []


def profile_keys_of_registry(lines: Lines, line_no: int, key_col: int) -> list[str]:
    """Profile keys of the registry mapping that holds the key at (line_no, key_col)."""
    located = profiles_key_line(lines, line_no, key_col)
    if located is None:
        return []
    entries, _ = mapping_entries(lines, located, key_col)
    return [e.key for e in entries]


def profiles_key_line(lines: Lines, line_no: int, key_col: int) -> int | None:
    """The line of `profiles:` in the mapping that holds the key at (line_no, key_col)."""
    doc = lines.doc
    if key_col == 0:
        m = re.search(r"(?:^|\n)profiles[ \t]*:", doc.text)
        if m is None:
            return None
        return doc.text.count("\n", 0, m.end()) if "\r" not in doc.text else lines.doc.position_at(m.end()).line
    for step in (-1, 1):
        i = line_no
        while 0 <= i < doc.line_count:
            s = lines.shape(i)
            if s is not None:
                if s.key == "profiles" and s.key_col == key_col:
                    return i
                if s.indent < key_col:
                    break
            i += step
    return None


def profile_details(doc: Document, line_no: int) -> dict[str, tuple[str | None, str | None]]:
    """Profile slug -> (display name, description) in the registry around a line (latest validation)."""
    reg = registry_at(doc, line_no)
    out = {}
    for slug, profile in (profiles_data(doc, reg.name) if reg is not None else {}).items():
        if isinstance(profile, dict):
            name, text = profile.get("display_name"), profile.get("description")
            out[slug] = (name if isinstance(name, str) else None, text if isinstance(text, str) else None)
    return out


def _value_list(values, doc, line_no, start, end, details=None) -> list[types.CompletionItem]:
    rng = _edit_range(doc, line_no, start, end)
    seen = set()
    out = []
    for v in values:
        if v in seen:
            continue
        seen.add(v)
        name, text = (details or {}).get(v, (None, None))
        out.append(
            types.CompletionItem(
                label=v,
                kind=types.CompletionItemKind.Value,
                detail=name or ("profile" if details is not None else None),
                documentation=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text) if text else None,
                text_edit=types.TextEdit(range=rng, new_text=v),
            )
        )
    return out
