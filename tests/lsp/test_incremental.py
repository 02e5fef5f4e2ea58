"""The language server's block-reusing validation gives exactly the engine's full result."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from lsprotocol import types

from profreg.engine import validate_text
from profreg_lsp.documents import Document
from profreg_lsp import forked, incremental
from profreg_lsp.incremental import IncrementalValidator
from profreg_lsp.yamlcontext import Lines, top_level_keys, warm_views

from lsp_helpers import SHARED

from tests.conftest import CONFORMANCE

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from generate import document  # noqa: E402
from shapes import BUNDLE_REGISTRIES, FORMS, STATES, STYLES, registry  # noqa: E402

# Every shape of the language-server matrix benchmark (bench/shapes.py), small.
SHAPES = {(form, state, style): registry(6, form, state, style)
          for form in FORMS for state in STATES for style in STYLES}

BUNDLE = """registries:
  default:
    slug: default
    default_profile_slug: agent
    profiles:
      agent:
        slug: agent
        runtime:
          system_prompt: Hi.
          tools: [a, b]
      helper:
        policy: {read_only: true}
  team:
    profiles:
      coder: {}
"""

BASES = [document(6), BUNDLE, SHARED] + [shape.text for shape in SHAPES.values()] + [
    p.read_text(encoding="utf-8") for p in sorted((CONFORMANCE / "validate").glob("*.yaml"))
]

FRAGMENTS = [
    "\n", "\n  ", "  ", ": ", "- ", "# c", "{", "}", "[", "]", "'", '"', ",", "&a ", "*a", "<<: *a", "<<: {slug: a}\n",
    "&std ", "*std", "*tools", "<<: *policy\n      ", " &x", "*x ",
    "profiles:", "slug: x", "slug: Agent", "default_profile_slug: ", "\t", "\r\n", "\r", "\u2028",
    "é", "😀", "\xa0", "\u3000", "\x0c", "\x1c", "---\n", "...", "%YAML 1.2\n", "null", "~", "no", "0123", "|\n    text\n", "tools: [\" \"]",
    "\n  new-profile:\n    display_name: N\n", "\nprofiles:\n  a: {}\n", "x" * 300,
]


def edits():
    insert = st.tuples(st.just("insert"), st.floats(0, 1), st.sampled_from(FRAGMENTS) | st.text(max_size=12))
    delete = st.tuples(st.just("delete"), st.floats(0, 1), st.integers(1, 40))
    return st.lists(insert | delete, min_size=1, max_size=12)


def apply(text: str, edit) -> str:
    kind, where, arg = edit
    at = int(where * len(text))
    if kind == "insert":
        return text[:at] + arg + text[at:]
    return text[:at] + text[at + arg:]


def as_json(report):
    return [d.to_json() for d in report.diagnostics]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=st.sampled_from(BASES), steps=edits())
def test_every_edit_validates_like_the_engine(base, steps):
    validator = IncrementalValidator()
    text = base
    assert as_json(validator.validate(text)) == as_json(validate_text(text))
    for step in steps:
        text = apply(text, step)
        assert as_json(validator.validate(text)) == as_json(validate_text(text)), repr(text)


def _apply_lines(text: str, edit: tuple[int, int, int, int, str]) -> str:
    l0, c0, l1, c1, new = edit
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
    return text[:starts[l0] + c0] + new + text[starts[l1] + c1:]


@pytest.mark.parametrize("form,state,style", sorted(SHAPES))
def test_every_shape_stays_incremental_through_its_benchmark_edits(form, state, style):
    """The matrix benchmark's edits: the engine's own result, no whole parse, no block parsed twice."""
    shape = registry(40, form, state, style)
    validator = IncrementalValidator()
    text = shape.text
    line, col, value = shape.profile_edit_line, shape.profile_edit_col, shape.profile_edit_value
    steps = [(line, col, line, col + len(value), value + "x"), (line, col, line, col + len(value) + 1, value)]
    registries = 1 if form == "single" else BUNDLE_REGISTRIES
    for edit in [None, *steps, *shape.registry_edits]:
        respliced, reused = validator.respliced, validator.reused
        if edit is not None:
            text = _apply_lines(text, edit)
        got = validator.validate(text)
        assert as_json(got) == as_json(validate_text(text)), (edit, text)
        assert validator.last_mode in ("incremental", "syntax"), edit
        if edit is not None:
            # the edited block parsed again, or a new split that took every registry's
            # profiles (a new line among the registry's own fields) from the last one
            assert validator.respliced == respliced + 1 or validator.reused >= reused + registries, edit
    assert validator.reparsed == 0
    # typing inside a profile's value re-parses that profile only
    assert validator.respliced >= 2


def _own_fields(text: str) -> tuple[int, int]:
    """Offsets of the first registry's own fields: from its first field to its `profiles:` line."""
    start = text.index("\n") + 1  # after the generator's comment line
    if text.startswith("registries:", start):
        start = text.index("\n", text.index("\n", start) + 1) + 1  # after `registries:` and `  team-0:`
    return start, text.index("profiles:", start)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shape=st.sampled_from(sorted(SHAPES)), steps=edits())
