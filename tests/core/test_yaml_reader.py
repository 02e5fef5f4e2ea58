"""Reading YAML as SPEC section 2 says, end to end through the engine: YAML 1.2 scalars,
merge keys, duplicate keys, limits and hostile input become diagnostics, never tracebacks."""
from __future__ import annotations

import math
import time

import pytest
from hypothesis import given, settings, strategies as st

from profreg.engine import validate_text
from profreg.engine.reader import Limits, LineIndex, parse

from tests.conftest import CONFORMANCE
from tests.core.spans import assert_spans_inside


def codes(report) -> list[str]:
    return [d.code for d in report.diagnostics]


def only(report, code: str):
    (d,) = [d for d in report.diagnostics if d.code == code]
    return d


REGISTRY_HEAD = "slug: default\ndefault_profile_slug: p\nprofiles:\n  p:\n"


def with_settings(settings_yaml: str) -> str:
    body = "".join(f"          {line}\n" for line in settings_yaml.splitlines())
    return REGISTRY_HEAD + "    runtime:\n      step_settings_patch:\n        s:\n" + body


# -- YAML 1.2 core schema ---------------------------------------------------------------
def test_keys_are_the_strings_written():
    text = (
        "slug: default\ndefault_profile_slug: 'no'\nprofiles:\n"
        "  no: {}\n  on: {}\n  '0123': {}\n  y: {}\n"
    )
    report = validate_text(text)
    assert report.valid, report.diagnostics
    assert list(report.data["profiles"]) == ["no", "on", "0123", "y"]


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("yes", "yes"), ("no", "no"), ("on", "on"), ("off", "off"), ("y", "y"),
        ("true", True), ("False", False), ("TRUE", True),
        ("~", None), ("null", None), ("Null", None), ("", None),
        ("0123", 123), ("-7", -7), ("+3", 3), ("0o17", 15), ("0x1F", 31),
        ("1.5", 1.5), ("1e3", 1000.0), (".5", 0.5), ("-.inf", -math.inf), (".Inf", math.inf),
        ("2001-12-14", "2001-12-14"), ("1_000", "1_000"), ("0b101", "0b101"), ("12:30", "12:30"),
        ("'0123'", "0123"), ('"true"', "true"), ("!!str 12", "12"), ("!!int '12'", 12), ("!!float 1", 1.0),
        ("!!bool true", True), ("!!null ''", None), ("123456789012345678901234567890", 123456789012345678901234567890),
    ],
)
def test_core_schema_values(written, value):
    data = parse(f"v: {written}\n").data
    assert data["v"] == value and type(data["v"]) is type(value)


def test_nan_is_a_float():
    assert math.isnan(parse("v: .nan\n").data["v"])


def test_a_number_where_a_slug_belongs_suggests_quoting():
    report = validate_text("slug: default\ndefault_profile_slug: 0123\nprofiles:\n  '0123': {}\n")
    d = only(report, "schema")
    assert d.keyword == "type" and d.pointer == "/default_profile_slug"
    assert 'quote it to keep it as text: "0123"' in d.message
    assert len(report.errors) == 1


def test_special_numbers_and_big_integers():
    report = validate_text("slug: a\nmetadata: {version: .nan, created_at_ms: .inf, updated_at_ms: -1}\n")
    assert sorted(d.pointer for d in report.errors) == [
        "/metadata/created_at_ms", "/metadata/updated_at_ms", "/metadata/version",
    ]
    assert validate_text("slug: a\nmetadata: {version: 123456789012345678901234567890}\n").valid
    # free-form settings take any JSON-like value, NaN and huge numbers included
    assert validate_text(with_settings("a: .nan\nb: -.inf\nc: 123456789012345678901234567890")).valid


# -- tags -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value", ["!!binary aGVsbG8=", "!!timestamp 2001-12-14", "!custom x", "!!set {a, b}", "!!omap [a: 1]", "!thing {a: 1}"]
)
def test_tags_outside_json_are_reported(value):
    report = validate_text(f"slug: a\ndescription: {value}\n")
    d = only(report, "yaml-unsupported-tag")
    assert d.span.start_line == 1 and d.span.start_col == len("description: ")
    assert not report.valid


def test_plain_json_tags_are_fine():
    assert validate_text("slug: !!str a\nmetadata: !!map {tags: !!seq [a], version: !!int '3'}\n").valid


