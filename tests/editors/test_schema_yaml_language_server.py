"""The profreg JSON Schema reused by yaml-language-server through a modeline.

A user who only has yaml-language-server (Red Hat's YAML extension, coc-yaml, …) points
`# yaml-language-server: $schema=` at schema/profile-registry.schema.json. Every
schema-level error of the corpus must then be reported by yaml-language-server at the
same place, and a valid registry must get no error.
"""
from __future__ import annotations

import asyncio
import json
import time

import pytest
from lsprotocol import types
from pygls.lsp.client import LanguageClient

from profreg_lsp import schema_nav
from profreg_lsp.documents import Document
from profreg_lsp.yamlcontext import Lines, container_path, shape
from tests.conftest import CONFORMANCE, ROOT, VALIDATE_CASES

YAML_LS = ROOT / "tests" / "node" / "node_modules" / ".bin" / "yaml-language-server"
SCHEMA = ROOT / "schema" / "profile-registry.schema.json"
MODELINE = f"# yaml-language-server: $schema={SCHEMA.as_uri()}\n"
SETTINGS = {
    "yaml": {
        "validate": True,
        "yamlVersion": "1.2",
        "schemaStore": {"enable": False},  # no network: only the modeline's schema
        "schemas": {},
    }
}


def _expect(case: str) -> dict:
    return json.loads((CONFORMANCE / "validate" / f"{case}.expect.json").read_text())


SCHEMA_CASES = [case for case in VALIDATE_CASES if any(d.get("code") == "schema" for d in _expect(case)["diagnostics"])]
VALID_CASES = [case for case in VALIDATE_CASES if _expect(case)["valid"] and case != "empty-document"]


async def _diagnostics_from_yaml_language_server(
    documents: dict[str, str], timeout: float = 60, hovers: dict[str, list[tuple[int, int]]] | None = None
) -> dict[str, list]:
    """Opens each document (uri -> text) in yaml-language-server; returns uri -> its diagnostics.

    `hovers` (uri -> positions): the hover text at each position is returned under
    ("hover", uri) as a list in the same order.
    """
    client = LanguageClient("profreg-tests", "1")
    published: dict[str, list] = {}

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: types.PublishDiagnosticsParams):
        published[params.uri] = params.diagnostics

    @client.feature(types.WORKSPACE_CONFIGURATION)
    def on_configuration(params: types.ConfigurationParams):
        return [SETTINGS.get(item.section or "") for item in params.items]

    await client.start_io(str(YAML_LS), "--stdio")
    try:
        await client.initialize_async(types.InitializeParams(
            process_id=None,
            root_uri=None,
            capabilities=types.ClientCapabilities(
                workspace=types.WorkspaceClientCapabilities(configuration=True),
                text_document=types.TextDocumentClientCapabilities(
                    hover=types.HoverClientCapabilities(content_format=[types.MarkupKind.Markdown])),
            ),
        ))
        client.initialized(types.InitializedParams())
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=SETTINGS))
        for uri, text in documents.items():
            client.text_document_did_open(types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=uri, language_id="yaml", version=1, text=text)))
        deadline = time.monotonic() + timeout
        while set(published) != set(documents) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # a later publish for the same document replaces the first
        assert set(published) == set(documents), f"no diagnostics published for {set(documents) - set(published)}"
        result: dict = dict(published)
        for uri, positions in (hovers or {}).items():
            texts = []
            for line, character in positions:
                got = await client.text_document_hover_async(types.HoverParams(
                    text_document=types.TextDocumentIdentifier(uri=uri),
                    position=types.Position(line=line, character=character)))
                texts.append(got.contents.value if got is not None and hasattr(got.contents, "value") else None)
            result[("hover", uri)] = texts
        return result
    finally:
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()


