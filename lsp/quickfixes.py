"""Quick fixes for the rest of the rules with one obvious edit (the first four are in code_actions).

- `schema` unknown property: rename the key to the "did you mean" property, or remove it;
- `default-profile-required` / `default-profile-unknown`: name one of the profiles, or
  create the profile the registry names;
- `empty-name`: remove the empty tool, override key or middleware;
- `override-key-conflict`: remove the key from the denied (or the allowed) list;
- `yaml-duplicate-key`: remove the earlier entry (the later one is the one in effect), or this one.

Edits are computed from the text's lines (the document may not parse), never by re-dumping it.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from lsprotocol import types

from profreg.model import OVERRIDE_LIST_FIELDS
from profreg.pointer import pointer_split
from profreg.slugs import is_slug

from . import schema_nav
from .completion import indent_unit, is_bundle
from .documents import Document
from .outline import registry_at
from .yamlcontext import Lines, container_path

MAX_CHOICES = 10


@dataclass
class Fix:
    title: str
    edits: list[types.TextEdit]
    preferred: bool = False


def _pointer(diag: types.Diagnostic) -> str | None:
    data = diag.data if isinstance(diag.data, dict) else {}
    pointer = data.get("pointer")
    return pointer if isinstance(pointer, str) else None


def _keyword(diag: types.Diagnostic) -> str | None:
    data = diag.data if isinstance(diag.data, dict) else {}
    return data.get("keyword")


def _whole_lines(doc: Document, first: int, stop: int) -> types.Range:
    """Lines first..stop-1 with their line breaks."""
    if stop < doc.line_count:
        return doc.range(first, 0, stop, 0)
    if first > 0:  # the block ends the document: take the line break before it instead
        return doc.range(first - 1, len(doc.line(first - 1)), stop - 1, len(doc.line(stop - 1)))
    return doc.range(first, 0, stop - 1, len(doc.line(stop - 1)))


def block_end(lines: Lines, line: int, col: int) -> int:
    """The line after the block that starts with a key or item marker at column `col`."""
    doc = lines.doc
    i = line + 1
    last_content = line
    while i < doc.line_count:
        s = lines.shape(i)
        if s is not None:
            if s.indent <= col:
                break
            last_content = i
        i += 1
    return last_content + 1


# -- unknown property ----------------------------------------------------------------------
def unknown_property(doc: Document, diag: types.Diagnostic) -> list[Fix]:
    pointer = _pointer(diag)
    if _keyword(diag) != "additionalProperties" or pointer is None:
        return []
    tokens = pointer_split(pointer)
    if not tokens:
        return []
    extra = tokens[-1]
    line, col = doc.char_position(diag.range.start)
    lines = Lines(doc)
    s = lines.shape(line)
    if s is None or s.key != extra:
        return []
    parent = schema_nav.at_path(container_path(lines, line, s.key_col, s.dashes), is_bundle(lines))
    allowed = list(schema_nav.properties(parent)) if parent is not None else []
    fixes = []
    for i, name in enumerate(difflib.get_close_matches(extra, allowed, n=3)):
        fixes.append(Fix(f"Rename {extra!r} to {name!r}", [types.TextEdit(range=diag.range, new_text=name)], i == 0))
    if not s.dashes:  # a key that opens a list item takes the item with it: leave that to the user
        end = block_end(lines, line, s.key_col)
        fixes.append(Fix(f"Remove {extra!r}", [types.TextEdit(range=_whole_lines(doc, line, end), new_text="")]))
    return fixes


# -- default profile -----------------------------------------------------------------------
def _profile_keys(doc: Document, diag: types.Diagnostic):
    line, _ = doc.char_position(diag.range.start)
    reg = registry_at(doc, line)
    return reg, ([p.key.key for p in reg.profiles] if reg is not None else [])


def create_named_profile(doc: Document, diag: types.Diagnostic) -> list[Fix]:
    """`default_profile_slug: ghost` with no profile `ghost`: write an empty one."""
    reg, keys = _profile_keys(doc, diag)
    if reg is None or reg.default is None or not reg.default.text or reg.default.text in keys:
        return []
    name = reg.default.text
    if not is_slug(name):
        return []
    lines = Lines(doc)
    unit = indent_unit(lines)
    if reg.profiles:
        last = reg.profiles[-1]
        at = block_end(lines, last.key.line, last.key.col)
        indent = " " * last.key.col
    elif reg.profiles_line is not None:
        profiles = lines.shape(reg.profiles_line)
        if profiles is None or profiles.value:  # `profiles: {}` written inline
            return []
        at = reg.profiles_line + 1
        indent = " " * reg.field_col + unit
    else:
        at = reg.end_line
        text = f"{' ' * reg.field_col}profiles:\n{' ' * reg.field_col}{unit}{name}: {{}}\n"
        return [Fix(f"Create profile {name!r}", [_insert_lines(doc, at, text)])]
    return [Fix(f"Create profile {name!r}", [_insert_lines(doc, at, f"{indent}{name}: {{}}\n")])]


def _insert_lines(doc: Document, at: int, text: str) -> types.TextEdit:
    if at < doc.line_count:
        return types.TextEdit(range=doc.range(at, 0, at, 0), new_text=text)
    last = doc.line_count - 1
    end = doc.range(last, len(doc.line(last)), last, len(doc.line(last)))
    return types.TextEdit(range=end, new_text=("\n" if doc.line(last) else "") + text.rstrip("\n"))


# -- list items (empty names, override-key conflicts) ---------------------------------------
_FLOW_ITEM_SEPARATOR = re.compile(r"\s*,\s*")


def remove_list_item(doc: Document, line: int, start: int, end: int) -> list[types.TextEdit] | None:
    """Edits removing the sequence item whose scalar (or mapping) starts at (line, start)."""
    text = doc.line(line)
    lines = Lines(doc)
    open_at = text.rfind("[", 0, start)
    if open_at != -1 and "]" in text[end:]:
        # a flow list on one line: drop the item and one separating comma
        after = _FLOW_ITEM_SEPARATOR.match(text, end)
        if after is not None and text[after.end():after.end() + 1] not in ("]", ""):
            return [types.TextEdit(range=doc.range(line, start, line, after.end()), new_text="")]
        before = text[open_at + 1:start]
        m = re.search(r"\s*,\s*$", before)
        if m is not None:
            return [types.TextEdit(range=doc.range(line, open_at + 1 + m.start(), line, end), new_text="")]
        return [types.TextEdit(range=doc.range(line, start, line, end), new_text="")]
    # a block list: the item starts at the nearest `- ` at or above, left of `start`
    item_line = None
    dash = None
    for i in range(line, max(-1, line - 200), -1):
        s = lines.shape(i)
        if s is None:
            continue
        left = [d for d in s.dashes if d < start] if i == line else [d for d in s.dashes if d < start]
        if left:
            item_line, dash = i, left[-1]
            break
        if s.indent < start and i != line:
            break
    if item_line is None:
        return None
    stop = block_end(lines, item_line, dash)
    siblings = _sibling_items(lines, item_line, dash)
    if siblings == 0:
        # the only item: the list becomes `[]` on its key's line
        owner = item_line - 1
        while owner >= 0 and lines.shape(owner) is None:
            owner -= 1
        o = lines.shape(owner) if owner >= 0 else None
        if o is None or o.key is None or o.value:
            return None
        key_line = doc.line(owner)
        return [
            types.TextEdit(range=doc.range(owner, len(key_line), owner, len(key_line)), new_text=" []"),
            types.TextEdit(range=_whole_lines(doc, item_line, stop), new_text=""),
        ]
    return [types.TextEdit(range=_whole_lines(doc, item_line, stop), new_text="")]


def _sibling_items(lines: Lines, item_line: int, dash: int) -> int:
    """How many other items the list holds (item markers at the same column)."""
    count = 0
    for step in (-1, 1):
        i = item_line + step
        while 0 <= i < lines.doc.line_count:
            s = lines.shape(i)
            if s is not None:
                if s.indent < dash or (s.indent == dash and not s.dashes):
                    break
                if s.dashes and s.dashes[0] == dash:
                    count += 1
            i += step
    return count


def empty_name(doc: Document, diag: types.Diagnostic) -> list[Fix]:
    pointer = _pointer(diag)
    if pointer is None:
        return []
    tokens = pointer_split(pointer)
    line, start = doc.char_position(diag.range.start)
    _, end = doc.char_position(diag.range.end)
    if len(tokens) >= 3 and tokens[-1] == "name" and tokens[-3] == "middlewares":
        what = "the middleware with the empty name"
        s = Lines(doc).shape(line)
        # the item is the mapping holding `name:`; its marker is left of the key
        start = s.key_col if s is not None and s.key == "name" else start
    elif len(tokens) >= 2 and tokens[-2] == "tools":
        what = "the empty tool name"
    elif len(tokens) >= 2 and tokens[-2] in OVERRIDE_LIST_FIELDS:
        what = "the empty override key"
    else:
        return []
    edits = remove_list_item(doc, line, start, end)
    return [Fix(f"Remove {what}", edits, True)] if edits else []


def override_conflict(doc: Document, diag: types.Diagnostic) -> list[Fix]:
    line, start = doc.char_position(diag.range.start)
    _, end = doc.char_position(diag.range.end)
    key = doc.line(line)[start:end].strip("'\"")
    edits = remove_list_item(doc, line, start, end)
    return [Fix(f"Remove {key!r} from denied_override_keys", edits, True)] if edits else []


# -- duplicate keys --------------------------------------------------------------------------
def duplicate_key(doc: Document, diag: types.Diagnostic) -> list[Fix]:
    line, _ = doc.char_position(diag.range.start)
    lines = Lines(doc)
    s = lines.shape(line)
    if s is None or s.key is None or s.dashes:
        return []
    col, key = s.key_col, s.key
    earlier = None
    i = line - 1
    while i >= 0:
        t = lines.shape(i)
        if t is not None:
            if t.indent < col or (t.dashes and t.dashes[-1] < col and t.key_col == col and t.key != key):
                break
            if t.key == key and t.key_col == col and not t.dashes:
                earlier = i
                break
        i -= 1
    fixes = []
    if earlier is not None:
        stop = block_end(lines, earlier, col)
        fixes.append(Fix(f"Remove the earlier {key!r} (line {earlier + 1}; this one is in effect)",
                         [types.TextEdit(range=_whole_lines(doc, earlier, stop), new_text="")], True))
    stop = block_end(lines, line, col)
    fixes.append(Fix(f"Remove this {key!r} (keep the one on line {earlier + 1})" if earlier is not None
                     else f"Remove this {key!r}",
                     [types.TextEdit(range=_whole_lines(doc, line, stop), new_text="")]))
    return fixes


FIXES = {
    "schema": unknown_property,
    "default-profile-unknown": create_named_profile,
    "empty-name": empty_name,
    "override-key-conflict": override_conflict,
    "yaml-duplicate-key": duplicate_key,
}
