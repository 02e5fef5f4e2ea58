"""Helpers for the language-server tests: documents over LSP, expected diagnostics."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from profreg_lsp.documents import Document

# Hand-written registries share pieces with anchors: across profiles, through merge keys,
# an alias where a profile goes, and `&`/`*` inside text that are not anchors or aliases.
SHARED = """slug: default
default_profile_slug: agent
profiles:
  agent:
    description: R&D agent
    runtime:
      middlewares: &std
        - name: logging
          config: &logcfg {level: info}
      tools: &tools [search, shell]
    policy: &policy {allow_overrides: true, allowed_override_keys: [tools]}
  helper:
    runtime:
      middlewares: *std
      tools: *tools
    policy:
      <<: *policy
      read_only: true
  twin: *std
  coder:
    runtime:
      middlewares:
        - name: retry
          config: *logcfg
    metadata: {tags: [a*b]}
  reviewer:
    description: Tom &Jerry *not an alias
    runtime: {tools: &py [python]}
  auditor:
    runtime: {tools: *py}
"""

PUBLISH = types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS
_versions: dict[str, int] = {}


async def wait_diagnostics(client: LanguageClient, uri: str, version: int | None, timeout: float = 60):
    """The next diagnostics published for `uri` (at `version`, when given)."""
    while True:
        params = await asyncio.wait_for(client.wait_for_notification(PUBLISH), timeout)
        if params.uri == uri and (version is None or params.version == version):
            return list(params.diagnostics)


async def open_document(client: LanguageClient, uri: str, text: str) -> list[types.Diagnostic]:
    _versions[uri] = 1
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=text)
        )
    )
    return await wait_diagnostics(client, uri, 1)


async def change_document(client: LanguageClient, uri: str, changes: list, wait: bool = True):
    _versions[uri] = _versions.get(uri, 1) + 1
    version = _versions[uri]
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=changes,
        )
    )
    if wait:
        return await wait_diagnostics(client, uri, version)
    return None


async def replace_text(client: LanguageClient, uri: str, text: str) -> list[types.Diagnostic]:
    return await change_document(client, uri, [types.TextDocumentContentChangeWholeDocument(text=text)])


async def close_document(client: LanguageClient, uri: str) -> list[types.Diagnostic]:
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    return await wait_diagnostics(client, uri, None)


def expected_lsp(text: str, cli_diagnostics: list[dict]) -> list[dict]:
    """`validate --format json` entries as the server must publish them (0-based, UTF-16)."""
    doc = Document("x", text)
    out = []
    for d in cli_diagnostics:
        start = doc.position(d["line"] - 1, d["column"] - 1)
        end = doc.position(d["end_line"] - 1, d["end_column"] - 1)
        out.append(
            {
                "code": d["code"],
                "severity": {"error": 1, "warning": 2, "info": 3}[d["severity"]],
                "message": d["message"],
                "field": d["field"],
                "pointer": d["pointer"],
                "keyword": d.get("keyword"),
                "range": [start.line, start.character, end.line, end.character],
            }
        )
    return out


def published(diagnostics: list[types.Diagnostic]) -> list[dict]:
    out = []
    for d in diagnostics:
        data = d.data or {}
        out.append(
            {
                "code": d.code,
                "severity": int(d.severity),
                "message": d.message,
                "field": data.get("field"),
                "pointer": data.get("pointer"),
                "keyword": data.get("keyword"),
                "range": [d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character],
            }
        )
    return out


def engine_json(text: str) -> list[dict]:
    """What `profreg validate --format json` reports for a text: the same engine call."""
    from profreg.engine import validate_text

    return [d.to_json() for d in validate_text(text).diagnostics]


def apply_edits(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP text edits (UTF-16 positions) to a text, last first."""
    doc = Document("x", text)
    spans = sorted(((doc.offset_at(e.range.start), doc.offset_at(e.range.end), e.new_text) for e in edits),
                   reverse=True)
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


def load_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def published_as_dicts(diagnostics: list[dict]) -> list[dict]:
    """Raw publishDiagnostics entries (a plain JSON-RPC client) in `expected_lsp` form."""
    out = []
    for d in diagnostics:
        r = d["range"]
        data = d.get("data") or {}
        out.append({
            "code": d["code"], "severity": d["severity"], "message": d["message"],
            "field": data.get("field"), "pointer": data.get("pointer"), "keyword": data.get("keyword"),
            "range": [r["start"]["line"], r["start"]["character"], r["end"]["line"], r["end"]["character"]],
        })
    return out


def expected_for(text: str) -> list[dict]:
    """What the server must publish for a text: the engine's report, or nothing for non-registry YAML."""
    from profreg.engine.detection import looks_like_registry
    from profreg.engine.reader import parse

    if not looks_like_registry(parse(text)):
        return []
    return expected_lsp(text, engine_json(text))
