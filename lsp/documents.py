"""Open documents: text kept in sync with the editor, and position conversions.

pygls's own workspace splits lines with `str.splitlines`, which also breaks at U+0085,
U+2028 and U+2029; SPEC section 2 says lines end at \\n, \\r\\n or \\r only (as editors and
LSP count them), so the server keeps its own copy of each document and applies the
incremental changes itself with that rule.
"""
from __future__ import annotations

import asyncio
import bisect
import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from .incremental import IncrementalValidator

if TYPE_CHECKING:  # pragma: no cover
    from profreg.engine import Report
    from profreg.engine.sourcemap import SourceMap

    from .outline import RegistryOutline
    from .yamlcontext import Shape

_BREAK = re.compile(r"\r\n|\r|\n")

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"


def line_starts(text: str) -> list[int]:
    """Offsets where lines start (lines end at \\n, \\r\\n or \\r)."""
    if "\r" not in text:  # the common case: a split, no regex scan over the text
        return list(accumulate(map((1).__add__, map(len, text.split("\n")[:-1])), initial=0))
    return [0] + [m.end() for m in _BREAK.finditer(text)]


def units(text: str, encoding: str) -> int:
    """Length of `text` in the code units of a position encoding."""
    if encoding == UTF32:
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8", "surrogatepass"))
    if text.isascii():
        return len(text)
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def column_from_units(line: str, count: int, encoding: str) -> int:
    """Code-point column for a column given in encoding units (clamped to the line)."""
    if encoding == UTF32 or line.isascii():
        return max(0, min(count, len(line)))
    seen = 0
    for i, ch in enumerate(line):
        if seen >= count:
            return i
        if encoding == UTF8:
            seen += len(ch.encode("utf-8", "surrogatepass"))
        else:
            seen += 2 if ord(ch) > 0xFFFF else 1
    return len(line)


@dataclass(eq=False)
class Analysis:
    """What the engine made of one version of a document's text."""

    text: str  # the text analysed (compared by identity: `Document.text` is replaced on each edit)
    source: SourceMap  # its data and source map
    registry: bool  # it looks like a registry (SPEC section 7): only then does it get diagnostics
    report: Report | None  # the engine's report; None for YAML that is not a registry


@dataclass(eq=False)
class DocumentState:
    """What the server keeps for an open document besides its text, across edits."""

    validator: IncrementalValidator = field(default_factory=IncrementalValidator)
    analysis: Analysis | None = None  # of the text analysed last (see `profreg_lsp.diagnostics.analyse`)
    # the last published diagnostics as LSP ones and their JSON form (see `profreg_lsp.diagnostics._converted`)
    converted: dict[tuple, tuple[types.Diagnostic, Any]] = field(default_factory=dict)
    pending: asyncio.TimerHandle | None = None  # the publish waiting for the typing to pause
    # what the first analysis reads may leave the collector's scans (`gc.freeze`, process-wide):
    # only in the server's own process (`profreg_lsp.server.create_server`)
    keep_out_of_scans: bool = False


# A key written at column 0 (after the line's start, given as a newline); a match never
# reaches past its own line, so the keys of a text are those of its lines.
TOP_KEY = re.compile(r"""\n("[^"\n]*"|'[^'\n]*'|[^ \t\r\n#"'\-?\[\]{},][^:#\n]*?)[ \t]*:(?=[ \t\r\n]|$)""")


def starts_at(line: str, indent: int) -> bool:
    """Whether a line's content (not a comment) starts at column `indent`."""
    return len(line) > indent and line[indent] not in " \t\r\n#" and line.startswith(" " * indent)


@dataclass(eq=False)
class DerivedViews:
    """Views computed from the current text only, on demand.

    An edit moves the line-based ones past the edited lines (`moved`) instead of scanning
    the whole text again; the outline is made again when asked for.
    """

    outline: list[RegistryOutline] | None = None
    shapes: dict[int, Shape | None] = field(default_factory=dict)  # line number -> its shape
    indent_index: dict[int, list[int]] = field(default_factory=dict)  # column -> lines starting there
    # the index holds every column some line starts at (one it lacks has no lines): set
    # when the whole text was scanned once, so a column no line has costs no scan either
    indents_complete: bool = False
    top_level_counts: Counter[str] | None = None  # key text as written at column 0 -> lines holding it
    top_level_keys: set[str] | None = None

    def moved(self, first: int, last: int, new_lines: list[str], old_lines: list[str]) -> DerivedViews:
        """The views after lines first..last (`old_lines`) became `new_lines`."""
        shift = len(new_lines) - (last - first + 1)
        out = DerivedViews()
        for indent, numbers in self.indent_index.items():
            lo, hi = bisect.bisect_left(numbers, first), bisect.bisect_right(numbers, last)
            tail = numbers[hi:] if not shift else [n + shift for n in numbers[hi:]]
            out.indent_index[indent] = numbers[:lo] + [
                first + i for i, line in enumerate(new_lines) if starts_at(line, indent)] + tail
        if self.indents_complete:  # columns only the new lines start at
            known = self.indent_index
            for i, line in enumerate(new_lines):
                content = line.lstrip(" ")
                if content and content[0] not in "\t\r\n#" and len(line) - len(content) not in known:
                    out.indent_index.setdefault(len(line) - len(content), []).append(first + i)
            out.indents_complete = True
        out.shapes = {(n if n < first else n + shift): got for n, got in self.shapes.items()
                      if not first <= n <= last}
        counts = self.top_level_counts
        if counts is not None:  # the old views are dropped: their counter is reused
            counts.subtract(m.group(1) for line in old_lines if (m := TOP_KEY.match("\n" + line + "\n")))
            counts.update(m.group(1) for line in new_lines if (m := TOP_KEY.match("\n" + line + "\n")))
            out.top_level_counts = +counts
        return out


