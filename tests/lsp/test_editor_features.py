"""Highlights, code lenses, hover on values, resolved settings, slug completion details."""
from __future__ import annotations

import pytest
from lsprotocol import types

from lsp_helpers import open_document

pytestmark = pytest.mark.asyncio(loop_scope="module")

REGISTRY = """slug: team
default_profile_slug: agent
profiles:
  agent:
    slug: agent
    display_name: Agent
    description: Helps with the agent work.
    runtime:
      system_prompt: Be brief.
      middlewares:
        - name: logging
          config: {level: info}
      tools: [search, shell]
      step_settings_patch:
        ai-chat:
          ai-engine: gpt-4o-mini
          openai-api-key: sk-not-for-your-eyes
    policy:
      allow_overrides: true
  helper:
    display_name: Helper
    runtime:
      tools:
        - search
"""
LINES = REGISTRY.splitlines()


def at(line_text: str, word: str, offset: int = 0) -> types.Position:
    line = LINES.index(line_text)
    return types.Position(line=line, character=LINES[line].index(word) + offset)


def doc_id(uri: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=uri)


async def open_registry(client, uri_for) -> str:
    uri = uri_for("features-profiles.yaml")
    await open_document(client, uri, REGISTRY)
    return uri


async def hover_text(client, uri, position) -> str:
    got = await client.text_document_hover_async(types.HoverParams(text_document=doc_id(uri), position=position))
    return got.contents.value if got is not None else ""


async def test_document_highlight_marks_the_slug_where_it_is_written(client, uri_for):
    registry = await open_registry(client, uri_for)
    got = await client.text_document_document_highlight_async(types.DocumentHighlightParams(
        text_document=doc_id(registry), position=at("default_profile_slug: agent", "agent", 1)))
    spots = sorted((h.range.start.line, h.range.start.character, h.kind) for h in got)
    assert spots == [
        (1, 22, types.DocumentHighlightKind.Read),  # default_profile_slug
        (3, 2, types.DocumentHighlightKind.Write),  # the key
        (4, 10, types.DocumentHighlightKind.Read),  # its slug
    ]  # and not the "agent" inside the description
    assert await client.text_document_document_highlight_async(types.DocumentHighlightParams(
        text_document=doc_id(registry), position=at("    description: Helps with the agent work.", "agent"))) is None


async def test_code_lens_per_profile(client, uri_for):
    registry = await open_registry(client, uri_for)
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(text_document=doc_id(registry)))
    by_line = {}
    for lens in lenses:
        by_line.setdefault(lens.range.start.line, []).append(lens.command.title)
    assert by_line == {LINES.index("  agent:"): ["default", "2 references"], LINES.index("  helper:"): ["0 references"]}


async def test_hover_on_a_tool_a_middleware_and_a_boolean(client, uri_for):
    registry = await open_registry(client, uri_for)
    tool = await hover_text(client, registry, at("      tools: [search, shell]", "search", 2))
    assert tool.startswith("**Tool `search`**") and "Used by 2 profiles of this registry: `agent`, `helper`" in tool
    block_tool = await hover_text(client, registry, at("        - search", "search"))
    assert block_tool.startswith("**Tool `search`**")
    middleware = await hover_text(client, registry, at("        - name: logging", "logging"))
    assert middleware.startswith("**Middleware `logging`**") and "`agent`" in middleware
    assert '{"level": "info"}' in middleware
    boolean = await hover_text(client, registry, at("      allow_overrides: true", "true"))
    assert boolean.startswith("**Allow overrides**: `true`")
    assert "default: `false` (this value differs from it)" in boolean


async def test_hover_on_a_profile_key_shows_its_resolved_settings_masked(client, uri_for):
    registry = await open_registry(client, uri_for)
    text = await hover_text(client, registry, at("  agent:", "agent"))
    assert "**Resolved** (as `profreg resolve team/agent`)" in text
    assert '"ai-engine": "gpt-4o-mini"' in text and '"openai-api-key": "***"' in text
    assert "sk-not-for-your-eyes" not in text
    assert "fingerprint `sha256:" in text


async def test_hover_on_an_invalid_profile_says_it_cannot_resolve(client, uri_for):
    uri = uri_for("invalid-runtime-profiles.yaml")
    text = "slug: team\ndefault_profile_slug: agent\nprofiles:\n  agent:\n    slug: agent\n    runtime: just a string\n"
    await open_document(client, uri, text)
    got = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=3, character=3)))
    assert "cannot resolve: the profile has problems" in got.contents.value
    assert "fingerprint" not in got.contents.value


async def test_slug_completion_items_carry_the_profile_names(client, uri_for):
    uri = uri_for("slugs-profiles.yaml")
    text = REGISTRY.replace("default_profile_slug: agent", "default_profile_slug: ")
    await open_document(client, uri, text)
    got = await client.text_document_completion_async(types.CompletionParams(
        text_document=doc_id(uri), position=types.Position(line=1, character=len("default_profile_slug: "))))
    items = {i.label: i for i in got.items}
    assert items["agent"].detail == "Agent" and items["agent"].documentation.value == "Helps with the agent work."
    assert items["helper"].detail == "Helper"
    for item in got.items:  # after the trailing space: an empty range at the cursor
        rng = item.text_edit.range
        assert (rng.start.line, rng.start.character, rng.end.character) == (1, 22, 22)


async def test_a_key_typed_without_its_colon_is_reported_on_its_own_line(client, uri_for):
    uri = uri_for("colon-profiles.yaml")
    text = "slug: a\ndefault_profile_slug: p\nprofiles:\n  p:\n    display_name\n    runtime: {}\n"
    diagnostics = await open_document(client, uri, text)
    assert [(d.code, d.range.start.line, d.range.start.character, d.range.end.character) for d in diagnostics] == [
        ("yaml-syntax", 4, 4, 16)]
    assert "'display_name' has no ':'" in diagnostics[0].message