def test_edits_in_the_registry_fields_validate_like_the_engine(shape, steps):
    """Edits among a registry's own fields (above `profiles:`), from every matrix shape: the
    profiles' blocks are taken from the last split, and the result is still the engine's."""
    text = SHAPES[shape].text
    validator = IncrementalValidator()
    assert as_json(validator.validate(text)) == as_json(validate_text(text))
    for kind, where, arg in steps:
        start, end = _own_fields(text) if "profiles:" in text[text.index("\n"):] else (0, len(text))
        at = start + where * (end - start)
        text = apply(text, (kind, at / len(text) if text else 0, arg))
        assert as_json(validator.validate(text)) == as_json(validate_text(text)), repr(text)


def test_typing_at_the_end_and_in_a_key_stays_respliced():
    validator = IncrementalValidator()
    text = document(20)
    validator.validate(text)
    for typed in ("  agent-new:\n", "    display_name: N", "ew"):
        text += typed
        assert as_json(validator.validate(text)) == as_json(validate_text(text))
    renamed = text.replace("agent-000003:", "agent-000003x:", 1)
    assert as_json(validator.validate(renamed)) == as_json(validate_text(renamed))
    assert validator.respliced == 3  # the new profile's first line starts a new block: one whole split


def test_an_ordinary_edit_reuses_blocks_and_finds_the_error():
    validator = IncrementalValidator()
    text = document(50)
    assert validator.validate(text).valid and validator.last_mode == "incremental"
    edited = text.replace("tools: [calculator, search, shell]", "tools: [calculator, '  ']", 1)
    edited = edited.replace("allow_overrides: true", "allow_overrides: maybe", 1)
    got = validator.validate(edited)
    assert validator.last_mode == "incremental"
    assert as_json(got) == as_json(validate_text(edited))
    assert {d.code for d in got.diagnostics} == {"empty-name", "schema"}


def test_anchors_across_blocks_stay_incremental_and_errors_point_at_the_anchor():
    validator = IncrementalValidator()
    assert as_json(validator.validate(SHARED)) == as_json(validate_text(SHARED))
    assert validator.last_mode == "incremental"
    # `twin: *std` aliases a list where a profile goes; breaking the shared policy is
    # reported for both profiles that use it, at the anchor's text
    broken = SHARED.replace("allow_overrides: true", "allow_overrides: sometimes")
    got = validator.validate(broken)
    assert validator.last_mode == "incremental"
    assert as_json(got) == as_json(validate_text(broken))
    anchored = [d for d in got.diagnostics if d.pointer.endswith("/policy/allow_overrides")]
    assert {d.pointer for d in anchored} == {"/profiles/agent/policy/allow_overrides",
                                             "/profiles/helper/policy/allow_overrides"}
    assert {(d.span.start_line, d.span.start_col) for d in anchored} == {(10, 38)}  # the `policy: &policy` line
    # an edit elsewhere reuses every block, the ones parsed after their anchors' blocks too
    edited = broken.replace("R&D agent", "R&D agents")
    assert as_json(validator.validate(edited)) == as_json(validate_text(edited))
    assert validator.last_mode == "incremental"


