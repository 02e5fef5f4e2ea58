"""Completion, hover, navigation, rename, symbols and quick fixes through a real client."""
from __future__ import annotations

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_helpers import apply_edits, engine_json, open_document, replace_text
from profreg.model import OVERRIDE_KEYS
from tests.conftest import CONFORMANCE

pytestmark = pytest.mark.asyncio(loop_scope="module")

REGISTRY = """slug: default
display_name: Demo
default_profile_slug: agent
profiles:
  agent:
    slug: agent
    display_name: Agent
    runtime:
      system_prompt: Be brief.
      tools: [search]
    policy:
      allow_overrides: true
      allowed_override_keys:
        - tools
  helper:
    display_name: Helper
"""


def pos(line: int, character: int) -> types.Position:
    return types.Position(line=line, character=character)


def doc_id(uri: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=uri)


async def complete(client: LanguageClient, uri: str, text: str, line: int, character: int) -> list[types.CompletionItem]:
    await replace_text(client, uri, text)
    result = await client.text_document_completion_async(
        types.CompletionParams(text_document=doc_id(uri), position=pos(line, character))
    )
    return list(result.items) if isinstance(result, types.CompletionList) else list(result or [])


def labels(items) -> set[str]:
    return {i.label for i in items}


def insert_line(text: str, after_line: int, new: str) -> str:
    lines = text.split("\n")
    lines.insert(after_line + 1, new)
    return "\n".join(lines)


async def test_completion_offers_missing_keys_with_descriptions(client, uri_for):
    uri = uri_for("reg.yaml")
    await open_document(client, uri, REGISTRY)
    # a new top-level line: the registry fields not yet written
    items = await complete(client, uri, REGISTRY + "\n", REGISTRY.count("\n"), 0)
    assert labels(items) == {"description", "metadata"}
    assert all(i.documentation and i.documentation.value for i in items)
    # inside profile `helper`: its fields but not display_name
    text = REGISTRY + "    "
    items = await complete(client, uri, text, text.count("\n"), 4)
    assert {"runtime", "policy", "slug", "description", "metadata"} <= labels(items)
    assert "display_name" not in labels(items)
    # inside runtime of `agent` (system_prompt and tools are present)
    text = insert_line(REGISTRY, 9, "      ")
    items = await complete(client, uri, text, 10, 6)
    assert labels(items) == {"middlewares", "step_settings_patch"}


async def test_completion_of_values(client, uri_for):
    uri = uri_for("values.yaml")
    await open_document(client, uri, REGISTRY)
    text = REGISTRY.replace("default_profile_slug: agent", "default_profile_slug: ")
    items = await complete(client, uri, text, 2, len("default_profile_slug: "))
    assert labels(items) == {"agent", "helper"}
    text = insert_line(REGISTRY, 11, "      read_only: ")
    items = await complete(client, uri, text, 12, len("      read_only: "))
    assert labels(items) == {"true", "false"}
    text = insert_line(REGISTRY, 13, "        - ")
    items = await complete(client, uri, text, 14, len("        - "))
    assert labels(items) == set(OVERRIDE_KEYS) - {"tools"}
    text = REGISTRY.replace("      tools: [search]", "      tools: [search]\n    policy2: x").replace(
        "      allowed_override_keys:\n        - tools", "      denied_override_keys: [tools, ")
    line = text.split("\n").index("      denied_override_keys: [tools, ")
    items = await complete(client, uri, text, line, len("      denied_override_keys: [tools, "))
    assert labels(items) == set(OVERRIDE_KEYS) - {"tools"}


async def test_completion_in_a_half_typed_document_and_profile_snippet(client, uri_for):
    uri = uri_for("half.yaml")
    broken = "slug: x\nprofiles:\n  a:\n    runtime:\n      sys\n  b: {oops\n"
    await open_document(client, uri, broken)
    items = await complete(client, uri, broken, 4, 9)
    assert "system_prompt" in labels(items)
    assert engine_json(broken)[0]["code"] == "yaml-syntax"  # it really does not parse
    text = REGISTRY + "  "
    items = await complete(client, uri, text, text.count("\n"), 2)
    snippet = [i for i in items if i.kind == types.CompletionItemKind.Snippet]
    assert [i.label for i in snippet] == ["new profile"]
    assert snippet[0].insert_text_format == types.InsertTextFormat.Snippet


async def test_hover_on_key_and_on_default_profile(client, uri_for):
    uri = uri_for("hover.yaml")
    await open_document(client, uri, REGISTRY)
    h = await client.text_document_hover_async(types.HoverParams(text_document=doc_id(uri), position=pos(9, 7)))
    assert "Tools" in h.contents.value and "Names of the tools" in h.contents.value
    h = await client.text_document_hover_async(types.HoverParams(text_document=doc_id(uri), position=pos(11, 8)))
    # closed by default (SPEC 2): the hover says so
    assert "Allow overrides" in h.contents.value and "default: `false`" in h.contents.value
    assert "no overrides are accepted" in h.contents.value
    h = await client.text_document_hover_async(types.HoverParams(text_document=doc_id(uri), position=pos(2, 24)))
    assert "Profile `agent`" in h.contents.value and "Agent" in h.contents.value and "`search`" in h.contents.value
    assert "no request overrides" not in h.contents.value
    # `helper` has no policy: its summary says it takes no request overrides
    h = await client.text_document_hover_async(types.HoverParams(text_document=doc_id(uri), position=pos(14, 4)))
    assert "Profile `helper`" in h.contents.value and "no request overrides" in h.contents.value


