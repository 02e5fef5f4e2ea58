"""Hostile input (SPEC section 10): random text and mutated corpus documents never raise
out of the engine, finish quickly, and give ranges inside the document.

Bounded: 200 examples per property, a generous per-example deadline (a hang or a
pathological slowdown fails; ordinary jitter does not).
"""
from __future__ import annotations

import os
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from profreg.engine import validate_text
from profreg.engine.detection import looks_like_registry
from profreg.engine.reader import parse

from tests.core.spans import assert_spans_inside
from tests.core.validate_corpus import VALIDATE_CASES, case_path

# PROFREG_FUZZ_EXAMPLES raises the count for a long local run (CI keeps the default).
EXAMPLES = int(os.environ.get("PROFREG_FUZZ_EXAMPLES", "200"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=timedelta(seconds=5),
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=False,
)

CORPUS = [case_path(name).read_text(encoding="utf-8") for name in VALIDATE_CASES]

# characters that matter to YAML, plus the awkward ones (separators, BOM, astral, control)
YAML_ALPHABET = list(":-[]{},#&*!|>'\"%@`?.~<=+ \t\n\r") + [
    "a", "z", "0", "1", "slug", "profiles", "default_profile_slug", "registries", "runtime",
    "tools", "<<", "&a", "*a", "!!str", "---", "...", "\u2028", "\u2029", "\x85", "é", "😀",
    "\ufeff", "\x00", "\x7f", "\ufdd0",
]


def check(source: str | bytes) -> None:
    report = validate_text(source)  # must not raise
    assert_spans_inside(source, report.diagnostics)
    for d in report.diagnostics:
        assert d.severity in ("error", "warning", "info") and d.code and d.message
        d.to_json()
    assert report.valid == (not report.errors)
    looks_like_registry(report.parsed)  # the directory/LSP filter must not raise either


@pytest.mark.parametrize("text", ["\ud800slug: default\n", "slug: default\nprofiles:\n  a\udfff: {}\n"])
def test_a_lone_surrogate_in_a_text_is_a_syntax_error_where_it_stands(text):
    check(text)
    (diagnostic,) = validate_text(text).diagnostics
    offset = next(i for i, ch in enumerate(text) if "\ud800" <= ch <= "\udfff")
    line = text.count("\n", 0, offset)  # 0-based, as spans are
    assert (diagnostic.code, diagnostic.span.start_line) == ("yaml-syntax", line)
    assert "lone surrogate" in diagnostic.message


@FUZZ
@given(st.text(max_size=400))
def test_random_text(text):
    check(text)


@FUZZ
@given(st.lists(st.sampled_from(YAML_ALPHABET), max_size=120).map("".join))
def test_random_yaml_ish_text(text):
    check(text)


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes(raw):
    check(raw)


def _mutate(data: st.DataObject, text: str) -> str:
    """Apply a few edits a person (or a bad merge) might make."""
    lines = text.splitlines(keepends=True) or [""]
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        kind = data.draw(st.sampled_from(["delete", "indent", "dedent", "swap-indent", "insert", "duplicate"]))
        i = data.draw(st.integers(0, len(lines) - 1), label="line")
        line = lines[i]
        if kind == "delete" and len(lines) > 1:
            del lines[i]
        elif kind == "indent":
            lines[i] = " " * data.draw(st.integers(1, 3)) + line
        elif kind == "dedent":
            lines[i] = line.lstrip(" ")
        elif kind == "swap-indent":
            j = data.draw(st.integers(0, len(lines) - 1), label="other line")
            a, b = lines[i], lines[j]
            ind_a, ind_b = len(a) - len(a.lstrip(" ")), len(b) - len(b.lstrip(" "))
            lines[i], lines[j] = " " * ind_b + a.lstrip(" "), " " * ind_a + b.lstrip(" ")
        elif kind == "insert":
            at = data.draw(st.integers(0, len(line)), label="column")
            ch = data.draw(st.sampled_from(YAML_ALPHABET) | st.characters(), label="inserted")
            lines[i] = line[:at] + ch + line[at:]
        elif kind == "duplicate":
            lines.insert(i, line)
    return "".join(lines)


@FUZZ
@given(st.data())
def test_mutated_corpus_documents(data):
    original = data.draw(st.sampled_from(CORPUS), label="document")
    mutated = _mutate(data, original)
    check(mutated)
    if data.draw(st.booleans(), label="as bytes"):
        check(mutated.encode("utf-8"))


@FUZZ
@given(st.data())
def test_mutated_documents_with_line_endings(data):
    original = data.draw(st.sampled_from(CORPUS), label="document")
    newline = data.draw(st.sampled_from(["\r\n", "\r", "\u2028"]), label="newline")
    check(_mutate(data, original).replace("\n", newline))


def test_parse_is_deterministic_for_the_corpus():
    # sanity for the fuzz oracle: unmodified corpus documents parse the same way twice
    for text in CORPUS:
        assert parse(text).diagnostics == parse(text).diagnostics
