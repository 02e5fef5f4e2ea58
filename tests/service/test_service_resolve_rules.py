"""The pure resolution rules (profreg.resolve): key canonicalisation, checks, merge patch, fingerprint."""
from __future__ import annotations

import hashlib
import json

import pytest

from profreg.errors import PolicyViolationError, ValidationError
from profreg.resolve import canonical_override_key, check_overrides, fingerprint, merge_patch, resolve_profile


OPEN = {"allow_overrides": True}


@pytest.mark.parametrize(
    "raw, canonical",
    [
        ("systemPrompt", "system_prompt"),
        ("SystemPrompt", "system_prompt"),
        ("system-prompt", "system_prompt"),
        ("  system_prompt ", "system_prompt"),
        ("stepSettingsPatch", "step_settings_patch"),
        ("step-settings-patch", "step_settings_patch"),
        ("Tools", "tools"),
        ("", ""),
    ],
)
def test_canonical_override_key(raw, canonical):
    assert canonical_override_key(raw) == canonical


def test_unknown_key_is_named_before_policy_is_checked():
    with pytest.raises(ValidationError) as err:
        check_overrides({"temperature": 0.1}, {"allow_overrides": False})
    assert err.value.field == "request_overrides.temperature"


def test_unknown_key_is_named_canonically():
    with pytest.raises(ValidationError) as err:
        check_overrides({"maxTokens": 3}, {})
    assert err.value.field == "request_overrides.max_tokens"


def test_empty_key_is_a_validation_error():
    with pytest.raises(ValidationError) as err:
        check_overrides({"  ": "x"}, {})
    assert err.value.field.startswith("request_overrides")


def test_same_key_twice_in_different_spellings_is_refused():
    with pytest.raises(ValidationError):
        check_overrides({"systemPrompt": "a", "system_prompt": "b"}, {})


@pytest.mark.parametrize(
    "policy",
    [
        {"allow_overrides": False},
        {"allow_overrides": True, "denied_override_keys": ["tools"]},
        {"allow_overrides": True, "allowed_override_keys": ["system_prompt"]},
        {"allow_overrides": True, "allowed_override_keys": ["systemPrompt"], "denied_override_keys": []},
    ],
)
def test_policy_refuses_tools(policy):
    with pytest.raises(PolicyViolationError):
        check_overrides({"tools": ["x"]}, policy)


def test_policy_runs_before_value_types():
    # a wrongly typed value for a denied key is a policy violation, not a validation error
    with pytest.raises(PolicyViolationError):
        check_overrides({"tools": "x"}, {"allow_overrides": True, "denied_override_keys": ["tools"]})


@pytest.mark.parametrize("policy", [None, {}, {"read_only": False}, {"allowed_override_keys": ["tools"]},
                                    {"denied_override_keys": ["system_prompt"]}])
def test_overrides_are_closed_unless_allow_overrides_is_true(policy):
    # SPEC 2: a profile with no policy, or one without `allow_overrides`, takes no overrides (as in Go)
    with pytest.raises(PolicyViolationError):
        check_overrides({"tools": ["x"]}, policy)
    assert check_overrides({"tools": ["x"]}, {**(policy or {}), "allow_overrides": True,
                                              "denied_override_keys": []}) == {"tools": ["x"]}


def test_no_overrides_pass_a_locked_profile():
    assert check_overrides({}, {"allow_overrides": False}) == {}
    assert check_overrides(None, {"allow_overrides": False}) == {}


@pytest.mark.parametrize(
    "key, value",
    [
        ("system_prompt", 3),
        ("system_prompt", None),
        ("tools", "search"),
        ("tools", ["ok", ""]),
        ("tools", ["ok", 1]),
        ("middlewares", {"name": "x"}),
        ("middlewares", [{"config": {}}]),
        ("middlewares", [{"name": "  "}]),
        ("middlewares", ["logging"]),
        ("middlewares", [{"name": "x", "extra": 1}]),
        ("step_settings_patch", ["a"]),
        ("step_settings_patch", "x"),
    ],
)
def test_value_types_are_checked(key, value):
    with pytest.raises(ValidationError) as err:
        check_overrides({key: value}, OPEN)
    assert err.value.field == f"request_overrides.{key}"


