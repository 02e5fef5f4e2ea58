"""Publishing the engine's diagnostics: registry detection, LSP ranges, coalesced updates."""
from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from lsprotocol import types

from profreg.engine import Diagnostic, Report
from profreg.engine.detection import looks_like_registry
from profreg.engine.schema import accelerator_loaded

from .documents import Document
from .incremental import IncrementalValidator

if TYPE_CHECKING:  # pragma: no cover
    from .server import ProfregLanguageServer

log = logging.getLogger(__name__)

SOURCE = "profreg"
_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "info": types.DiagnosticSeverity.Information,
}


def validate(doc: Document) -> Report:
    """The engine's report for the document's current text (reusing unchanged blocks)."""
    validator = doc.state.get("validator")
    if validator is None:
        validator = doc.state["validator"] = IncrementalValidator()
    report = validator.validate(doc.text)
    doc.state["report"] = report
    return report


def lsp_diagnostics(doc: Document, report: Report) -> list[types.Diagnostic]:
    """The report as LSP diagnostics, or none for YAML that is not a registry."""
    if report.parsed is None or not looks_like_registry(report.parsed, accelerate=accelerator_loaded()):
        return []
    return [to_lsp(doc, d) for d in report.diagnostics]


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
        self._pending: dict[str, asyncio.TimerHandle] = {}

    def schedule(self, uri: str, immediately: bool = False) -> None:
        """(Re)start the quiet-period timer for a document; the last edit of a burst wins."""
        self.cancel(uri)
        loop = asyncio.get_running_loop()
        if immediately:
            self.publish(uri)
        else:
            self._pending[uri] = loop.call_later(self.delay, self.publish, uri)

    def cancel(self, uri: str) -> None:
        handle = self._pending.pop(uri, None)
        if handle is not None:
            handle.cancel()

    def publish(self, uri: str) -> None:
        self._pending.pop(uri, None)
        doc = self.server.documents.get(uri)
        if doc is None:
            return
        try:
            diagnostics = lsp_diagnostics(doc, validate(doc))
        except Exception:  # never let one document's problem stop the server
            log.exception("validating %s failed", uri)
            return
        self.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=doc.version)
        )

    def clear(self, uri: str) -> None:
        self.cancel(uri)
        self.server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
