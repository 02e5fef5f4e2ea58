"""The server never dies: random edit sequences, garbage and huge pastes, bad requests.

After each random sequence the server must still answer, and its final diagnostics must
equal what `profreg validate` reports for the final text (none for non-registry YAML).
"""
from __future__ import annotations

import itertools
import re
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from lsp_helpers import SHARED, expected_for, published_as_dicts
from tests.conftest import CONFORMANCE, profreg_executable
from tests.stdio_server import SERVER, StdioLspClient, initialized_server

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from generate import document  # noqa: E402
_BREAK = re.compile(r"\r\n|\r|\n")
_uris = itertools.count()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with initialized_server(tmp_path_factory.mktemp("lsp-robust")) as client:
        yield client


def lsp_position(text: str, offset: int) -> dict:
    """An LSP position (UTF-16) for a code-point offset, computed independently of the server."""
    starts = [0] + [m.end() for m in _BREAK.finditer(text)]
    line = max(i for i, s in enumerate(starts) if s <= offset)
    prefix = text[starts[line]:offset]
    return {"line": line, "character": len(prefix.encode("utf-16-le")) // 2}


def safe_offset(text: str, offset: int) -> int:
    """Positions cannot point between \\r and \\n: move such an offset after the pair."""
    if 0 < offset < len(text) and text[offset - 1] == "\r" and text[offset] == "\n":
        return offset + 1
    return offset


BASES = [document(5), SHARED, (CONFORMANCE / "validate" / "several-problems.yaml").read_text(encoding="utf-8"),
         "slug: default\nprofiles:\n  a: {}\n", "name: CI\non: push\n", ""]
PASTES = [document(300), "x" * 100_000, "\n".join(f"  p{i}:\n    slug: p{i}" for i in range(2000))]
FRAGMENTS = ["\n", "  ", ": ", "- ", "{", "[", "'", '"', "&a ", "*a", "\t", "\r\n", "\r", "\u2028", "😀",
             "---\n", "\x00", "\x1b[31m", "\ufeff", "profiles:\n  ", "default_profile_slug: x\n"]


def edit_steps():
    text = st.sampled_from(FRAGMENTS) | st.text(max_size=30) | st.sampled_from(PASTES)
    insert = st.tuples(st.just("insert"), st.floats(0, 1), text)
    delete = st.tuples(st.just("delete"), st.floats(0, 1), st.integers(1, 200))
    replace = st.tuples(st.just("replace"), st.floats(0, 1), st.tuples(st.integers(1, 50), text))
    return st.lists(insert | delete | replace, min_size=1, max_size=15)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                                  HealthCheck.function_scoped_fixture])
@given(base=st.sampled_from(BASES), steps=edit_steps())
def test_random_edits_leave_a_live_server_with_exact_diagnostics(server, base, steps):
    uri = (server.root / f"doc-{next(_uris)}.yaml").as_uri()
    before = server.diagnostics_count(uri)
    server.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1,
                                                            "text": base}})
    text, version = base, 1
    for kind, where, arg in steps:
        start = safe_offset(text, int(where * len(text)))
        if kind == "insert":
            end, new = start, arg
        elif kind == "delete":
            end, new = safe_offset(text, min(len(text), start + arg)), ""
        else:
            end, new = safe_offset(text, min(len(text), start + arg[0])), arg[1]
        change = {"range": {"start": lsp_position(text, start), "end": lsp_position(text, end)}, "text": new}
        text = text[:start] + new + text[end:]
        version += 1
        server.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                                 "contentChanges": [change]})
    _, diagnostics = server.wait_diagnostics(uri, before, timeout=120, version=version)
    assert published_as_dicts(diagnostics) == expected_for(text)
    # still answering requests at arbitrary places
    for line, character in ((0, 0), (text.count("\n") // 2, 3), (10_000, 10_000)):
        position = {"line": line, "character": character}
        server.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": position}, timeout=60)
        server.request("textDocument/completion", {"textDocument": {"uri": uri}, "position": position}, timeout=60)
    server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})


FAULTY_SERVER = """
import profreg_lsp.completion as completion
real = completion.complete
def complete(doc, position):
    if position.line == 999:
        raise RuntimeError("injected failure")
    return real(doc, position)
completion.complete = complete
from profreg_lsp.launch import main
main()
"""