@pytest.mark.parametrize("text", [
    "slug: default\nprofiles:\n  a: {x: 1}\n\tb: {}\n",  # tab indentation
    "slug: default\nprofiles:\n  a: &a {x: 1}\n  <<: {b: *a}\n",  # a merge key at a split level
    "slug: default\nbase: &b {x: 1}\nmid: &m {y: *b}\nprofiles:\n  a: *m\n",  # chained aliases across blocks
    "slug: default\nprofiles:\n  a: *later\n  b: &later {}\n",  # an alias before its anchor
    "slug: default\nprofiles:\n  a: {tools: &t [x]}\n  b: {tools: &t [y]}\n",  # an anchor name used twice
    "slug: default\nbase: &b {x: 1}\nprofiles:\n  # comment above the first profile\n  a: {<<: *b}\n",
])
def test_what_the_split_cannot_be_sure_of_is_parsed_whole(text):
    validator = IncrementalValidator()
    assert as_json(validator.validate(text)) == as_json(validate_text(text))
    assert validator.last_mode == "full"


@pytest.mark.parametrize("steps", [
    ["profiles:\n  agent: {}\n", "profiles:\n  \n", "profiles\n  \n"],  # a header left with no entries
    ["slug: a\nprofiles:\n  \nmore: 1\n", "slug: a\nprofiles\n  \nmore: 1\n"],
])
def test_a_block_that_does_not_read_is_read_on_from_where_the_document_has_it(steps):
    """A header whose mapping has no entries is a block of its own: when it stops reading as
    an entry, the syntax error (or none) is the whole document's, from the right stand-ins."""
    validator = IncrementalValidator()
    for text in steps:
        assert as_json(validator.validate(text)) == as_json(validate_text(text)), repr(text)


def test_alias_expansion_is_limited_over_the_whole_document_not_per_block():
    from profreg.engine.reader import Limits

    limits = Limits(max_alias_expansion=30)
    text = "slug: default\nprofiles:\n  a: &a {x: [1, 2, 3, 4, 5, 6, 7, 8]}\n" + "".join(
        f"  p{i}: {{y: *a}}\n" for i in range(4))  # each block 10 nodes over, 40 in all
    validator = IncrementalValidator(limits)
    got = validator.validate(text)
    assert validator.last_mode == "full"
    assert [d.code for d in got.diagnostics] == ["yaml-limit"]


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="ab\n\r é😀", max_size=40), start=st.floats(0, 1), length=st.integers(0, 10),
       new=st.text(alphabet="xy\n\r😀", max_size=10))
def test_document_line_index_follows_edits(text, start, length, new):
    from lsprotocol import types

    from profreg_lsp.documents import Document, line_starts

    doc = Document("x", text)
    a = int(start * len(text))
    b = min(len(text), a + length)
    if 0 < a < len(text) and text[a - 1] == "\r" and text[a] == "\n":
        a += 1  # LSP positions cannot point between \r and \n
        b = max(a, b)
    if 0 < b < len(text) and text[b - 1] == "\r" and text[b] == "\n":
        b += 1
    change = types.TextDocumentContentChangePartial(
        range=types.Range(start=doc.position_at(a), end=doc.position_at(b)), text=new)
    doc.apply(change)
    assert doc.text == text[:a] + new + text[b:]
    assert doc.starts == line_starts(doc.text)


def test_schema_lookup_documents_every_property():
    """Completion and hover text comes from the schema: every property has a title."""
    from profreg_lsp import schema_nav

    paths = [([], False), (["registries", "x"], True), (["profiles", "p"], False),
             (["profiles", "p", "runtime"], False), (["profiles", "p", "policy"], False),
             (["profiles", "p", "metadata"], False), (["profiles", "p", "runtime", "middlewares", "[]"], False)]
    for path, bundle in paths:
        props = schema_nav.properties(schema_nav.at_path(path, bundle))
        assert props, path
        for name, node in props.items():
            assert node.get("title") and node.get("description"), (path, name)


@settings(max_examples=300, deadline=None)
@given(base=st.sampled_from([document(4), BUNDLE, SHARED, "a: 1\n 'q': 2\n#c\n  x:\n\t- y\n"]),
       steps=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 12), st.sampled_from(FRAGMENTS[:30]) | st.text(
           alphabet="ab: -#'\"\n\t", max_size=8)), min_size=1, max_size=6))
