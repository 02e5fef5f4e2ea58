"""The engine's API beyond the corpus: ranges for each kind of problem, field paths,
report-once rules, the store/profile entry points and the registry-file test."""
from __future__ import annotations

import pytest

from profreg.engine import validate_profile, validate_registry, validate_text
from profreg.engine.detection import detect_form, looks_like_registry
from profreg.engine.run import validate_document
from profreg.engine.reader import parse


def located(report, code):
    return [(d.pointer, d.field, d.span.start_line + 1, d.span.start_col + 1) for d in report.diagnostics if d.code == code]


# -- ranges -----------------------------------------------------------------------------
def test_missing_property_of_a_list_item_points_at_the_item():
    text = (
        "slug: a\ndefault_profile_slug: p\nprofiles:\n  p:\n    runtime:\n"
        "      middlewares:\n        - config: {level: info}\n          extra: 1\n"
    )
    report = validate_text(text)
    (d,) = [d for d in report.diagnostics if d.keyword == "required"]
    assert (d.pointer, d.field) == ("/profiles/p/runtime/middlewares/0", "registry.profiles[p].runtime.middlewares[0].name")
    # the first line of the item, not line 1 of the file
    assert (d.span.start_line, d.span.start_col, d.span.end_line) == (6, 10, 6)
    # the unknown key beside it is reported at the key
    assert located(report, "schema")[-1][0] == "/profiles/p/runtime/middlewares/0/extra"


def test_missing_property_at_the_root_is_line_1():
    report = validate_text("# a comment\ndisplay_name: X\n")
    (d,) = report.errors
    assert (d.keyword, d.pointer, d.field) == ("required", "", "registry.slug")
    assert (d.span.start_line, d.span.start_col) == (0, 0)


def test_missing_property_of_a_mapping_value_points_at_its_key():
    report = validate_text("registries:\n  team:\n    profiles:\n      p: {runtime: {middlewares: [{}]}}\n")
    d = next(d for d in report.diagnostics if d.keyword == "required")
    assert d.field == "registry.profiles[p].runtime.middlewares[0].name"
    assert d.span.start_line == 3


def test_not_allowed_key_points_at_the_key_and_wrong_value_at_the_value():
    report = validate_text("slug: a\nmetadata:\n  version: x\n  colour: red\n")
    assert located(report, "schema") == [
        ("/metadata/version", "registry.metadata.version", 3, 12),
        ("/metadata/colour", "registry.metadata.colour", 4, 3),
    ]


def test_empty_value_points_at_its_key():
    report = validate_text("slug: a\ndisplay_name:\n")
    assert located(report, "schema") == [("/display_name", "registry.display_name", 2, 1)]


def test_a_rejected_value_is_not_judged_again():
    # a pattern error on default_profile_slug is not also "unknown"; a non-string slug is
    # not also a mismatch; an error inside `tools` rejects the list and that item only,
    # so the blank item beside it is still an empty name
    text = (
        "slug: a\ndefault_profile_slug: Agent\nprofiles:\n  agent:\n    slug: 5\n"
        "    runtime: {tools: [' ', 3]}\n"
    )
    report = validate_text(text)
    assert sorted((d.code, d.pointer) for d in report.diagnostics) == [
        ("empty-name", "/profiles/agent/runtime/tools/0"),
        ("schema", "/default_profile_slug"),
        ("schema", "/profiles/agent/runtime/tools/1"),
        ("schema", "/profiles/agent/slug"),
    ]


# -- entry points for stores and single profiles -----------------------------------------
def test_validate_registry_roots_pointers_at_the_registry():
    diags = validate_registry(
        {"slug": "a", "default_profile_slug": "x", "profiles": {"x": None, "y": {"slug": "z"}}}, key="b"
    )
    assert sorted((d.code, d.field, d.pointer) for d in diags) == [
        ("profile-null", "registry.profiles[x]", "/profiles/x"),
        ("profile-slug-mismatch", "registry.profiles[y].slug", "/profiles/y/slug"),
        ("registry-slug-mismatch", "registry.slug", "/slug"),
    ]
    assert validate_registry({"slug": "a"}) == []
    assert validate_registry({"profiles": {}}, key="a") == []  # a bundle member may omit slug


def test_validate_profile_fields():
    diags = validate_profile(
        {"slug": "Q", "runtime": {"tools": [""]}, "policy": {"allowed_override_keys": ["a"], "denied_override_keys": [" a"]}},
        slug="p",
    )
    assert [(d.code, d.field) for d in diags] == [
        ("schema", "profile.slug"),  # pattern; so no slug-mismatch on top
        ("empty-name", "runtime.tools[0]"),
        ("override-key-conflict", "policy.override_keys"),
    ]
    assert [(d.code, d.field) for d in validate_profile({"slug": "q"}, slug="p")] == [("profile-slug-mismatch", "profile.slug")]
    assert [d.code for d in validate_profile(None)] == ["profile-null"]


def test_validate_document_forms():
    assert validate_document({"registries": {"a": {}}}) == []
    assert [d.code for d in validate_document({"registries": {"a": None}})] == ["registry-null"]
    assert [d.code for d in validate_document({"default": {"ai-chat": {"x": 1}}})] == ["legacy-format"]
    assert [d.code for d in validate_document(None)] == ["empty-document"]


@pytest.mark.parametrize(
    ("data", "form"),
    [
        ({"registries": {}, "slug": "x"}, "bundle"),
        ({"default": {"chat": {"a": 1}}}, "legacy"),
        ({"profiles": {"a": {"chat": {}}}}, "single"),  # a registry field name: not legacy
        ({"agent": {"chat": "x"}}, "single"),  # wrong shape: judged as a registry (typo)
        ([], None),
    ],
)
def test_detect_form(data, form):
    assert detect_form(data) == form


# -- what counts as a registry file -------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("slug: a\n", True),
        ("registries: {}\n", True),
        ("profiles: {}\n", True),
        ("default_profile_slug: a\n", True),
        ("default:\n  ai-chat:\n    x: 1\n", True),  # legacy shape
        ("# profreg\nanything: 1\n", True),
        ("\ufeff# profreg\nanything: 1\n", True),
        ("# yaml-language-server: $schema=https://profreg.dev/schema/profile-registry.schema.json\nx: 1\n", True),
        ("slug: a\nprofiles: [\n", True),  # unparseable: judged by a line scan
        ("on: push\njobs: {}\n", False),
        ("name: CI\non: push\n", False),
        ("version: '3'\nservices:\n  web: {image: nginx}\n", False),
        # legacy-shaped, but plainly Compose / GitHub Actions files (SPEC section 7)
        ("services:\n  web: {image: nginx, ports: ['80:80']}\n  db: {build: {context: .}}\n", False),
        ("on:\n  push: {branches: [main]}\njobs:\n  test: {runs-on: ubuntu-latest, steps: []}\n", False),
        ("jobs:\n  call: {uses: ./.github/workflows/x.yml}\n", False),
        # the same top-level names holding legacy sections are still registries
        ("services:\n  ai-chat: {ai-engine: gpt}\n", True),
        ("jobs:\n  ai-chat: {ai-engine: gpt}\n", True),
        ("# yaml-language-server: $schema=https://json.schemastore.org/github-workflow.json\non: push\n", False),
        ("", False),
        ("- a\n", False),
        ("  slug: a\nfoo: [\n", False),  # an indented `slug:` is not top level
    ],
)
def test_looks_like_registry(text, expected):
    assert looks_like_registry(parse(text)) is expected
