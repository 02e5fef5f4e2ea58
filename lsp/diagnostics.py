"""The engine's view of each document, and publishing its diagnostics (coalesced, LSP ranges).

Detection comes first, as in the CLI: a document's text is read (data and source map),
judged by `looks_like_registry`, and validated only if it is a registry (one engine call,
`read_and_validate`, with the collector paused for both steps). The result for
the current text is kept on the document (`DocumentState.analysis`); hover and code
actions read that one, analysing the text first if an edit has not been published yet.
"""
from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from cattrs import Converter
from lsprotocol import types

from profreg.engine import Diagnostic
from profreg.engine import read_and_validate

from .documents import Analysis, Document
from .yamlcontext import warm_views

if TYPE_CHECKING:  # pragma: no cover
    from .server import ProfregLanguageServer

log = logging.getLogger(__name__)

SOURCE = "profreg"
_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
}


def analyse(doc: Document) -> Analysis:
    """The engine's view of the document's current text (reusing unchanged blocks)."""
    state = doc.state
    analysis = state.analysis
    if analysis is not None and analysis.text is doc.text:
        return analysis
    text, starts, validator = doc.text, doc.starts, state.validator
    # the first analysis reads every block; later ones read only edited blocks
    source, report = read_and_validate(lambda: validator.read(text, starts), validator.validate_source,
                                       kept=analysis is None and state.keep_out_of_scans)
    state.analysis = analysis = Analysis(text, source, report is not None, report)
    return analysis


def lsp_diagnostics(doc: Document) -> list[types.Diagnostic]:
    """The current text's diagnostics as LSP ones; none for YAML that is not a registry."""
    return [lsp for lsp, _ in _converted(doc, None)]


def _converted(doc: Document, converter: Converter | None) -> list[tuple[types.Diagnostic, Any]]:
    """Each diagnostic as an LSP one and (with a converter) its JSON form, reusing the last's.

    A diagnostic converts to the same LSP one while the lines its range is on read the same
    (an LSP column counts code units of the line's text), so an edit converts only the
    diagnostics it changed, however many the document has.
    """
    report = analyse(doc).report
    if report is None:
        return []
    state = doc.state
    known, kept = state.converted, {}
    out = []
    for d in report.diagnostics:
        span = d.span
        key = (d, doc.line(span.start_line), doc.line(span.end_line) if span.end_line != span.start_line else None)
        got = known.get(key)
        if got is None:
            got = (to_lsp(doc, d), None)
        if converter is not None and got[1] is None:
            got = (got[0], converter.unstructure(got[0]))
        kept[key] = got
        out.append(got)
    state.converted = kept
    return out


def to_lsp(doc: Document, diagnostic: Diagnostic) -> types.Diagnostic:
    span = diagnostic.span
    data = {"field": diagnostic.field, "pointer": diagnostic.pointer}
    if diagnostic.keyword is not None:
        data["keyword"] = diagnostic.keyword
    return types.Diagnostic(
        range=doc.range(span.start_line, span.start_col, span.end_line, span.end_col),
        message=diagnostic.message,
        severity=_SEVERITY.get(diagnostic.severity, types.DiagnosticSeverity.Error),
        code=diagnostic.code,
        source=SOURCE,
        data=data,
    )


class DiagnosticsPublisher:
    """Validates and publishes per document; a burst of edits is coalesced into one run."""

    def __init__(self, server: "ProfregLanguageServer", delay: float = 0.03):
        self.server = server
        self.delay = delay

    def schedule(self, doc: Document, immediately: bool = False) -> None:
        """(Re)start the quiet-period timer for a document; the last edit of a burst wins."""
        self.cancel(doc)
        if immediately:
            self.publish(doc)
        else:
            doc.state.pending = asyncio.get_running_loop().call_later(self.delay, self.publish, doc)

    def cancel(self, doc: Document) -> None:
        handle, doc.state.pending = doc.state.pending, None
        if handle is not None:
            handle.cancel()

    def publish(self, doc: Document) -> None:
        doc.state.pending = None
        uri = doc.uri
        if self.server.documents.get(uri) is not doc:  # closed (or opened again) meanwhile
            return
        try:
            diagnostics = [json_form for _, json_form in _converted(doc, self.server.protocol._converter)]
        except Exception:  # never let one document's problem stop the server
            log.exception("validating %s failed", uri)
            return
        self.server.protocol.publish_diagnostics_json(uri, doc.version, diagnostics)
        warm_views(doc)  # once per opened text, after its diagnostics are out

    def clear(self, uri: str) -> None:
        self.server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
