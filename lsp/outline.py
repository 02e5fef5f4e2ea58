"""The registries and profiles of a document, with positions, from a line scan.

Navigation, rename, symbols and quick fixes need where things are written (a profile's
key, its `slug:` value, the registry's `default_profile_slug:` value) even while the
document does not parse, so this reads them from the text; nothing here validates.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from .documents import Document
from .yamlcontext import KeyLocation, Lines, iter_line_matches, mapping_entries, unquote


@dataclass
class ValueLocation:
    line: int
    start: int
    end: int
    text: str  # unquoted


@dataclass
class ProfileOutline:
    key: KeyLocation
    end_line: int  # exclusive
    slug: ValueLocation | None = None


@dataclass
class RegistryOutline:
    name: str
    key: KeyLocation | None  # its key under `registries` (bundle), else None
    field_col: int  # column of the registry's own fields
    start_line: int
    end_line: int  # exclusive
    default: ValueLocation | None = None
    default_key_line: int | None = None
    profiles_line: int | None = None
    profiles: list[ProfileOutline] = field(default_factory=list)

    def profile(self, key: str) -> ProfileOutline | None:
        for p in self.profiles:
            if p.key.key == key:
                return p
        return None

    def contains(self, line: int) -> bool:
        return self.start_line <= line < self.end_line


def _value_location(lines: Lines, line: int) -> ValueLocation | None:
    s = lines.shape(line)
    if s is None or s.key is None:
        return None
    raw = s.value
    if not raw or raw[0] in "|>[{&*!":
        return None
    return ValueLocation(line, s.value_col, s.value_col + len(raw), unquote(raw))


def _field_line(lines: Lines, start: int, end: int, col: int, key: str) -> int | None:
    """The line of `key:` at column `col` between two lines (regex over the text)."""
    doc = lines.doc
    starts = doc.starts
    begin = starts[start] if start < len(starts) else len(doc.text)
    stop = starts[end] if end < len(starts) else len(doc.text)
    body = r" {%d}%s[ \t]*:(?=[ \t\r\n]|$)" % (col, re.escape(key))
    for line_start, _ in iter_line_matches(body, doc.text, begin, stop):
        return bisect.bisect_right(starts, line_start) - 1
    return None


def _registry(lines: Lines, name: str, key: KeyLocation | None, start: int, end: int, col: int) -> RegistryOutline:
    reg = RegistryOutline(name=name, key=key, field_col=col, start_line=start, end_line=end)
    dps = _field_line(lines, start, end, col, "default_profile_slug")
    if dps is not None:
        reg.default_key_line = dps
        reg.default = _value_location(lines, dps)
    prof = _field_line(lines, start, end, col, "profiles")
    if prof is None:
        return reg
    reg.profiles_line = prof
    entries, _ = mapping_entries(lines, prof, col)
    bounds = [e.line for e in entries[1:]]
    _, profiles_end = mapping_entries(lines, prof, col)
    bounds.append(min(profiles_end, end))
    for entry, stop in zip(entries, bounds):
        reg.profiles.append(ProfileOutline(entry, stop))
    # `slug:` lines inside profiles: one regex over the block, then matched to profiles
    doc = lines.doc
    starts = doc.starts
    if entries:
        begin = starts[entries[0].line]
        stop_line = bounds[-1]
        stop = starts[stop_line] if stop_line < len(starts) else len(doc.text)
        first_lines = [p.key.line for p in reg.profiles]
        for line_start, m in iter_line_matches(r"( +)slug[ \t]*:", doc.text, begin, stop):
            n = bisect.bisect_right(starts, line_start) - 1
            k = bisect.bisect_right(first_lines, n) - 1
            if k < 0:
                continue
            owner = reg.profiles[k]
            if owner.slug is None and _is_profile_field(lines, owner, n, len(m.group(1))):
                owner.slug = _value_location(lines, n)
    return reg


def _is_profile_field(lines: Lines, profile: ProfileOutline, line: int, col: int) -> bool:
    """Whether a key at (line, col) is one of the profile's own fields (not nested deeper)."""
    for i in range(profile.key.line + 1, line + 1):
        s = lines.shape(i)
        if s is not None:
            return s.indent == col and not s.dashes
    return False


def outline(doc: Document) -> list[RegistryOutline]:
    """The document's registries (one for a single-form document) with their profiles."""
    cached = doc.derived.outline
    if cached is not None:
        return cached
    lines = Lines(doc)
    result: list[RegistryOutline] = []
    reg_line = _field_line(lines, 0, doc.line_count, 0, "registries")
    if reg_line is not None:
        entries, end = mapping_entries(lines, reg_line, 0)
        bounds = [e.line for e in entries[1:]] + [end]
        for entry, stop in zip(entries, bounds):
            col = _first_child_col(lines, entry.line, stop)
            if col is None:
                result.append(RegistryOutline(entry.key, entry, entry.col + 2, entry.line, stop))
            else:
                result.append(_registry(lines, entry.key, entry, entry.line, stop, col))
    else:
        slug_line = _field_line(lines, 0, doc.line_count, 0, "slug")
        name = "registry"
        if slug_line is not None:
            value = _value_location(lines, slug_line)
            name = value.text if value and value.text else name
        result.append(_registry(lines, name, None, 0, doc.line_count, 0))
    doc.derived.outline = result
    return result


def _first_child_col(lines: Lines, line: int, stop: int) -> int | None:
    for i in range(line + 1, stop):
        s = lines.shape(i)
        if s is not None:
            return s.indent
    return None


def registry_at(doc: Document, line: int) -> RegistryOutline | None:
    for reg in outline(doc):
        if reg.contains(line):
            return reg
    return None


@dataclass
class SlugTarget:
    """A profile slug under the cursor: which registry, which profile, written where."""

    registry: RegistryOutline
    profile_key: str
    line: int
    start: int
    end: int
    role: str  # "key" | "slug" | "default"


def slug_at(doc: Document, line: int, col: int) -> SlugTarget | None:
    reg = registry_at(doc, line)
    if reg is None:
        return None
    for p in reg.profiles:
        k = p.key
        if k.line == line and k.col <= col <= k.end:
            return SlugTarget(reg, k.key, line, k.col, k.end, "key")
        if p.slug is not None and p.slug.line == line and p.slug.start <= col <= p.slug.end:
            return SlugTarget(reg, p.slug.text, line, p.slug.start, p.slug.end, "slug")
    d = reg.default
    if d is not None and d.line == line and d.start <= col <= d.end:
        return SlugTarget(reg, d.text, line, d.start, d.end, "default")
    return None