# -- merge keys, anchors and aliases ----------------------------------------------------
def test_merge_keys_work_as_expected():
    text = (
        "slug: default\ndefault_profile_slug: coder\n"
        "x-base: &base\n  runtime: {system_prompt: Base., tools: [a]}\n  description: shared\n"
        "profiles:\n"
        "  coder:\n    <<: *base\n    description: own\n"
        "  multi:\n    <<: [{display_name: M}, *base]\n"
    )
    report = validate_text(text)
    assert report.data["profiles"]["coder"] == {"runtime": {"system_prompt": "Base.", "tools": ["a"]}, "description": "own"}
    assert report.data["profiles"]["multi"]["display_name"] == "M"
    assert report.data["profiles"]["multi"]["description"] == "shared"
    # the only problem is the unknown top-level helper key, located at its key
    d = only(report, "schema")
    assert d.pointer == "/x-base" and d.keyword == "additionalProperties" and d.span.start_line == 2


def test_errors_inside_merged_content_are_located_at_the_source():
    text = "slug: default\ndefault_profile_slug: p\nbase: &b {display_name: 5}\nprofiles:\n  p:\n    <<: *b\n"
    report = validate_text(text)
    d = next(d for d in report.errors if d.pointer == "/profiles/p/display_name")
    assert d.span.start_line == 2  # the value lives in the anchored mapping


def test_merge_of_a_scalar_is_a_diagnostic():
    report = validate_text("slug: a\n<<: 3\n")
    assert codes(report) == ["yaml-syntax"] and report.diagnostics[0].span.start_line == 1


def test_alias_bomb_is_bounded():
    levels = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        levels.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 10) + "]")
    start = time.perf_counter()
    report = validate_text("slug: bomb\n" + "\n".join(levels) + "\n")
    assert time.perf_counter() - start < 5
    assert codes(report) == ["yaml-limit"]


def test_alias_expansion_limit_is_configurable():
    text = "slug: a\nx: &x [1, 2, 3, 4]\ny: [*x, *x, *x, *x]\n"
    assert codes(validate_text(text, limits=Limits(max_alias_expansion=10))) == ["yaml-limit"]
    assert "yaml-limit" not in codes(validate_text(text, limits=Limits(max_alias_expansion=100)))


@pytest.mark.parametrize("text", ["slug: a\nx: &a [*a, *a, *a]\n", "slug: a\nx: &a {p: *a, q: *a, r: *a, s: *a}\n"])
def test_recursive_aliases_are_bounded(text):
    start = time.perf_counter()
    report = validate_text(text)
    assert time.perf_counter() - start < 5
    assert codes(report) == ["yaml-limit"]


# -- duplicate keys ---------------------------------------------------------------------
def test_duplicate_keys_point_at_the_later_key_and_keep_the_later_value():
    text = (
        "slug: default\ndefault_profile_slug: agent\nprofiles:\n"
        "  agent:\n    display_name: First\n  agent:\n    display_name: Second\n    display_name: Third\n"
    )
    report = validate_text(text)
    assert [(d.code, d.pointer, d.field, d.span.start_line, d.span.start_col) for d in report.diagnostics] == [
        ("yaml-duplicate-key", "/profiles/agent", "registry.profiles[agent]", 5, 2),
        ("yaml-duplicate-key", "/profiles/agent/display_name", "registry.profiles[agent].display_name", 7, 4),
    ]
    assert report.data["profiles"]["agent"] == {"display_name": "Third"}


def test_duplicate_keys_in_a_bundle_and_validation_goes_on():
    text = (
        "registries:\n  team:\n    default_profile_slug: ghost\n    profiles:\n      a: {}\n"
        "    default_profile_slug: a\n    slug: team\n    slug: Team\n"
    )
    report = validate_text(text)
    dup = [d for d in report.diagnostics if d.code == "yaml-duplicate-key"]
    assert [(d.pointer, d.field) for d in dup] == [
        ("/registries/team/default_profile_slug", "registry.default_profile_slug"),
        ("/registries/team/slug", "registry.slug"),
    ]
    # the later values are validated: `a` is a known profile, `Team` breaks the slug pattern
    assert "default-profile-unknown" not in codes(report)
    assert any(d.code == "schema" and d.pointer == "/registries/team/slug" for d in report.diagnostics)


def test_duplicate_key_inside_an_anchor_gets_its_first_path():
    text = "slug: a\nbase: &b {x: 1, x: 2}\nother: *b\n"
    d = only(validate_text(text), "yaml-duplicate-key")
    assert d.pointer == "/base/x"


