"""Every conformance/validate case through the language server equals `profreg validate`."""
from __future__ import annotations

import json

import pytest
from pytest_lsp import LanguageClient

from lsp_helpers import close_document, expected_lsp, open_document, published
from tests.conftest import CONFORMANCE, VALIDATE_CASES, run_cli

# Documents that do not look like a registry get no diagnostics (conformance README).
NOT_A_REGISTRY = {"empty-document"}



@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("name", VALIDATE_CASES)
async def test_published_diagnostics_equal_validate_json(client: LanguageClient, conformance_dir, name):
    path = conformance_dir / "validate" / f"{name}.yaml"
    text = path.read_bytes().decode("utf-8-sig")
    result = run_cli("validate", str(path), "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    (entry,) = json.loads(result.stdout)["files"]
    uri = path.as_uri()
    got = published(await open_document(client, uri, text))
    if name in NOT_A_REGISTRY:
        assert got == []
    else:
        assert got == expected_lsp(text, entry["diagnostics"])
        expect = json.loads((conformance_dir / "validate" / f"{name}.expect.json").read_text())
        assert sum(1 for d in got if d["severity"] == 1) == expect["errors"]
    assert await close_document(client, uri) == []


def test_corpus_is_there():
    assert len(VALIDATE_CASES) >= 20 and (CONFORMANCE / "validate").is_dir()
