"""`fastread.read_data` against `reader.parse`: the store's read without a node tree must give
exactly the data `parse` gives — the same values, the same objects shared where anchors share
them — or hand the text back (None), or, for a syntax error, the very diagnostic `parse` gives.
Checked over the conformance inputs, every benchmark shape, and generated YAML that mixes
flow and block style, anchors, aliases, merge keys, tags, quoting, duplicate keys, second
documents and broken lines, under the default limits and under tight ones."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from bench.shapes import FORMS, STATES, STYLES, registry
from profreg.engine import fastread
from profreg.engine.reader import ParsedYaml, parse
from profreg.limits import Limits, current_limits

from tests.conftest import CONFORMANCE

TIGHT = dataclasses.replace(Limits(), max_nodes=12, max_depth=3, max_alias_expansion=6)


def structure(value: Any, seen: dict[int, int] | None = None) -> Any:
    """`value` with its types kept and each shared container after its first visit written
    as a reference to it, so two reads compare equal only if they share alike."""
    seen = {} if seen is None else seen
    if isinstance(value, (dict, list)):
        if id(value) in seen:
            return ("ref", seen[id(value)])
        seen[id(value)] = len(seen)
        if isinstance(value, dict):
            return ("map", tuple((type(k), k, structure(v, seen)) for k, v in value.items()))
        return ("seq", tuple(structure(v, seen) for v in value))
    return (type(value), "nan" if value != value else value)


def outcome(raw: bytes, limits: Limits) -> str:
    """Which way `read_data` took for `raw`, failing the test if it disagrees with `parse`."""
    parsed = parse(raw, limits)
    fast = fastread.read_data(raw, limits)
    if fast is None:
        return "parse"
    if isinstance(fast, ParsedYaml):
        assert parsed.fatal and not parsed.empty, raw
        assert fast.diagnostics == parsed.diagnostics, raw
        return "syntax"
    text, data = fast
    assert not parsed.fatal and not parsed.empty and not parsed.diagnostics, (raw, parsed.diagnostics)
    assert text == parsed.text
    assert structure(data) == structure(parsed.data), raw
    return "data"


def corpus() -> list[Path]:
    return sorted(CONFORMANCE.rglob("*.yaml")) + sorted((Path(__file__).parents[2] / "examples").rglob("*.yaml"))


@pytest.mark.parametrize("path", corpus(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_file_reads_as_parse_reads_it(path: Path) -> None:
    raw = path.read_bytes()
    outcome(raw, current_limits())
    outcome(raw, TIGHT)


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("form", FORMS)
def test_benchmark_shape_reads_as_parse_reads_it(form: str, state: str, style: str) -> None:
    raw = registry(60, form, state, style).text.encode()
    way = outcome(raw, current_limits())
    # the plain shapes registries have are read here, not handed back (else nothing is gained)
    if state != "half-typed" and state != "duplicate-key":
        assert way == "data"


@pytest.mark.parametrize("text, way", [
    ("a: 1\nb: [x, {c: d}]\n", "data"),
    # the first merge source holding a key wins; the mapping's own keys win over all
    ("a: &a {x: 1, y: 1}\nb: &b {x: 2, z: 2}\nc: {<<: *a, <<: *b, y: 3}\n", "data"),
    ("a: &a {x: 1}\nc:\n  x: 0\n  <<: *a\n  <<: {x: 2, w: [*a]}\n", "data"),
    ("base: &b {x: 1, y: [2]}\nuse: {<<: *b, y: 3}\nagain: *b\n", "data"),
    ("a: !!str 1\n", "parse"),  # a tag
    ("a: 1\na: 2\n", "parse"),  # a duplicate key
    ("? [k]\n: v\n", "parse"),  # a key that is a collection
    ("a: *nowhere\n", "parse"),  # an undefined alias
    ("a: &x 1\nb: &x 2\n", "parse"),  # a redefined anchor
    ("a: 1\n---\nb: 2\n", "parse"),  # a second document
    ("a: <<\n<<: 1\n", "parse"),  # a merge of a scalar
    ("a: \u2028\n", "parse"),  # a YAML 1.1 line break
    ("", "parse"),  # no document
    ("a: [1, 2\n", "syntax"),
    ("a: b\n c: d\n", "syntax"),
])
def test_each_way_is_taken(text: str, way: str) -> None:
    assert outcome(text.encode(), current_limits()) == way


@pytest.mark.parametrize("text, way", [
    # alias expansion: 6 nodes is the limit, 7 is over it
    ("a: &a [1, 2]\nb: [*a, *a]\n", "data"),
    ("a: &a [1, 2, 3, 4, 5, 6]\nb: *a\n", "parse"),
    # nesting: 3 levels deep is where the tight limit stops
    ("a: [[[x]]]\n", "parse"),
    ("a: [[x]]\n", "data"),
    # 12 nodes is the limit
    ("a: [1, 2, 3, 4]\nb: [1, 2, 3]\n", "data"),
    ("a: [1, 2, 3, 4]\nb: [1, 2, 3, 4]\n", "parse"),
    ("a: [1, 2, 3, 4]\nb: [1, 2, 3, 4, [\n", "parse"),  # over the node limit before the error
])
def test_limits_and_merges_under_tight_limits(text: str, way: str) -> None:
    assert outcome(text.encode(), TIGHT) == way


SCALARS = ["a", "b", "1", "0x1F", "0o17", "1.5", "-.inf", ".nan", "~", "null", "", "true", "False", "yes",
           "no", "'q'", '"d\\n"', "'<<'", "<<", '"1"', "12345678901234567890", "1e3", "+1", "-0", "x y",
           "'a: b'", "!!str 1", "!!int 3", "! x", "!custom z", "2001-12-14"]
KEYS = ["a", "b", "c", "<<", "'<<'", "1", "true", "k k", '"q"', "~"]


@st.composite
def flow_node(draw: Any, depth: int, anchors: list[str]) -> str:
    kind = draw(st.sampled_from(["scalar", "scalar", "alias", "seq", "map"] if depth < 4 else ["scalar"]))
    if kind == "alias" and anchors:
        return "*" + draw(st.sampled_from(anchors))
    if kind in ("scalar", "alias"):
        body = draw(st.sampled_from(SCALARS))
    elif kind == "seq":
        body = "[" + ", ".join(draw(flow_node(depth + 1, anchors)) for _ in range(draw(st.integers(0, 3)))) + "]"
    else:
        pairs = []
        for _ in range(draw(st.integers(0, 4))):
            key = draw(st.sampled_from(KEYS))
            if key == "<<" and anchors and draw(st.booleans()):
                pairs.append("<<: *" + draw(st.sampled_from(anchors)))
            else:
                pairs.append(f"{key}: {draw(flow_node(depth + 1, anchors))}")
        body = "{" + ", ".join(pairs) + "}"
    marker = draw(st.sampled_from(["", "", "", "anchor", "reuse", "tag"]))
    if marker == "tag" and kind in ("seq", "map"):
        return ("!!seq " if kind == "seq" else "!!map ") + body
    if marker == "anchor" or (marker == "reuse" and not anchors):
        anchors.append(f"n{len(anchors)}")
        return f"&{anchors[-1]} {body}"
    if marker == "reuse":
        return f"&{anchors[0]} {body}"  # an anchor defined again
    return body


@st.composite
def document(draw: Any) -> str:
    anchors: list[str] = []
    if draw(st.booleans()):
        return draw(flow_node(0, anchors)) + "\n"
    lines = []
    for i in range(draw(st.integers(1, 6))):
        key = draw(st.sampled_from(KEYS))
        if draw(st.booleans()):
            lines.append(f"{key}: {draw(flow_node(1, anchors))}")
            continue
        anchored = draw(st.booleans())
        lines.append(f"{key}:" + (f" &b{i}" if anchored else ""))
        for _ in range(draw(st.integers(0, 3))):
            inner = draw(st.sampled_from(KEYS))
            if inner == "<<" and anchors:
                lines.append("  <<: *" + draw(st.sampled_from(anchors)))
            else:
                lines.append(f"  {inner}: {draw(flow_node(2, anchors))}")
        if anchored:
            anchors.append(f"b{i}")
    for extra in ("---\nx: 1", "bad: [unclosed", "  weird indent: x", "key without colon"):
        if draw(st.integers(0, 19)) == 0:
            lines.insert(draw(st.integers(0, len(lines))), extra)
    return "\n".join(lines) + "\n"


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document(), st.sampled_from(["default", "tight"]))
def test_generated_yaml_reads_as_parse_reads_it(text: str, limits: str) -> None:
    outcome(text.encode(), current_limits() if limits == "default" else TIGHT)