@pytest.fixture(scope="module")
def yaml_ls_results(tmp_path_factory) -> dict[str, list]:
    assert YAML_LS.exists(), "yaml-language-server missing: run scripts/setup.d/10-node-test-tools.sh"
    folder = tmp_path_factory.mktemp("yaml-ls")
    documents = {}
    for case in sorted(set(SCHEMA_CASES) | set(VALID_CASES)):
        path = folder / f"{case}.yaml"
        text = MODELINE + (CONFORMANCE / "validate" / f"{case}.yaml").read_text()
        path.write_text(text)
        documents[case] = (path.as_uri(), text)
    published = asyncio.run(_diagnostics_from_yaml_language_server(dict(documents.values())))
    return {case: published[uri] for case, (uri, _) in documents.items()}


def test_corpus_has_schema_cases():
    assert len(SCHEMA_CASES) >= 4 and VALID_CASES


@pytest.mark.parametrize("case", SCHEMA_CASES)
def test_yaml_language_server_reports_schema_errors(case, yaml_ls_results):
    errors = [d for d in yaml_ls_results[case] if d.severity == types.DiagnosticSeverity.Error]
    starts = {(d.range.start.line, d.range.start.character) for d in errors}
    report = "\n".join(f"{d.range.start.line}:{d.range.start.character} {d.message}" for d in errors)
    for diag in _expect(case)["diagnostics"]:
        if diag.get("code") != "schema":
            continue
        assert errors, f"{case}: yaml-language-server reported no error"
        if "line" in diag:
            # The modeline adds one line above the corpus text; LSP lines are 0-based.
            assert (diag["line"], diag["column"] - 1) in starts, f"{case}: {diag} not reported; got\n{report}"


@pytest.mark.parametrize("case", VALID_CASES)
def test_yaml_language_server_accepts_valid_registries(case, yaml_ls_results):
    errors = [d.message for d in yaml_ls_results[case] if d.severity == types.DiagnosticSeverity.Error]
    assert errors == [], f"{case}: {errors}"


HOVER_CASES = ["valid-single", "valid-bundle"]


def _schema_titles(text: str) -> list[tuple[int, int, str, str]]:
    """(line, column, key, title) for every key of a document whose schema node has a title."""
    doc = Document("file:///hover.yaml", text)
    lines = Lines(doc)
    bundle = "\nregistries:" in text
    found = []
    for number in range(doc.line_count):
        s = shape(doc.line(number))
        if s is None or s.key is None:
            continue
        parent = schema_nav.at_path(container_path(lines, number, s.key_col, s.dashes), bundle)
        node = schema_nav.child(parent, s.key) if parent is not None else None
        title = (node or {}).get("title")
        if title:
            found.append((number, s.key_col + 1, s.key, title))
    return found


@pytest.fixture(scope="module")
def yaml_ls_hovers(tmp_path_factory) -> dict[str, list]:
    assert YAML_LS.exists(), "yaml-language-server missing: run scripts/setup.d/10-node-test-tools.sh"
    folder = tmp_path_factory.mktemp("yaml-ls-hover")
    documents, positions, expected = {}, {}, {}
    for case in HOVER_CASES:
        text = MODELINE + (CONFORMANCE / "validate" / f"{case}.yaml").read_text()
        uri = (folder / f"{case}.yaml").as_uri()
        documents[uri] = text
        expected[case] = _schema_titles(text)
        positions[uri] = [(line, col) for line, col, _, _ in expected[case]]
    got = asyncio.run(_diagnostics_from_yaml_language_server(documents, hovers=positions))
    return {case: list(zip(expected[case], got[("hover", uri)])) for case, uri in zip(HOVER_CASES, documents)}


@pytest.mark.parametrize("case", HOVER_CASES)
def test_yaml_language_server_hover_shows_each_keys_own_title(case, yaml_ls_hovers):
    """The root `if`/`else` must not lend the legacy branch's title to registry keys."""
    pairs = yaml_ls_hovers[case]
    assert len(pairs) >= 5
    wrong = []
    for (line, _, key, title), hover in pairs:
        heading = (hover or "").split("\n", 1)[0]
        if heading != f"#### {title}":
            wrong.append(f"line {line} {key}: expected {title!r}, yaml-language-server shows {heading!r}")
        assert "Legacy document" not in (hover or ""), f"{key}: {hover}"
    assert wrong == [], "\n".join(wrong)
