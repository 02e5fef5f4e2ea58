"""Legacy-form conversion (profreg.legacy) and indentation detection for YAML writes."""
from __future__ import annotations

import pytest

from profreg.engine.detection import is_legacy
from profreg.legacy import legacy_to_registry
from profreg.stores.yamlfile.roundtrip import guess_indentation
from profreg.engine import validate_registry
from profreg.engine.report import errors_only


def test_legacy_converts_to_one_registry_with_default_profile_named_default():
    data = {"zeta": {"ai": {"x": 1}}, "default": {"ai": {"y": None}}}
    registry = legacy_to_registry(data)
    assert registry["slug"] == "default" and registry["default_profile_slug"] == "default"
    assert registry["profiles"]["zeta"]["runtime"]["step_settings_patch"] == {"ai": {"x": 1}}
    assert errors_only(validate_registry(registry)) == []
    registry["profiles"]["zeta"]["runtime"]["step_settings_patch"]["ai"]["x"] = 2
    assert data["zeta"]["ai"]["x"] == 1, "the input is not shared"


def test_legacy_default_is_the_first_sorted_slug_without_a_default_profile():
    registry = legacy_to_registry({"m": {}, "b": {"s": {}}, "x": {}}, slug="old")
    assert registry["slug"] == "old" and registry["default_profile_slug"] == "b"


@pytest.mark.parametrize(
    "data, legacy",
    [
        ({"agent": {"ai-chat": {"engine": "x"}}}, True),
        ({"slug": {"ai": {}}}, False),  # a registry field name: judged as a registry
        ({"agent": {"ai-chat": "not a map"}}, False),
        ({"registries": {}}, False),
    ],
)
def test_is_legacy(data, legacy):
    assert is_legacy(data) is legacy


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a:\n  b:\n    - x\n", (2, 4, 2)),
        ("a:\n  b:\n  - x\n", (2, 2, 0)),
        ("a:\n    b:\n        - x\n", (4, 6, 4)),
        ("a:\n   b: 1\n", (3, 5, 2)),  # no sequence: the new-file dash offset with the file's indent
        ("a: 1\n", (2, 4, 2)),
        ("a:\n  b: &list\n  - x\n", (2, 2, 0)),  # a sequence after an anchor
        ("a:\n  b: !!seq\n      - x\n", (2, 6, 4)),  # and after a tag
        ("a:\n    b: 1\n" + "c: [x]\n" * 6000 + "d:\n- x\n", (4, 6, 2)),  # a sequence past the lines looked at
    ],
)
def test_guess_indentation(text, expected):
    assert guess_indentation(text) == expected