def test_line_views_kept_through_edits_equal_a_fresh_scan(base, steps):
    """Completion's line views (top-level keys, lines by indentation, line shapes) are moved
    past each edit, not rebuilt; they must equal what a scan of the new text gives."""
    doc = Document("x", base)
    warm_views(doc)
    Lines(doc).shape(1)
    for where, length, new in steps:
        a = int(where * len(doc.text))
        b = min(len(doc.text), a + length)
        doc.apply(types.TextDocumentContentChangePartial(
            range=types.Range(start=doc.position_at(a), end=doc.position_at(b)), text=new))
        fresh = Document("x", doc.text)
        assert top_level_keys(doc) == top_level_keys(fresh)
        lines, fresh_lines = Lines(doc), Lines(fresh)
        for indent in range(8):
            assert lines.indent_lines(indent) == fresh_lines.indent_lines(indent), indent
        for number in range(doc.line_count):
            assert lines.shape(number) == fresh_lines.shape(number)


def _leaf_states(validator: IncrementalValidator) -> list:
    """Everything the validator keeps per block of its last split."""
    out = []
    for leaf in validator._state.leaves:
        parsed = leaf.parsed
        out.append((leaf.start, leaf.end, leaf.cache_key, [w.start for w in leaf.with_leaves], None if parsed is None else (
            parsed.key, parsed.value, parsed.text, parsed.alias_expansion, parsed.part_lines,
            [d.to_json() for d in parsed.diagnostics], parsed.tree is None, dict(parsed.spans), dict(parsed.plain))))
    return out


def _profiles(n: int, body: str = "{{slug: p{i}, runtime: {{tools: [a, b]}}}}") -> str:
    return "".join(f"  p{i}: {body.format(i=i)}\n" for i in range(n))


# Profiles read in runs (`_ProfileRuns`): what a run could read differently from each block's own parse.
RUN_CASES = [shape.text for shape in (registry(40, form, state, style) for form in FORMS for state in STATES
                                      for style in STYLES)] + [SHARED, BUNDLE] + [
    "slug: default\nprofiles:\n" + _profiles(20),
    # a whole profile aliased by others: each block's own parse gives it its own copy
    "slug: default\nprofiles:\n  a: &p {slug: a}\n  b: *p\n  c: *p\n" + _profiles(5),
    # null profiles, keys that are not slugs, broken values among clean ones
    "slug: default\nprofiles:\n" + _profiles(3) + "  empty:\n  Not_A_Slug: {}\n  bad: {runtime: 3}\n" + _profiles(3).replace("p", "q"),
    # anchors in a registry field, aliased from profiles at another indentation
    "slug: default\nbase: &b {tools: [x, y]}\nshared: &s {read_only: true}\nprofiles:\n"
    + _profiles(6, "{{slug: p{i}, runtime: *b, policy: {{<<: *s, allow_overrides: true}}}}"),
    # anchors defined and used inside one profile, and by the next ones
    "slug: default\nprofiles:\n  a:\n    runtime: &r {tools: &t [x]}\n    policy: {allowed_override_keys: *t}\n"
    + _profiles(6, "{{runtime: *r}}"),
    # the same profile key in two registries of a bundle, one registry's anchors used in the other's
    "registries:\n  one:\n    profiles:\n      p0: &p0 {runtime: &rt {tools: [x]}}\n      p1: {runtime: *rt}\n"
    "  two:\n    profiles:\n      p0: {runtime: *rt}\n      p1: {runtime: *rt}\n      p2: {runtime: *rt}\n",
    # the last profile without a line break at the end, comments between profiles
    "slug: default\nprofiles:\n" + _profiles(4) + "  # a comment\n\n" + _profiles(4).replace("p", "q") + "  last: {}",
    # an alias name in a string (not an alias), a repeated key inside a profile, a block that does not parse
    "slug: default\nprofiles:\n" + _profiles(3) + "  s: {display_name: 'a *b c'}\n  d: {slug: d, slug: e}\n"
    + _profiles(20).replace("p", "r") + "  broken: {x: [}\n" + _profiles(20).replace("p", "t"),
    # many small runs and a merge from an earlier profile
    "slug: default\nprofiles:\n  base: &base {runtime: {tools: [x]}}\n" + _profiles(40, "{{<<: *base, slug: p{i}}}"),
]


@pytest.mark.parametrize("text", RUN_CASES)
def test_profiles_read_in_runs_get_what_their_own_parses_give(text):
    runs, alone = IncrementalValidator(), IncrementalValidator()
    alone.RUN_BLOCKS = 1
    got, expected = runs.validate(text), alone.validate(text)
    assert as_json(got) == as_json(expected) == as_json(validate_text(text))
    assert runs.last_mode == alone.last_mode
    assert alone.in_runs == 0
    if runs._state is not None:
        assert _leaf_states(runs) == _leaf_states(alone)


