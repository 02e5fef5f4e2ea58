"""The profreg language server (pygls 2): wiring of features to LSP methods.

Each feature lives in its own module; this one keeps the open documents, routes requests,
and makes sure a failing handler is logged and answered with an error while the server
keeps serving (SPEC section 7).
"""
from __future__ import annotations

import asyncio
import functools
import logging
import sys
import threading
from typing import Any, BinaryIO, Callable

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInternalError, JsonRpcInvalidParams
from pygls.io_ import StdoutWriter, run_async
from pygls.lsp.server import LanguageServer
from pygls.protocol import JsonRPCProtocol, LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from profreg import __version__

from . import code_actions, code_lens, completion, framing, highlights, hover, navigation, symbols
from .diagnostics import DiagnosticsPublisher
from .documents import UTF8, UTF16, UTF32, Document, DocumentState

log = logging.getLogger("profreg_lsp")

COMPLETION_TRIGGERS = [":", " ", "-", "[", ","]


class ProfregProtocol(LanguageServerProtocol):
    """Leaves document text to the server's own `Document`s (SPEC line breaks).

    pygls's built-in handlers would also keep a copy split with `str.splitlines`, which
    breaks lines at U+2028 and friends and rebuilds every line on each keystroke.
    """

    def structure_message(self, data: dict[str, Any]):
        """Answer a request whose parameters cannot be read with an error (pygls only logs it)."""
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if isinstance(data, dict) and "id" in data and "method" in data:
                error = JsonRpcInvalidParams(f"invalid parameters for {data.get('method')}")
                self._send_response(data["id"], error=error.to_response_error())
            raise exc

    def publish_diagnostics_json(self, uri: str, version: int | None, diagnostics: list[dict]) -> None:
        """`textDocument/publishDiagnostics` with diagnostics already in their JSON form
        (kept per document between edits), so a publish does not convert them all again."""
        params: dict[str, Any] = {"uri": uri, "diagnostics": diagnostics}
        if version is not None:
            params["version"] = version
        self._send_data({"jsonrpc": JsonRPCProtocol.VERSION, "method": types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS,
                         "params": params})

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams):
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_OPEN)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: types.DidChangeTextDocumentParams):
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: types.DidCloseTextDocumentParams):
        if (handler := self.fm.features.get(types.TEXT_DOCUMENT_DID_CLOSE)) is not None:
            yield handler, (params,), None


class ProfregLanguageServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "profreg-lsp",
            __version__,
            protocol_cls=ProfregProtocol,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self.documents: dict[str, Document] = {}
        self.publisher = DiagnosticsPublisher(self)
        self.owns_process = False  # see `create_server`

    @property
    def encoding(self) -> str:
        try:
            chosen = self.workspace.position_encoding or UTF16
        except RuntimeError:  # not initialized yet
            chosen = UTF16
        chosen = getattr(chosen, "value", chosen)  # an lsprotocol enum member or a plain string
        return chosen if chosen in (UTF8, UTF16, UTF32) else UTF16

    def document(self, uri: str) -> Document | None:
        return self.documents.get(uri)

    def report_server_error(self, error: Exception, source: Any) -> None:
        log.error("server error (%s): %s", getattr(source, "__name__", source), error)

    # pygls's start_io/start_tcp, reading through `framing.BoundedReader` (bad frames are
    # skipped, not fatal); everything else as pygls does it.
    def start_io(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
        self._stop_event = threading.Event()
        reader = framing.stdin_reader(stdin or sys.stdin.buffer, self.thread_pool)
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        try:
            asyncio.run(run_async(stop_event=self._stop_event, reader=reader, protocol=self.protocol,
                                  logger=log, error_handler=self.report_server_error))
        except BrokenPipeError:
            log.error("the connection to the client is lost; shutting down")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()

    def start_tcp(self, host: str, port: int) -> None:
        self._stop_event = stop_event = threading.Event()

        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.protocol.set_writer(writer)  # type: ignore[arg-type]
            await run_async(stop_event=stop_event, reader=framing.stream_reader(reader), protocol=self.protocol,
                            logger=log, error_handler=self.report_server_error)
            self.shutdown()

        async def serve() -> None:
            self._server = await asyncio.start_server(connection, host, port)
            async with self._server:
                await self._server.serve_forever()

        try:
            asyncio.run(serve())
        except asyncio.CancelledError:
            pass


def _guarded(handler: Callable) -> Callable:
    """Log a failing request and answer it with an error; the next request still works."""

    @functools.wraps(handler)
    def run(ls: ProfregLanguageServer, params: Any) -> Any:
        try:
            return handler(ls, params)
        except (JsonRpcInvalidParams, JsonRpcInternalError):
            raise
        except navigation.RenameRefused as exc:
            raise JsonRpcInvalidParams(str(exc)) from None
        except Exception as exc:
            log.exception("%s failed", handler.__name__)
            raise JsonRpcInternalError(f"{handler.__name__} failed: {type(exc).__name__}: {exc}") from None

    return run


def _document_feature(name: str, answer: Callable[[Document, Any], Any]) -> Callable:
    """A handler answering from the open document the request names (None if it is not open)."""

    def handler(ls: ProfregLanguageServer, params: Any) -> Any:
        doc = ls.document(params.text_document.uri)
        return answer(doc, params) if doc else None

    handler.__name__ = name
    return handler


_POSITION = {"textDocument": {"uri": "file:///warm-up.yaml"}, "position": {"line": 0, "character": 0}}
# A message of each kind an editor sends while typing, and an answer of each kind sent back:
# cattrs writes a (de)serializing function for a type the first time it meets one.
_WARM_UP_MESSAGES = (
    (types.DidChangeTextDocumentNotification, {"jsonrpc": "2.0", "method": types.TEXT_DOCUMENT_DID_CHANGE, "params": {
        "textDocument": {"uri": "file:///warm-up.yaml", "version": 1},
        "contentChanges": [{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
                            "text": ""}]}}),
    (types.CompletionRequest, {"jsonrpc": "2.0", "id": 0, "method": types.TEXT_DOCUMENT_COMPLETION, "params": _POSITION}),
    (types.HoverRequest, {"jsonrpc": "2.0", "id": 0, "method": types.TEXT_DOCUMENT_HOVER, "params": _POSITION}),
)


def _warm_up_answers() -> tuple:
    span = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=1))
    return (
        types.CompletionList(is_incomplete=False, items=[types.CompletionItem(
            label="x", kind=types.CompletionItemKind.Property, detail="x", insert_text="x",
            insert_text_format=types.InsertTextFormat.Snippet, text_edit=types.TextEdit(range=span, new_text="x"),
            documentation=types.MarkupContent(kind=types.MarkupKind.Markdown, value="x"))]),
        types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value="x"), range=span),
        types.PublishDiagnosticsNotification(params=types.PublishDiagnosticsParams(
            uri="file:///warm-up.yaml", version=1, diagnostics=[types.Diagnostic(
                range=span, message="x", severity=types.DiagnosticSeverity.Error, code="x", source="profreg",
                data={"field": "x"})])),
    )


def warm_up(protocol: LanguageServerProtocol) -> None:
    """Have cattrs write its functions for the messages of typing now, not on the first keystroke."""
    converter = protocol._converter
    for message_type, message in _WARM_UP_MESSAGES:
        converter.structure(message, message_type)
    for answer in _warm_up_answers():
        converter.unstructure(answer)


