"""Issue 13 item 6: a bad LSP frame is skipped; the server answers the next request."""
from __future__ import annotations

import pytest

from tests.stdio_server import SERVER, StdioLspClient, initialized_server


def _raw(client: StdioLspClient, data: bytes) -> None:
    with client._lock:
        client.proc.stdin.write(data)
        client.proc.stdin.flush()


BAD_FRAMES = {
    "length beyond any integer": b"Content-Length: 99999999999999999999\r\n\r\n{}",
    "length over the message limit": b"Content-Length: 4000000000\r\n\r\n{\"jsonrpc\": \"2.0\"}",
    "header line with no end": b"X-Junk: " + b"a" * 200_000,
    "huge length then a partial body": b"Content-Length: 123456789012\r\nContent-Type: x\r\n\r\n" + b"[" * 70_000,
    "body that is not JSON": b"Content-Length: 5\r\n\r\n{{{{{",
    "deeply nested body": b"Content-Length: 200000\r\n\r\n" + b"[" * 200_000,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with initialized_server(tmp_path_factory.mktemp("framing")) as client:
        yield client


@pytest.mark.parametrize("frame", sorted(BAD_FRAMES))
def test_a_bad_frame_is_skipped_and_the_next_request_is_answered(server, frame):
    _raw(server, BAD_FRAMES[frame])
    uri = (server.root / "doc.yaml").as_uri()
    result = server.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                   "position": {"line": 0, "character": 0}}, timeout=30)
    assert result is None  # answered (the document is not open)
    assert server.proc.poll() is None


def test_the_message_limit_is_configurable(tmp_path, monkeypatch):
    monkeypatch.setenv("PROFREG_LSP_MAX_MESSAGE_BYTES", "2000")
    client = StdioLspClient(SERVER)
    try:
        client.initialize(tmp_path.as_uri(), {"debounce_ms": 0})
        uri = (tmp_path / "big.yaml").as_uri()
        client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1,
                                                                "text": "slug: x\n" + "#" * 5000}})
        # the oversize didOpen was dropped: the document is unknown, and the server answers
        assert client.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}}, timeout=30) is None
        small = (tmp_path / "small.yaml").as_uri()
        client.notify("textDocument/didOpen", {"textDocument": {"uri": small, "languageId": "yaml", "version": 1,
                                                                "text": "slug: Bad\n"}})
        _, diagnostics = client.wait_diagnostics(small, 0, version=1)
        assert [d["code"] for d in diagnostics] == ["schema"]
    finally:
        client.close()
