"""What the YAML around the cursor is, from indentation alone (works on half-typed text).

Completion, hover and navigation must work while the document does not parse, so they
read the structure from lines: each content line is a stack of *frames* (`- ` item
markers and a `key:`), and the path to the cursor is found by walking upward to the
nearest line that holds a frame at a smaller column. Long walks (from a profile up to
`profiles:` over thousands of lines) jump through a per-indent index of line numbers.
"""
from __future__ import annotations

import bisect
import re
from collections import Counter
from dataclasses import dataclass, field

from .documents import TOP_KEY, Document
from .schema_nav import ITEM

_KEY = re.compile(
    r"""(?P<key>"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^ \t\r\n#"'\[\]{},][^#]*?)[ \t]*:(?=[ \t]|$)"""
)
_LINEAR_WALK = 100
_YAML_SPACE = " \t\r\n"  # YAML's white space; U+00A0 and friends are content  # lines walked one by one before using the indent index


@dataclass
class Shape:
    """One content line: where its item markers and its key are."""

    indent: int
    dashes: list[int] = field(default_factory=list)
    key: str | None = None
    key_col: int = 0
    key_end: int = 0
    value: str = ""  # the text after `key:` (comment dropped), or the scalar after dashes
    value_col: int = 0

    def frames(self) -> list[tuple[str, int, str | None]]:
        out: list[tuple[str, int, str | None]] = [("item", d, None) for d in self.dashes]
        if self.key is not None:
            out.append(("key", self.key_col, self.key))
        elif self.value:
            out.append(("scalar", self.value_col, None))
        return out


def unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        body = text[1:-1]
        return body.replace("''", "'") if text[0] == "'" else body.replace('\\"', '"')
    return text


def strip_comment(text: str) -> str:
    """Drop a trailing ` # comment` outside quotes (good enough for one-line values)."""
    quote = None
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'" and (i == 0 or text[i - 1] in " [,{:"):
            quote = ch
        elif ch == "#" and (i == 0 or text[i - 1] in " \t"):
            return text[:i].rstrip(_YAML_SPACE)
    return text.rstrip(_YAML_SPACE)


def shape(line: str) -> Shape | None:
    """The frames of a line; None for a blank or comment-only line."""
    stripped = line.lstrip(" ")
    if not stripped.strip(_YAML_SPACE) or stripped.startswith("#"):
        return None
    indent = len(line) - len(stripped)
    out = Shape(indent)
    pos = indent
    while line.startswith("-", pos) and (pos + 1 == len(line) or line[pos + 1] in " \t"):
        out.dashes.append(pos)
        pos += 1
        while pos < len(line) and line[pos] in " \t":
            pos += 1
    m = _KEY.match(line, pos)
    if m is not None:
        out.key = unquote(m.group("key"))
        out.key_col = pos
        out.key_end = m.end("key")
        rest = line[m.end():]
        value = rest.lstrip(" \t")
        out.value_col = len(line) - len(value)
        out.value = strip_comment(value)
    else:
        out.key_col = pos
        out.value_col = pos
        out.value = strip_comment(line[pos:])
    return out


class Lines:
    """Line access plus the per-indent index, cached on the document until its next edit."""

    def __init__(self, doc: Document):
        self.doc = doc
        self._shapes = doc.derived.shapes

    def shape(self, number: int) -> Shape | None:
        if number in self._shapes:
            return self._shapes[number]
        got = shape(self.doc.line(number))
        self._shapes[number] = got
        return got

    def indent_lines(self, indent: int) -> list[int]:
        """Line numbers whose content starts at column `indent` (comments excluded)."""
        views = self.doc.derived
        index = views.indent_index
        got = index.get(indent)
        if got is None and views.indents_complete:
            return []
        if got is None:
            starts = self.doc.starts
            # a literal newline first lets the regex engine skip ahead (a `^` scan is slow)
            pattern = re.compile(r"\n {%d}[^ \t\r\n#]" % indent)
            text = self.doc.text
            got = [bisect.bisect_right(starts, m.start() + 1) - 1 for m in pattern.finditer(text)]
            if re.match(r" {%d}[^ \t\r\n#]" % indent, text):
                got.insert(0, 0)
            index[indent] = got
        return got

    def previous_below(self, line: int, bound: int) -> int | None:
        """The nearest line above `line` with a frame at a column below `bound`."""
        i = line - 1
        stop = max(-1, line - 1 - _LINEAR_WALK)
        while i > stop:
            s = self.shape(i)
            if s is not None and s.indent < bound:
                return i
            i -= 1
        if i < 0:
            return None
        best = None
        for indent in range(bound):
            lines = self.indent_lines(indent)
            k = bisect.bisect_right(lines, i) - 1
            if k >= 0 and (best is None or lines[k] > best):
                best = lines[k]
        return best