def create_server(debounce: float = 0.03, owns_process: bool = False) -> ProfregLanguageServer:
    """The server, not started. `owns_process`: the process is the server's own (its entry
    point, `launch.main`), so what a document just opened has read may be moved out of the
    cyclic collector's scans (`gc.freeze`, which acts on every object of the process); a
    server run inside another program leaves its collector alone."""
    server = ProfregLanguageServer()
    server.publisher.delay = debounce
    server.owns_process = owns_process

    @server.feature(types.INITIALIZE)
    def initialize(ls: ProfregLanguageServer, params: types.InitializeParams) -> None:
        options = params.initialization_options
        if isinstance(options, dict) and isinstance(options.get("debounce_ms"), (int, float)):
            ls.publisher.delay = max(0.0, float(options["debounce_ms"]) / 1000)

    @server.feature(types.INITIALIZED)
    def initialized(ls: ProfregLanguageServer, params: types.InitializedParams) -> None:
        try:
            warm_up(ls.protocol)
        except Exception:  # only ever a head start: the first real message does the same
            log.exception("warming up the message converters failed")

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: ProfregLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        previous = ls.documents.get(item.uri)
        if previous is not None:  # opened again without a close: its pending publish goes
            ls.publisher.cancel(previous)
        ls.documents[item.uri] = doc = Document(item.uri, item.text, item.version, ls.encoding,
                                                state=DocumentState(keep_out_of_scans=ls.owns_process))
        ls.publisher.schedule(doc, immediately=True)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: ProfregLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        doc = ls.documents.get(params.text_document.uri)
        if doc is None:
            return
        for change in params.content_changes:
            doc.apply(change)
        doc.version = params.text_document.version
        ls.publisher.schedule(doc)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: ProfregLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
        doc = ls.documents.pop(params.text_document.uri, None)
        if doc is not None:
            ls.publisher.cancel(doc)
        ls.publisher.clear(params.text_document.uri)

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=COMPLETION_TRIGGERS, resolve_provider=False),
    )
    @_guarded
    def on_completion(ls: ProfregLanguageServer, params: types.CompletionParams):
        doc = ls.document(params.text_document.uri)
        return completion.complete(doc, params.position) if doc else None

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    @_guarded
    def on_hover(ls: ProfregLanguageServer, params: types.HoverParams):
        doc = ls.document(params.text_document.uri)
        return hover.hover(doc, params.position) if doc else None

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    @_guarded
    def on_definition(ls: ProfregLanguageServer, params: types.DefinitionParams):
        doc = ls.document(params.text_document.uri)
        return navigation.definition(doc, params.position) if doc else None

    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    @_guarded
    def on_references(ls: ProfregLanguageServer, params: types.ReferenceParams):
        doc = ls.document(params.text_document.uri)
        if doc is None:
            return None
        return navigation.references(doc, params.position, params.context.include_declaration)

    @server.feature(types.TEXT_DOCUMENT_PREPARE_RENAME)
    @_guarded
    def on_prepare_rename(ls: ProfregLanguageServer, params: types.PrepareRenameParams):
        doc = ls.document(params.text_document.uri)
        return navigation.prepare_rename(doc, params.position) if doc else None

    @server.feature(types.TEXT_DOCUMENT_RENAME, types.RenameOptions(prepare_provider=True))
    @_guarded
    def on_rename(ls: ProfregLanguageServer, params: types.RenameParams):
        doc = ls.document(params.text_document.uri)
        return navigation.rename(doc, params.position, params.new_name) if doc else None

    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    @_guarded
    def on_symbols(ls: ProfregLanguageServer, params: types.DocumentSymbolParams):
        doc = ls.document(params.text_document.uri)
        return symbols.document_symbols(doc) if doc else None

    # Features that only read the document: (method, options, handler name, answer).
    for method, options, name, answer in (
        (types.TEXT_DOCUMENT_DOCUMENT_HIGHLIGHT, None, "on_highlight",
         lambda doc, params: highlights.document_highlights(doc, params.position)),
        (types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False), "on_code_lens",
         lambda doc, params: code_lens.code_lenses(doc)),
    ):
        server.feature(method, options)(_guarded(_document_feature(name, answer)))

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
    )
    @_guarded
    def on_code_action(ls: ProfregLanguageServer, params: types.CodeActionParams):
        doc = ls.document(params.text_document.uri)
        return code_actions.code_actions(doc, params) if doc else None

    return server