async def test_definition_references_and_rename(client, uri_for):
    uri = uri_for("nav.yaml")
    await open_document(client, uri, REGISTRY)
    at_default = pos(2, 24)
    found = await client.text_document_definition_async(
        types.DefinitionParams(text_document=doc_id(uri), position=at_default))
    assert [(loc.range.start.line, loc.range.start.character) for loc in found] == [(4, 2)]
    refs = await client.text_document_references_async(types.ReferenceParams(
        text_document=doc_id(uri), position=pos(4, 3), context=types.ReferenceContext(include_declaration=True)))
    assert sorted((r.range.start.line, r.range.start.character) for r in refs) == [(2, 22), (4, 2), (5, 10)]
    prepared = await client.text_document_prepare_rename_async(
        types.PrepareRenameParams(text_document=doc_id(uri), position=at_default))
    assert prepared.placeholder == "agent" and prepared.range.start == pos(2, 22)
    edit = await client.text_document_rename_async(
        types.RenameParams(text_document=doc_id(uri), position=pos(5, 12), new_name="assistant"))
    renamed = apply_edits(REGISTRY, edit.changes[uri])
    assert "default_profile_slug: assistant" in renamed and "  assistant:\n    slug: assistant" in renamed
    assert "agent" not in renamed.replace("Agent", "")
    assert engine_json(renamed) == []
    with pytest.raises(Exception, match="not a valid profile slug"):
        await client.text_document_rename_async(
            types.RenameParams(text_document=doc_id(uri), position=at_default, new_name="Bad Name"))
    with pytest.raises(Exception, match="already has a profile"):
        await client.text_document_rename_async(
            types.RenameParams(text_document=doc_id(uri), position=at_default, new_name="helper"))


async def test_document_symbols(client, uri_for):
    uri = uri_for("symbols.yaml")
    await open_document(client, uri, REGISTRY)
    symbols = await client.text_document_document_symbol_async(types.DocumentSymbolParams(text_document=doc_id(uri)))
    assert [(s.name, [c.name for c in s.children]) for s in symbols] == [("default", ["agent", "helper"])]
    bundle = (CONFORMANCE / "validate" / "valid-bundle.yaml").read_text(encoding="utf-8")
    await replace_text(client, uri, bundle)
    symbols = await client.text_document_document_symbol_async(types.DocumentSymbolParams(text_document=doc_id(uri)))
    assert [(s.name, [c.name for c in s.children]) for s in symbols] == [
        ("default", ["default"]), ("team", ["coder", "planner"])]


@pytest.mark.parametrize(
    "case, code",
    [
        ("profile-slug-mismatch", "profile-slug-mismatch"),
        ("default-profile-required", "default-profile-required"),
        ("default-profile-unknown", "default-profile-unknown"),
        ("legacy-format", "legacy-format"),
    ],
)
async def test_quick_fix_removes_its_diagnostic(client, uri_for, case, code):
    uri = uri_for(f"fix-{case}.yaml")
    text = (CONFORMANCE / "validate" / f"{case}.yaml").read_text(encoding="utf-8")
    diagnostics = await open_document(client, uri, text)
    target = [d for d in diagnostics if d.code == code]
    assert target, diagnostics
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=doc_id(uri), range=target[0].range,
        context=types.CodeActionContext(diagnostics=target)))
    assert actions, f"no quick fix for {code}"
    preferred = [a for a in actions if a.is_preferred] or actions
    fixed = apply_edits(text, preferred[0].edit.changes[uri])
    after = await replace_text(client, uri, fixed)
    assert code not in {d.code for d in after}, fixed
    assert [d["code"] for d in engine_json(fixed)] == [d.code for d in after]


async def test_quick_fix_writes_a_missing_default(client, uri_for):
    uri = uri_for("fix-missing-default.yaml")
    text = "slug: default\nprofiles:\n  b: {}\n  a: {}\n"
    diagnostics = await open_document(client, uri, text)
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=doc_id(uri), range=diagnostics[0].range,
        context=types.CodeActionContext(diagnostics=diagnostics)))
    fixed = apply_edits(text, actions[0].edit.changes[uri])
    assert fixed == "slug: default\ndefault_profile_slug: b\nprofiles:\n  b: {}\n  a: {}\n"
    assert await replace_text(client, uri, fixed) == []


@pytest.mark.parametrize(
    "name, text",
    [
        ("ci.yml", "name: CI\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make\n"),
        ("compose.yaml", "version: '3.8'\nservices:\n  web:\n    image: nginx\n    ports: ['80:80']\n"),
        # legacy-shaped (name -> name -> mapping), but plainly Compose / GitHub Actions files
        ("docker-compose.yml", "services:\n  web:\n    image: nginx\n  db:\n    build:\n      context: .\n"),
        ("build.yml", "on:\n  push:\n    branches: [main]\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
                      "    steps:\n      - run: make\n"),
        ("empty.yaml", ""),
        ("broken-workflow.yml", "name: CI\njobs: [\n"),
    ],
)
async def test_other_yaml_gets_no_diagnostics(client, uri_for, name, text):
    assert await open_document(client, uri_for(name), text) == []


async def test_unparseable_registry_still_gets_the_syntax_error(client, uri_for):
    text = "slug: default\nprofiles:\n  a: {oops\n"
    got = await open_document(client, uri_for("broken.yaml"), text)
    assert [d.code for d in got] == [d["code"] for d in engine_json(text)] == ["yaml-syntax"]


async def test_utf16_columns(client, uri_for):
    text = "slug: default\ndisplay_name: 😀😀\ndefault_profile_slug: Agent\nprofiles:\n  a: {description: 😀, slug: B}\n"
    got = await open_document(client, uri_for("emoji.yaml"), text)
    slug = [d for d in got if d.data["pointer"] == "/profiles/a/slug"][0]
    # `  a: {description: 😀, slug: ` is 28 code points and 29 UTF-16 units
    assert slug.range.start == pos(4, 29)