def test_a_valid_registry_opens_in_runs():
    text = registry(100, "bundle", "valid", "shared").text
    validator = IncrementalValidator()
    assert as_json(validator.validate(text)) == []
    assert validator.last_mode == "incremental"
    assert validator.in_runs >= 90


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=st.sampled_from(RUN_CASES), steps=edits())
def test_after_any_edits_runs_keep_what_their_own_parses_give(base, steps):
    runs, alone = IncrementalValidator(), IncrementalValidator()
    alone.RUN_BLOCKS = 1
    text = base
    for step in [None, *steps]:
        if step is not None:
            text = apply(text, step)
        got, expected = runs.validate(text), alone.validate(text)
        assert as_json(got) == as_json(expected) == as_json(validate_text(text)), repr(text)
        if runs._state is not None and alone._state is not None:
            assert _leaf_states(runs) == _leaf_states(alone), repr(text)


# A document just opened, its profile blocks also read by a forked child (`_ForkedShare`).
@pytest.fixture
def spare_core(monkeypatch):
    monkeypatch.delenv(forked.MODE_ENV, raising=False)
    monkeypatch.setattr(forked, "spare_core", lambda: True)  # as on an idle machine


@pytest.mark.parametrize("text", RUN_CASES)
def test_profiles_read_by_a_forked_child_get_what_this_process_would_read(text, spare_core):
    shared, alone = IncrementalValidator(), IncrementalValidator()
    shared.FORK_BLOCKS, alone.FORK_BLOCKS = 2, 0
    got, expected = shared.validate(text), alone.validate(text)
    assert as_json(got) == as_json(expected) == as_json(validate_text(text))
    assert shared.last_mode == alone.last_mode
    if alone._state is not None:
        assert _leaf_states(shared) == _leaf_states(alone)
        assert shared._profile_results == alone._profile_results
    assert alone.forked == 0


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("style", STYLES)
def test_a_large_open_shares_its_profiles_with_a_child(form, style, spare_core, monkeypatch):
    monkeypatch.setattr(incremental._ForkedShare, "CHUNK", 4)
    text = registry(60, form, "profile-slug-mismatch", style).text
    shared, alone = IncrementalValidator(), IncrementalValidator()
    shared.FORK_BLOCKS, alone.FORK_BLOCKS = 8, 0
    assert as_json(shared.validate(text)) == as_json(alone.validate(text)) == as_json(validate_text(text))
    assert _leaf_states(shared) == _leaf_states(alone)
    assert shared._profile_results == alone._profile_results
    assert shared.forked_peak_kb > 0


def test_the_child_s_readings_are_taken_where_they_meet_this_process_s(spare_core, monkeypatch):
    """However far the child got, every block is read once, the child's from where they meet."""
    text = registry(60, "single", "schema-type", "shared").text
    alone = IncrementalValidator()
    alone.FORK_BLOCKS = 0
    expected = as_json(alone.validate(text))
    real = incremental._read_backwards
    for chunks in (0, 1, 2, 100):  # the child sends this many chunks of 4 blocks, then stops
        def limited(owner, made, chunk, send, chunks=chunks):
            sent = []
            real(owner, made, chunk, lambda m: (len(sent) < chunks) and (sent.append(1), send(m)))
        monkeypatch.setattr(incremental, "_read_backwards", limited)
        monkeypatch.setattr(incremental._ForkedShare, "CHUNK", 4)
        monkeypatch.setattr(incremental._ForkedShare, "POLL_EVERY", 1)
        shared = IncrementalValidator()
        shared.FORK_BLOCKS = 8
        child_first = []
        original_install = incremental._ForkedShare.install

        def install(self, index):
            if index == 0:
                time.sleep(0.5)  # let the child's messages arrive first
            return original_install(self, index)
        monkeypatch.setattr(incremental._ForkedShare, "install", install)
        assert as_json(shared.validate(text)) == expected
        assert _leaf_states(shared) == _leaf_states(alone)
        assert shared.forked == min(chunks * 4, 60), chunks  # the one mapping's 60 profiles
        monkeypatch.setattr(incremental._ForkedShare, "install", original_install)


