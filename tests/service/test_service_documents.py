"""YAML written by profreg (show/resolve --format yaml, migrate) reads back equal under YAML 1.2."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from profreg.yamldump import bundle_document, dump_yaml, ordered_profile
from profreg.engine.reader import parse

# Strings YAML 1.1 and 1.2 read differently, or that look like other YAML values.
TRICKY = ["no", "on", "yes", "0123", "1e3", "0o17", "0x1F", ".inf", "-.inf", ".nan", "<<", "~", "null",
          "true", "True", "", " lead", "trail ", "a: b", "- x", "#c", "'q'", '"d"', "é", "line\nbreak", "tab\t"]
texts = st.sampled_from(TRICKY) | st.text(max_size=10)
scalars = st.none() | st.booleans() | st.integers() | texts | st.floats(allow_nan=False)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
                      max_leaves=25)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(texts, values, max_size=6))
def test_dump_reads_back_equal(data):
    parsed = parse(dump_yaml(data))
    assert not [d for d in parsed.diagnostics if d.severity == "error"]
    assert parsed.data == data


def test_schema_key_order():
    profile = {"metadata": {"tags": [], "version": 1}, "runtime": {"tools": [], "system_prompt": ""}, "slug": "p",
               "x-extra": 1}
    assert list(ordered_profile(profile)) == ["slug", "runtime", "metadata", "x-extra"]
    assert list(ordered_profile(profile)["metadata"]) == ["version", "tags"]
    document = bundle_document([{"slug": "b", "profiles": {}}, {"profiles": {}, "slug": "a"}])
    assert list(document["registries"]) == ["a", "b"]
    assert list(document["registries"]["a"]) == ["slug", "profiles"]