@dataclass
class Document:
    """One open text document with line bookkeeping in SPEC line-break terms."""

    uri: str
    text: str
    version: int | None = None
    encoding: str = UTF16
    _starts: list[int] | None = field(default=None, repr=False)
    state: DocumentState = field(default_factory=DocumentState, repr=False)
    derived: DerivedViews = field(default_factory=DerivedViews, repr=False)

    @property
    def starts(self) -> list[int]:
        if self._starts is None:
            self._starts = line_starts(self.text)
        return self._starts

    @property
    def line_count(self) -> int:
        return len(self.starts)

    def line(self, number: int) -> str:
        starts = self.starts
        if number < 0 or number >= len(starts):
            return ""
        end = starts[number + 1] if number + 1 < len(starts) else len(self.text)
        return self.text[starts[number]:end].rstrip("\r\n")

    def lines(self) -> list[str]:
        return [self.line(i) for i in range(self.line_count)]

    # -- positions -----------------------------------------------------------------
    def offset_at(self, position: types.Position) -> int:
        """Character offset of an LSP position (clamped into the document)."""
        starts = self.starts
        if position.line >= len(starts):
            return len(self.text)
        if position.line < 0:
            return 0
        col = column_from_units(self.line(position.line), position.character, self.encoding)
        return starts[position.line] + col

    def char_position(self, position: types.Position) -> tuple[int, int]:
        """(line, code-point column) of an LSP position."""
        line = max(0, min(position.line, self.line_count - 1))
        return line, column_from_units(self.line(line), position.character, self.encoding)

    def position(self, line: int, column: int) -> types.Position:
        """LSP position for a (line, code-point column) pair."""
        text = self.line(line)
        if self.encoding == UTF32 or text.isascii():
            return types.Position(line=line, character=column)
        return types.Position(line=line, character=units(text[:column], self.encoding))

    def position_at(self, offset: int) -> types.Position:
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.starts, offset) - 1
        return self.position(line, offset - self.starts[line])

    def range(self, start_line: int, start_col: int, end_line: int, end_col: int) -> types.Range:
        return types.Range(start=self.position(start_line, start_col), end=self.position(end_line, end_col))

    # -- edits ---------------------------------------------------------------------
    def apply(self, change: Any) -> None:
        """Apply one TextDocumentContentChangeEvent (incremental or whole text)."""
        rng = getattr(change, "range", None)
        if rng is None:
            self.text = change.text
            self._starts = None
            self.derived = DerivedViews()
            return
        start = self.offset_at(rng.start)
        end = max(start, self.offset_at(rng.end))
        old_starts = self.starts
        new_text = change.text
        first = bisect.bisect_right(old_starts, start) - 1
        last = bisect.bisect_right(old_starts, end) - 1
        views = self.derived
        old_lines = [self.line(i) for i in range(first, last + 1)]
        self.text = self.text[:start] + new_text + self.text[end:]
        self.derived = DerivedViews()
        if "\r" in new_text or "\r" in self.text:
            self._starts = None  # recomputed on demand: \r\n pairs may have been split or joined
            return
        # splice the line index instead of rescanning the whole text
        inserted = []
        at = new_text.find("\n")
        while at != -1:
            inserted.append(start + at + 1)
            at = new_text.find("\n", at + 1)
        delta = len(new_text) - (end - start)
        self._starts = old_starts[: first + 1] + inserted + [s + delta for s in old_starts[last + 1:]]
        if views.indent_index or views.shapes or views.top_level_counts is not None:
            self.derived = views.moved(first, last, [self.line(i) for i in range(first, first + len(inserted) + 1)],
                                       old_lines)