def test_a_child_that_fails_leaves_its_share_to_this_process(spare_core, monkeypatch):
    text = registry(60, "single", "schema-type", "shared").text
    monkeypatch.setattr(incremental, "_read_backwards", lambda *args: 1 / 0)
    shared, alone = IncrementalValidator(), IncrementalValidator()
    shared.FORK_BLOCKS, alone.FORK_BLOCKS = 8, 0
    assert as_json(shared.validate(text)) == as_json(alone.validate(text)) == as_json(validate_text(text))
    assert shared.forked == 0
    assert shared.in_runs == alone.in_runs  # still read in runs, not block by block
    assert _leaf_states(shared) == _leaf_states(alone)


@pytest.mark.parametrize("message", ["garbage", (0,), (3, "x"), (0, [None]), (10**6, [])])
def test_a_child_s_message_out_of_place_leaves_the_rest_to_this_process(spare_core, monkeypatch, message):
    text = registry(60, "bundle", "profile-slug-mismatch", "block").text
    monkeypatch.setattr(incremental, "_read_backwards", lambda owner, made, chunk, send: send(message))
    shared, alone = IncrementalValidator(), IncrementalValidator()
    shared.FORK_BLOCKS, alone.FORK_BLOCKS = 8, 0
    assert as_json(shared.validate(text)) == as_json(alone.validate(text)) == as_json(validate_text(text))
    assert shared.forked == 0
    assert _leaf_states(shared) == _leaf_states(alone)


def test_no_child_without_a_spare_core(monkeypatch):
    text = registry(60, "single", "valid", "block").text
    monkeypatch.setattr(os, "getloadavg", lambda: (9.0, 9.0, 9.0))
    busy = IncrementalValidator()
    busy.FORK_BLOCKS = 8
    busy.validate(text)
    assert busy.forked == 0 and not forked.spare_core()
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert not forked.spare_core()


def test_the_environment_overrides_the_judgement_of_a_spare_core(monkeypatch):
    text = registry(60, "single", "valid", "block").text
    for mode, spare, expected in (("never", True, False), ("always", False, True), ("auto", False, False),
                                  ("auto", True, True), (" Never ", True, False)):
        monkeypatch.setenv(forked.MODE_ENV, mode)
        monkeypatch.setattr(forked, "spare_core", lambda spare=spare: spare)
        assert forked.wanted() is expected, (mode, spare)
        validator = IncrementalValidator()
        validator.FORK_BLOCKS = 8
        validator.validate(text)
        assert (validator.forked_peak_kb > 0) is expected, (mode, spare)  # a child ran, or none


def _messages(child, count):
    got, deadline = [], time.monotonic() + 10
    while len(got) < count and not child.ended and time.monotonic() < deadline:
        got += child.poll()
        time.sleep(0.01)
    return got


def test_a_child_s_messages_arrive_while_it_runs_and_it_is_stopped_when_closed():
    child = forked.start(lambda send: (send({"a": [1, 2.5, None, "é"]}), send("x" * 3_000_000), time.sleep(30)))
    assert _messages(child, 2) == [{"a": [1, 2.5, None, "é"]}, "x" * 3_000_000]
    assert not child.ended  # still sleeping
    child.close()
    assert child.ended and child.poll() == []
    with pytest.raises(ChildProcessError):
        os.waitpid(child.pid, os.WNOHANG)  # killed and reaped


def test_a_child_that_fails_ends_its_messages():
    child = forked.start(lambda send: (send(1), send(object())))  # the second is not marshal-able
    assert _messages(child, 3) == [1] and child.ended
    child = forked.start(lambda send: (send(1), os._exit(3)))
    assert _messages(child, 3) == [1] and child.ended


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=st.sampled_from(RUN_CASES), steps=edits())
def test_after_any_edits_a_forked_open_keeps_what_this_process_would_read(base, steps):
    shared, alone = IncrementalValidator(), IncrementalValidator()
    shared.FORK_BLOCKS, alone.FORK_BLOCKS = 2, 0
    text = base
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(forked, "spare_core", lambda: True)
        for step in [None, *steps]:
            if step is not None:
                text = apply(text, step)
            got, expected = shared.validate(text), alone.validate(text)
            assert as_json(got) == as_json(expected), repr(text)
            if shared._state is not None and alone._state is not None:
                assert _leaf_states(shared) == _leaf_states(alone), repr(text)