def container_path(lines: Lines, line: int, col: int, dashes_before: list[int] | None = None) -> list[str]:
    """Path of keys (ITEM for sequence items) to the mapping whose keys sit at `col`.

    `dashes_before`: item markers on the cursor line left of `col` (the cursor's own item).
    """
    path: list[str] = []
    pending_items = list(dashes_before or [])
    bound = col
    current = line
    while True:
        if pending_items:
            d = pending_items.pop()
            path.insert(0, ITEM)
            owner = _item_owner(lines, current, d, pending_items)
            if owner is None:
                return path
            current, key, key_col, dashes = owner
            if key is None:  # an item of an outer sequence
                pending_items = dashes
                continue
            path.insert(0, key)
            pending_items = dashes
            bound = key_col
            continue
        above = lines.previous_below(current, bound)
        if above is None:
            return path
        s = lines.shape(above)
        frames = [f for f in s.frames() if f[1] < bound]
        kind, fcol, key = frames[-1]
        earlier = [f[1] for f in frames[:-1] if f[0] == "item"]
        current = above
        if kind == "key":
            path.insert(0, key)
            pending_items = earlier
            bound = fcol
        elif kind == "item":
            pending_items = earlier + [fcol]
        else:  # a stray scalar: cannot say more
            return path


def _item_owner(lines: Lines, line: int, dash: int, outer: list[int]):
    """The line owning a sequence item whose marker is at column `dash`.

    Returns (line, key or None, key column, item markers left of it) or None at the top.
    """
    if outer:  # `- - x`: the item belongs to the outer item on the same line
        return line, None, dash, outer
    i = line - 1
    while i >= 0:
        s = lines.shape(i)
        if s is not None:
            frames = s.frames()
            if s.key is not None and s.key_col == dash and not s.value and not s.dashes:
                return i, s.key, s.key_col, []
            lower = [f for f in frames if f[1] < dash]
            if lower:
                kind, fcol, key = lower[-1]
                earlier = [f[1] for f in lower[:-1] if f[0] == "item"]
                if kind == "key":
                    return i, key, fcol, earlier
                if kind == "item":
                    return i, None, fcol, earlier + [fcol]
                return None
        i -= 1
    return None


def sibling_keys(lines: Lines, line: int, col: int, starts_item: bool = False) -> set[str]:
    """Keys at column `col` in the same mapping as a key at (line, col).

    `starts_item`: the cursor line opens a sequence item (`- key`), so nothing above
    belongs to the same mapping.
    """
    doc = lines.doc
    if col == 0:
        return top_level_keys(doc)
    found: set[str] = set()
    i = line - 1
    while not starts_item and i >= max(0, line - _SIBLING_WALK):
        s = lines.shape(i)
        if s is not None:
            if s.key is not None and s.key_col == col:
                found.add(s.key)
                if s.dashes:
                    break  # the first key of this item
            elif s.indent < col:
                break
        i -= 1
    i = line + 1
    while i < min(doc.line_count, line + _SIBLING_WALK):
        s = lines.shape(i)
        if s is not None:
            if s.indent < col:
                break  # the mapping ended, or the next item starts
            if s.key is not None and s.key_col == col:
                found.add(s.key)
        i += 1
    return found


_SIBLING_WALK = 5000


