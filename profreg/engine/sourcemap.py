"""The source-map interface the engine reads a document through (SPEC section 3 ranges).

Two readers implement it: `profreg.engine.reader.ParsedYaml` (one parse of the whole text)
and the language server's `AssembledYaml` (blocks parsed apart and reused between edits).
The engine asks it for the data, the reader's own findings, and the range of a JSON
pointer; it never needs to know which reader it has.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # pragma: no cover
    from .reader import LineIndex
    from .report import Diagnostic, Span


class SourceMap(Protocol):
    text: str
    data: Any  # the document's JSON-like data (None when `fatal` or `empty`)
    diagnostics: list[Diagnostic]  # the reader's findings (syntax, duplicate keys, limits)
    fatal: bool  # nothing more may be reported (syntax error, limit, second document)
    empty: bool  # no content at all

    @property
    def lines(self) -> LineIndex: ...

    def span_of(self, pointer: str, target: str = "value") -> Span:
        """Range for a pointer: its `value`, its `key` (the value's if it has none), or the
        `object` (the key of the mapping that holds it; line 1 at the root). A pointer to
        something missing gets the range of its deepest ancestor that exists."""
        ...

    def plain_text(self, pointer: str) -> str | None:
        """The source text of a plain scalar at pointer (for 'quote it' hints), else None."""
        ...