@pytest.mark.parametrize(
    "key, value",
    [
        ("system_prompt", ""),
        ("tools", []),
        ("middlewares", [{"name": "m"}, {"name": "n", "config": [1, None]}]),
        ("step_settings_patch", {"a": None, "b": {"c": None}, "d": 1}),
    ],
)
def test_valid_values_pass(key, value):
    assert check_overrides({key: value}, OPEN) == {key: value}


# RFC 7386 appendix A, verbatim
RFC7386_EXAMPLES = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize("target, patch, result", RFC7386_EXAMPLES)
def test_merge_patch_rfc7386_examples(target, patch, result):
    before = json.dumps(target)
    assert merge_patch(target, patch) == result
    assert json.dumps(target) == before  # the target is not changed


def test_merge_patch_result_shares_nothing_with_inputs():
    patch = {"a": {"b": [1]}}
    out = merge_patch({}, patch)
    out["a"]["b"].append(2)
    assert patch == {"a": {"b": [1]}}


def test_fingerprint_is_sha256_of_rfc8785_json():
    payload = {"b": 1.0, "a": "é", "c": [1e21, None]}
    # RFC 8785: sorted keys, no spaces, 1.0 -> 1, 1e21 -> 1e+21, UTF-8 text
    canonical = '{"a":"é","b":1,"c":[1e+21,null]}'.encode()
    assert fingerprint(payload) == "sha256:" + hashlib.sha256(canonical).hexdigest()


def test_fingerprint_ignores_key_order_but_not_values():
    assert fingerprint({"a": 1, "b": 2}) == fingerprint({"b": 2, "a": 1})
    assert fingerprint({"a": 1}) != fingerprint({"a": 2})


PROFILE = {
    "runtime": {
        "system_prompt": "P",
        "middlewares": [{"name": "m"}],
        "step_settings_patch": {"chat": {"engine": "e", "temp": 0.5}},
    },
    "policy": {"allow_overrides": True},
    "metadata": {"version": 2},
}


def test_resolution_fills_every_runtime_key_and_merges():
    res = resolve_profile(
        {"metadata": {"source": "file"}}, "r", PROFILE, "p",
        overrides={"stepSettingsPatch": {"chat": {"temp": None}, "extra": {"x": 1}}},
        base_settings={"chat": {"engine": "base", "max": 3}},
    )
    out = res.to_json()
    assert out["effective_runtime"] == {
        "system_prompt": "P",
        "middlewares": [{"name": "m", "config": None}],
        "tools": [],
        "step_settings_patch": {"chat": {"engine": "e"}, "extra": {"x": 1}},
    }
    assert out["effective_settings"] == {"chat": {"engine": "e", "max": 3}, "extra": {"x": 1}}
    assert out["metadata"] == {"profile.registry": "r", "profile.slug": "p", "profile.version": 2,
                               "profile.source": "file"}
    assert out["runtime_key"] == "p"
    assert PROFILE["runtime"]["step_settings_patch"] == {"chat": {"engine": "e", "temp": 0.5}}


def test_fingerprint_covers_inputs_but_not_runtime_key():
    base = resolve_profile({}, "r", PROFILE, "p")
    assert resolve_profile({}, "r", PROFILE, "p", runtime_key="other").fingerprint == base.fingerprint
    assert resolve_profile({}, "r2", PROFILE, "p").fingerprint != base.fingerprint
    assert resolve_profile({}, "r", PROFILE, "p", base_settings={"a": {"b": 1}}).fingerprint != base.fingerprint
    assert resolve_profile({}, "r", PROFILE, "p", overrides={"tools": ["t"]}).fingerprint != base.fingerprint
    bumped = {**PROFILE, "metadata": {"version": 3}}
    assert resolve_profile({}, "r", bumped, "p").fingerprint != base.fingerprint


def test_runtime_key_must_be_a_slug():
    with pytest.raises(ValidationError) as err:
        resolve_profile({}, "r", PROFILE, "p", runtime_key="Not A Slug")
    assert err.value.field == "runtime_key"


def test_base_settings_must_be_a_mapping():
    with pytest.raises(ValidationError):
        resolve_profile({}, "r", PROFILE, "p", base_settings=["x"])
