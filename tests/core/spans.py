"""Checking that diagnostic ranges lie inside the document they describe."""
from __future__ import annotations

from profreg.engine import Diagnostic
from profreg.engine.reader import LineIndex


def reference_text(source: str | bytes) -> str:
    """The text ranges are counted in: decoded (bad bytes replaced), without a leading BOM."""
    text = source.decode("utf-8", errors="replace") if isinstance(source, bytes) else source
    return text[1:] if text.startswith("\ufeff") else text


def assert_spans_inside(source: str | bytes, diagnostics: list[Diagnostic]) -> None:
    index = LineIndex(reference_text(source))
    line_count = len(index.starts)
    for d in diagnostics:
        s = d.span
        where = f"{d.code} {s} in a document of {line_count} lines"
        assert (s.start_line, s.start_col) <= (s.end_line, s.end_col), where
        assert 0 <= s.start_line < line_count and 0 <= s.end_line < line_count, where
        assert 0 <= s.start_col <= len(index.line_text(s.start_line)), where
        assert 0 <= s.end_col <= len(index.line_text(s.end_line)), where