def iter_line_matches(body: str, text: str, begin: int = 0, end: int | None = None):
    """Matches of `body` anchored at line starts in text[begin:end], as (line start, match).

    The pattern is searched as a newline followed by `body`: a literal first character lets
    the regex engine skip ahead, where a `^` or look-behind anchor would try every position.
    """
    end = len(text) if end is None else end
    if begin == 0 or (begin <= len(text) and text[begin - 1] == "\n"):
        first = re.compile(body).match(text, begin, end)
        if first is not None:
            yield begin, first
    for m in re.compile(r"\n" + body).finditer(text, begin, end):
        if m.start() + 1 > begin:
            yield m.start() + 1, re.compile(body).match(text, m.start() + 1, end)


def warm_views(doc: Document) -> None:
    """Build the line views completion and hover read (top-level keys, lines by indentation)
    in one pass, so the first request after opening a document does not scan it; edits then
    keep them up to date (`DerivedViews.moved`)."""
    views = doc.derived
    if views.top_level_counts is not None or "\r" in doc.text:
        return
    top_level_keys(doc)
    found: dict[int, list[int]] = {}
    for number, line in enumerate(doc.text.split("\n")):
        content = line.lstrip(" ")
        if content and content[0] not in "\t#":
            found.setdefault(len(line) - len(content), []).append(number)
    for indent, numbers in found.items():
        views.indent_index.setdefault(indent, numbers)
    views.indents_complete = True


def top_level_keys(doc: Document) -> set[str]:
    """Keys written at column 0 (counted once, then kept up to date through edits)."""
    views = doc.derived
    got = views.top_level_keys
    if got is None:
        if views.top_level_counts is None:
            if "\r" in doc.text:  # a lone \r ends a line too: line by line, as edits count them
                views.top_level_counts = Counter(m.group(1) for line in doc.lines()
                                                 if (m := TOP_KEY.match("\n" + line + "\n")))
            else:
                views.top_level_counts = Counter(m.group(1) for m in TOP_KEY.finditer("\n" + doc.text))
        got = views.top_level_keys = {unquote(key) for key in views.top_level_counts}
    return got


@dataclass
class KeyLocation:
    key: str
    line: int
    col: int
    end: int


def mapping_entries(lines: Lines, line: int, col: int) -> tuple[list[KeyLocation], int]:
    """The entries of the block mapping that is the value of the key at (line, col).

    Returns the entries (key and position) and the line after the mapping ends.
    """
    doc = lines.doc
    i = line + 1
    child_col = None
    entries: list[KeyLocation] = []
    # find the first content line to learn the entries' column
    while i < doc.line_count:
        s = lines.shape(i)
        if s is not None:
            if s.indent <= col and not (s.dashes and s.indent == col):
                return entries, i
            child_col = s.indent
            break
        i += 1
    if child_col is None:
        return entries, i
    # a regex over the text from here finds the entries and the end quickly
    start_offset = doc.starts[i]
    end_re = re.compile(r"\n {0,%d}(?=[^ \t\r\n#])" % col)
    m_end = end_re.search(doc.text, start_offset)
    end_offset = m_end.start() + 1 if m_end else len(doc.text)
    entry_body = (
        r""" {%d}("(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^ \t\r\n#"'\-?\[\]{},][^:#\n]*?)[ \t]*:(?=[ \t\r\n]|$)"""
        % child_col
    )
    starts = doc.starts
    for line_start, m in iter_line_matches(entry_body, doc.text, start_offset, end_offset):
        n = bisect.bisect_right(starts, line_start) - 1
        entries.append(KeyLocation(unquote(m.group(1)), n, child_col, child_col + len(m.group(1))))
    end_line = bisect.bisect_right(starts, end_offset - 1) if m_end else doc.line_count
    return entries, end_line


def find_key(lines: Lines, start_line: int, end_line: int, col: int, key: str) -> KeyLocation | None:
    """A key at column `col` between two lines (end exclusive)."""
    for i in range(start_line, min(end_line, lines.doc.line_count)):
        s = lines.shape(i)
        if s is not None and s.key == key and s.key_col == col:
            return KeyLocation(key, i, col, s.key_end)
    return None