# -- documents, syntax, bytes and limits ------------------------------------------------
@pytest.mark.parametrize("text", ["", "   \n\n", "# just a comment\n", "---\n", "--- # c\n...\n", "\ufeff"])
def test_empty_documents(text):
    assert codes(validate_text(text)) == ["empty-document"]


def test_explicit_document_markers_are_one_document():
    assert validate_text("---\nslug: a\n...\n").valid


def test_second_document():
    report = validate_text("slug: a\n---\nslug: b\n")
    d = only(report, "yaml-multiple-documents")
    assert d.span.start_line == 1 and len(report.diagnostics) == 1


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("slug: a\nprofiles: [\n", 2),
        ("slug: a\n\tprofiles: {}\n", 1),
        ('slug: "unterminated\n', 1),
        ("slug: a\n  bad indent: 1\n", 1),
        ("slug: a\nslug b\n", 2),
    ],
)
def test_syntax_errors_have_positions(text, line):
    report = validate_text(text)
    assert codes(report) == ["yaml-syntax"]
    assert report.diagnostics[0].span.start_line == line
    assert_spans_inside(text, report.diagnostics)


def test_control_character_is_located():
    report = validate_text("slug: a\ndisplay_name: éé\x00\n")
    d = only(report, "yaml-syntax")
    assert (d.span.start_line, d.span.start_col) == (1, 16) and "U+0000" in d.message


def test_not_utf8_is_located_at_the_bad_byte():
    report = validate_text(b"slug: a\ndisplay_name: caf\xe9\n")
    d = only(report, "yaml-syntax")
    assert (d.span.start_line, d.span.start_col) == (1, 17) and "UTF-8" in d.message


def test_non_mapping_keys():
    report = validate_text("? [a]\n: b\nslug: a\n")
    assert codes(report)[0] == "yaml-syntax"


@pytest.mark.parametrize("source", ["slug: a\n" * 100, ("slug: a\n" * 100).encode()])
def test_size_limit(source):
    report = validate_text(source, limits=Limits(max_bytes=64))
    assert codes(report) == ["yaml-limit"]


def test_flow_nesting_beyond_libyaml_is_a_limit():
    report = validate_text("slug: a\nx: " + "[" * 2000 + "]" * 2000 + "\n")
    assert codes(report) == ["yaml-limit"]


def test_block_nesting_limit():
    deep = "".join("  " * (i + 1) + f"k{i}:\n" for i in range(300))
    assert codes(validate_text("slug: a\nx:\n" + deep)) == ["yaml-limit"]


def test_a_hundred_levels_are_fine():
    nested = "{a: " * 100 + "1" + "}" * 100
    assert validate_text(with_settings(f"deep: {nested}")).valid


def test_huge_single_line():
    text = "slug: a\ndisplay_name: " + "x" * 5_000_000 + "\ndefault_profile_slug: Bad\n"
    start = time.perf_counter()
    report = validate_text(text)
    assert time.perf_counter() - start < 10
    d = only(report, "schema")
    assert (d.span.start_line, d.span.start_col) == (2, 22)
    assert report.data["display_name"] == "x" * 5_000_000


# -- line endings and Unicode line separators -------------------------------------------
@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_endings(newline):
    text = newline.join(["slug: a", "default_profile_slug: Bad", "profiles:", "  bad: {}", ""])
    report = validate_text(text)
    d = only(report, "schema")
    assert (d.span.start_line, d.span.start_col, d.span.end_col) == (1, 22, 25)


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])
def test_unicode_separators_are_not_line_breaks(separator):
    text = (
        f"slug: a\ndisplay_name: one{separator}two\ndescription: \"q{separator}r\"\n"
        f"# a comment{separator}with: [ in it\ndefault_profile_slug: Bad\n"
    )
    report = validate_text(text)
    assert report.data["display_name"] == f"one{separator}two"
    assert report.data["description"] == f"q{separator}r"
    d = only(report, "schema")
    assert (d.span.start_line, d.span.start_col) == (4, 22)  # line 5: separators do not count
    assert LineIndex(text).line_text(1) == f"display_name: one{separator}two"


def test_escaped_separators_in_double_quotes():
    assert parse('v: "a\\Lb\\Nc\\Pd"\n').data["v"] == "a\u2028b\x85c\u2029d"


def test_separator_in_a_key_keeps_the_key():
    report = validate_text("slug: a\ndefault_profile_slug: x\nprofiles:\n  a\u2028b: {}\n  x: {}\n")
    d = only(report, "schema")
    assert d.keyword == "propertyNames" and d.pointer == "/profiles/a\u2028b" and d.span.start_line == 3