def test_a_failing_handler_is_logged_and_answered_with_an_error_and_the_next_works(tmp_path):
    script = tmp_path / "faulty_server.py"
    script.write_text(FAULTY_SERVER)
    log = (tmp_path / "stderr.log").open("wb")
    client = StdioLspClient([sys.executable, str(script)], stderr=log)
    try:
        client.initialize(tmp_path.as_uri(), {"debounce_ms": 0})
        uri = (tmp_path / "r.yaml").as_uri()
        client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1,
                                                                "text": "slug: default\n"}})
        client.wait_diagnostics(uri, 0, version=1)
        with pytest.raises(RuntimeError, match="injected failure"):
            client.request("textDocument/completion", {"textDocument": {"uri": uri},
                                                       "position": {"line": 999, "character": 0}})
        result = client.request("textDocument/completion", {"textDocument": {"uri": uri},
                                                            "position": {"line": 1, "character": 0}})
        assert "profiles" in {item["label"] for item in result["items"]}
        # unreadable parameters are answered with an error too, and the server goes on
        with pytest.raises(RuntimeError, match="invalid parameters"):
            client.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": "nowhere"})
        hover = client.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                      "position": {"line": 0, "character": 1}})
        assert "Registry slug" in hover["contents"]["value"]
        # requests for documents that were never opened are answered, not failed
        assert client.request("textDocument/completion", {"textDocument": {"uri": uri + "x"},
                                                          "position": {"line": 0, "character": 0}}) is None
    finally:
        client.close()
        log.close()
    assert client.proc.returncode == 0
    assert "injected failure" in (tmp_path / "stderr.log").read_text()


def _lsp_script() -> list[str]:
    script = Path(sys.executable).with_name("profreg-lsp")
    assert script.exists(), "the profreg-lsp console script is installed with the package"
    return [str(script)]


@pytest.mark.parametrize("command", ["profreg lsp --stdio", "profreg-lsp --stdio", "python -m profreg_lsp"])
def test_every_entry_point_speaks_lsp_on_stdio(tmp_path, command):
    argv = {
        "profreg lsp --stdio": lambda: [*profreg_executable(), "lsp", "--stdio"],
        "profreg-lsp --stdio": lambda: [*_lsp_script(), "--stdio"],
        "python -m profreg_lsp": lambda: SERVER,
    }[command]()
    client = StdioLspClient(argv)
    try:
        result = client.initialize(tmp_path.as_uri())
        caps = result["capabilities"]
        assert caps["textDocumentSync"]["change"] == 2  # incremental
        assert caps["completionProvider"] and caps["hoverProvider"] and caps["renameProvider"]
        assert caps["definitionProvider"] and caps["referencesProvider"] and caps["documentSymbolProvider"]
        assert caps["codeActionProvider"]
    finally:
        client.close()
    assert client.proc.returncode == 0


@pytest.mark.parametrize("encoding, column", [("utf-32", 28), ("utf-8", 31), ("utf-16", 29)])
def test_positions_follow_the_negotiated_encoding(tmp_path, encoding, column):
    client = StdioLspClient(SERVER)
    try:
        client.request("initialize", {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {
            "general": {"positionEncodings": [encoding]}}, "initializationOptions": {"debounce_ms": 0}})
        client.notify("initialized", {})
        uri = (tmp_path / "enc.yaml").as_uri()
        text = "slug: default\nprofiles:\n  a: {description: 😀, slug: B}\ndefault_profile_slug: a\n"
        client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1,
                                                                "text": text}})
        _, diagnostics = client.wait_diagnostics(uri, 0, version=1)
        (slug,) = [d for d in diagnostics if d["data"]["pointer"] == "/profiles/a/slug"]
        # `  a: {description: 😀, slug: ` is 28 code points, 29 UTF-16 units, 31 UTF-8 bytes
        assert slug["range"]["start"] == {"line": 2, "character": column}
    finally:
        client.close()


def test_a_burst_of_edits_is_validated_once(tmp_path):
    """Typing fast does not queue one validation per keystroke: the last version wins."""
    client = StdioLspClient(SERVER)
    try:
        client.initialize(tmp_path.as_uri(), {"debounce_ms": 300})
        uri = (tmp_path / "burst.yaml").as_uri()
        text = "slug: default\nprofiles:\n  a: {}\ndefault_profile_slug: "
        client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1,
                                                                "text": text}})
        client.wait_diagnostics(uri, 0, version=1)
        end = {"line": 3, "character": len("default_profile_slug: ")}
        for version, ch in enumerate("abcdefgh", start=2):
            client.notify("textDocument/didChange", {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"range": {"start": end, "end": end}, "text": ch}]})
            end = {"line": 3, "character": end["character"] + 1}
            text += ch
        _, diagnostics = client.wait_diagnostics(uri, 1, version=9)
        assert published_as_dicts(diagnostics) == expected_for(text)
        assert [d["code"] for d in diagnostics] == ["default-profile-unknown"]
        assert [v for _, v, _ in client.diagnostics[uri]] == [1, 9]
    finally:
        client.close()
