"""A large document opened in the real server with its first reading shared with a forked
child (`PROFREG_LSP_FORK=always`, so the child runs however busy the machine is): the server
publishes exactly what `profreg validate --format json` reports, on open and after edits."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from lsp_helpers import change_document, expected_for, open_document, published

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from shapes import registry  # noqa: E402

pytestmark = pytest.mark.asyncio(loop_scope="module")

SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "profreg_lsp"],
                            server_env={**os.environ, "PROFREG_LSP_FORK": "always"})


@pytest_lsp.fixture(scope="module", config=SERVER)
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), initialization_options={"debounce_ms": 0}))
    yield
    await lsp_client.shutdown_session()


@pytest.mark.parametrize("form,state,style", [
    ("single", "profile-slug-mismatch", "block"),
    ("single", "schema-type", "shared"),
    ("bundle", "default-profile-required", "shared"),
    ("bundle", "duplicate-key", "block"),
])
async def test_a_large_open_shared_with_a_child_publishes_the_engine_s_diagnostics(client, tmp_path, form, state,
                                                                                    style):
    n = 1200 if form == "single" else 3300  # each profiles: mapping past the server's 1,000 blocks
    text = registry(n, form, state, style).text
    uri = (tmp_path / f"{form}-{state}-{style}.yaml").as_uri()
    assert published(await open_document(client, uri, text)) == expected_for(text)
    # then a profile near the end (read by the child) edited: the blocks it read are reused
    lines = text.split("\n")
    at = next(i for i in range(len(lines) - 1, 0, -1) if lines[i].strip().startswith("display_name:"))
    edited = lines[at].replace("display_name:", "display_name: [") + "\n"
    lines[at] = edited.rstrip("\n")
    changed = "\n".join(lines)
    got = await change_document(client, uri, [types.TextDocumentContentChangeWholeDocument(text=changed)])
    assert published(got) == expected_for(changed)
    assert any(d["code"] == "yaml-syntax" for d in published(got)) or published(got) != expected_for(text)