def test_bom_is_not_counted():
    text = "\ufeffslug: a\ndefault_profile_slug: Bad\n"
    for source in (text, text.encode("utf-8")):
        d = only(validate_text(source), "schema")
        assert (d.span.start_line, d.span.start_col) == (1, 22)


# -- the bare node tree (`parse(bare=True)`, the language server's blocks) -------------------
def _readings(parsed) -> tuple:
    """What a reader of a `ParsedYaml` can see: data, findings, counts, and every place's range and plain text."""
    pointers = [""]
    stack = [("", parsed.data)]
    while stack:
        base, value = stack.pop()
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for key, child in items:
            pointer = f"{base}/{str(key).replace('~', '~0').replace('/', '~1')}"
            pointers.append(pointer)
            if len(pointers) < 400:
                stack.append((pointer, child))
    places = [(p, t, parsed.span_of(p, t), parsed.plain_text(p)) for p in pointers for t in ("value", "key", "object")]
    return (repr(parsed.data), [d.to_json() for d in parsed.diagnostics], parsed.fatal, parsed.empty, parsed.nodes,
            parsed.alias_expansion, places)


BARE_CASES = [p.read_text(encoding="utf-8") for p in sorted((CONFORMANCE / "validate").glob("*.yaml"))] + [
    "a: &x {b: 1}\nc:\n  <<: *x\n  d: '<<'\n'<<': 2\ne: <<\n", "<<: [{a: 1}, {b: 2}]\nc: 3\n",
    "a: ! 12\nb: !!str 3\nc: !!int '4'\n", "a: ~\nb: null\nc: ''\nd: \"\"\ne:\n", "", "---\n", "# only a comment\n",
    "a: |\n  text\nb: >\n  folded\n", "a: [1, 2.5, .inf, -.nan, 0x1f, 0o17, true, False, NULL]\n", "plain", "[1, 2]\n",
    "a: 1\na: 2\n", "a: [\n", "{a: 1}: 2\n", "a: *missing\n", "a: 1\n---\nb: 2\n", "a: \u2028b\n",
]


@pytest.mark.parametrize("text", BARE_CASES)
def test_a_bare_tree_reads_as_the_tagged_one(text):
    assert _readings(parse(text, bare=True)) == _readings(parse(text))


@pytest.mark.parametrize("room", [-2, -1, 0, 1])
def test_a_bare_tree_counts_nodes_against_the_limit_as_the_tagged_one(room):
    text = "a: [1, 2, {b: c}]\nd: &x {e: f}\ng: *x\n"
    limits = Limits(max_nodes=parse(text).nodes + room)
    assert _readings(parse(text, limits, bare=True)) == _readings(parse(text, limits))


NEAR_THE_LIMIT_THEN_BROKEN = [
    "a: [1, 2, {b: c}]\nd: &x {e: f}\ng: *x\nh: [unclosed\n",
    "a: [1, 2, [3, [4, 5]]]\nb: c\n  d: e\n",
    "a: [[[[1]]]]\nb: ]\n",
    "a: " + "[" * 990 + "]" * 990 + "\nb: ]\n",
]


@pytest.mark.parametrize("text", NEAR_THE_LIMIT_THEN_BROKEN)
def test_a_bare_tree_reports_the_node_limit_before_a_later_syntax_error_as_the_tagged_one(text):
    # the bare tree counts a node when it ends: without the tagged count near the limit, the
    # syntax error inside the node that crosses it would be reported instead
    for max_nodes in [*range(1, 40), 995, 1000, 1005]:
        limits = Limits(max_nodes=max_nodes)
        assert _readings(parse(text, limits, bare=True)) == _readings(parse(text, limits)), max_nodes


def test_entry_expansion_is_what_each_root_entry_s_aliases_add():
    text = "a: &x [1, 2, 3]\nb: {y: *x}\nc: 1\nd: [*x, *x]\n"
    parsed = parse(text, entries=True)
    assert parsed.entry_expansion == [0, 4, 4, 12]
    assert parsed.alias_expansion == 12
    assert parse(text).entry_expansion is None and parse("[1]", entries=True).entry_expansion is None


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="ab<:-&*!'\"|>[]{},#~0 \n", max_size=60))
def test_any_text_reads_the_same_bare(text):
    assert _readings(parse(text, bare=True)) == _readings(parse(text))
