"""Properties of the merge patch and the fingerprint, and a fingerprint recomputed in Node.

SPEC 5.6: another language can recompute the fingerprint. RFC 8785 for the values JSON
carries is what ECMAScript gives: keys sorted by UTF-16 code units, `JSON.stringify` for
strings and numbers. The Node side below is that, and nothing from profreg.
"""
from __future__ import annotations

import json
import shutil
import subprocess

from hypothesis import given, settings, strategies as st

import pytest

from profreg.errors import ValidationError
from profreg.resolve import fingerprint, merge_patch, resolve_profile

scalars = st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=8) | st.floats(
    allow_nan=False, allow_infinity=False, width=64
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)
objects = st.dictionaries(st.text(max_size=6), json_values, max_size=5)


@settings(max_examples=200, deadline=None)
@given(objects, objects)
def test_merge_patch_is_idempotent_and_drops_nulls(target, patch):
    once = merge_patch(target, patch)
    assert merge_patch(once, patch) == once

    def no_null_members_from(patch_value, result_value):
        if isinstance(patch_value, dict) and isinstance(result_value, dict):
            for key, value in patch_value.items():
                if value is None:
                    assert key not in result_value
                else:
                    no_null_members_from(value, result_value[key])

    no_null_members_from(patch, once)


@settings(max_examples=200, deadline=None)
@given(objects)
def test_fingerprint_ignores_key_order(value):
    reordered = json.loads(json.dumps(dict(reversed(list(value.items())))))
    assert fingerprint(reordered) == fingerprint(value)


NODE_JCS = r"""
const crypto = require("crypto");
function canon(v) {
  if (Array.isArray(v)) return "[" + v.map(canon).join(",") + "]";
  if (v !== null && typeof v === "object") {
    return "{" + Object.keys(v).sort().map(k => JSON.stringify(k) + ":" + canon(v[k])).join(",") + "}";
  }
  return JSON.stringify(v);
}
const payloads = JSON.parse(require("fs").readFileSync(0, "utf8"));
console.log(JSON.stringify(payloads.map(p => "sha256:" + crypto.createHash("sha256").update(canon(p), "utf8").digest("hex"))));
"""


def test_node_recomputes_the_fingerprint():
    node = shutil.which("node")
    assert node, "node is needed (scripts/setup.d installs the node test tools)"
    payloads = [
        {"registry_slug": "default", "profile_slug": "agent", "profile_version": 3,
         "runtime": {"system_prompt": "Grüße \u2028 \"q\" \\", "middlewares": [{"name": "m", "config": None}],
                     "tools": ["a"], "step_settings_patch": {"z": {"t": 0.5, "big": 1e21, "neg": -0.0001}}},
         "settings": {"b": {"x": 1.0, "y": 10**15}, "a": {"émoji": "😀", "Z": True}}},
        {"registry_slug": "", "profile_slug": "p", "profile_version": 0,
         "runtime": {"system_prompt": "", "middlewares": [], "tools": [], "step_settings_patch": {}},
         "settings": {}},
    ]
    done = subprocess.run([node, "-e", NODE_JCS], input=json.dumps(payloads), capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [fingerprint(p) for p in payloads]


@pytest.mark.parametrize("value", [2**53, -(2**53), 10**30, float("nan"), float("inf")])
def test_values_json_cannot_carry_exactly_are_a_validation_error_naming_them(value):
    profile = {"runtime": {"step_settings_patch": {"ai": {"n": 1}}}}
    with pytest.raises(ValidationError) as err:
        resolve_profile({}, "r", profile, "p", base_settings={"ai": {"big": value}})
    assert err.value.field == "effective_settings.ai.big"
