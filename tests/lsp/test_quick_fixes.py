"""Every quick fix applied through a real client: afterwards its diagnostic is gone.

Each case opens a document, asks for the code actions on one diagnostic, applies the one
with the given title and checks that the diagnostic (that code at that place) is not
published any more, and that the server's diagnostics still equal the engine's.
"""
from __future__ import annotations

import pytest
from lsprotocol import types

from lsp_helpers import apply_edits, engine_json, open_document, replace_text
from tests.conftest import CONFORMANCE

pytestmark = pytest.mark.asyncio(loop_scope="module")


def corpus(name: str) -> str:
    return (CONFORMANCE / "validate" / f"{name}.yaml").read_text(encoding="utf-8")


EMPTY_DEFAULT = "slug: a\ndefault_profile_slug: \"\"\nprofiles:\n  first: {}\n  second: {}\n"
BLOCK_TOOLS = "slug: a\ndefault_profile_slug: p\nprofiles:\n  p:\n    runtime:\n      tools:\n        - search\n        - \"\"\n"
NO_PROFILE_YET = "slug: a\ndefault_profile_slug: main\nprofiles:\n  other:\n    display_name: Other\n"

# (document, diagnostic code, which of them (index), title of the action, the text after)
CASES = [
    ("schema-unknown-key", corpus("schema-unknown-key"), "schema", 0, "Rename 'sytem_prompt' to 'system_prompt'", None),
    ("schema-unknown-remove", corpus("schema-unknown-key"), "schema", 0, "Remove 'sytem_prompt'", None),
    ("default-unknown-pick", corpus("default-profile-unknown"), "default-profile-unknown", 0,
     "Set default_profile_slug to 'agent'", None),
    ("default-unknown-create", corpus("default-profile-unknown"), "default-profile-unknown", 0,
     "Create profile 'ghost'", "slug: default\ndefault_profile_slug: ghost\nprofiles:\n  agent: {}\n  ghost: {}\n"),
    ("default-create-after-block", NO_PROFILE_YET, "default-profile-unknown", 0, "Create profile 'main'",
     NO_PROFILE_YET + "  main: {}\n"),
    ("default-empty-second", EMPTY_DEFAULT, "default-profile-required", 0, "Set default_profile_slug to 'second'",
     EMPTY_DEFAULT.replace('""', "second")),
    ("empty-middleware", corpus("empty-names"), "empty-name", 0, "Remove the middleware with the empty name", None),
    ("empty-tool-flow", corpus("empty-names"), "empty-name", 1, "Remove the empty tool name", None),
    ("empty-override-key", corpus("empty-names"), "empty-name", 2, "Remove the empty override key", None),
    ("empty-tool-block", BLOCK_TOOLS, "empty-name", 0, "Remove the empty tool name",
     BLOCK_TOOLS.replace('        - ""\n', "")),
    ("override-conflict", corpus("override-key-conflict"), "override-key-conflict", 0,
     "Remove 'tools' from denied_override_keys", None),
    ("duplicate-earlier", corpus("yaml-duplicate-key"), "yaml-duplicate-key", 0, "Remove the earlier 'agent'", None),
    ("duplicate-this", corpus("yaml-duplicate-key"), "yaml-duplicate-key", 0, "Remove this 'agent'", None),
]


@pytest.mark.parametrize("name, text, code, index, title, expected", CASES, ids=[c[0] for c in CASES])
async def test_quick_fix_is_applied_and_its_diagnostic_is_gone(client, uri_for, name, text, code, index, title,
                                                               expected):
    uri = uri_for(f"{name}.yaml")
    diagnostics = await open_document(client, uri, text)
    target = [d for d in diagnostics if d.code == code][index]
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=target.range,
        context=types.CodeActionContext(diagnostics=[target])))
    chosen = [a for a in actions or [] if a.title.startswith(title)]
    assert chosen, [a.title for a in actions or []]
    fixed = apply_edits(text, chosen[0].edit.changes[uri])
    if expected is not None:
        assert fixed == expected
    after = await replace_text(client, uri, fixed)
    assert not any(d.code == code and d.message == target.message for d in after), fixed
    assert [d["code"] for d in engine_json(fixed)] == [d.code for d in after]
    assert "yaml-syntax" not in {d.code for d in after}, fixed


async def test_legacy_convert_is_offered_anywhere_in_the_file(client, uri_for):
    uri = uri_for("legacy-anywhere-profiles.yaml")
    text = corpus("legacy-format")
    await open_document(client, uri, text)
    line = text.splitlines().index("    ai-api-type: openai")
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(line=line, character=4), end=types.Position(line=line, character=4)),
        context=types.CodeActionContext(diagnostics=[])))
    convert = [a for a in actions or [] if a.title.startswith("Convert to a registry document")]
    assert convert, [a.title for a in actions or []]
    after = await replace_text(client, uri, apply_edits(text, convert[0].edit.changes[uri]))
    assert "legacy-format" not in {d.code for d in after}
