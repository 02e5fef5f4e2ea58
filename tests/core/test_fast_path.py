"""jsonschema-rs decides valid/invalid and explains failures; `jsonschema` is the reference.
Both must agree on every instance, or a document could pass with no reported error
(or fail with none), and jsonschema-rs's errors, read as jsonschema's, must word the same
problems as jsonschema's own. Checked over the corpus pieces and generated profile-like
objects."""
from __future__ import annotations

import difflib
import os
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, find, given, settings, strategies as st

from profreg.engine.invariants import closest_match
from profreg.engine import schema as schema_layer
from profreg.engine.report import schema_problems
from profreg.engine.schema import fast_validator as _fast_validator, reference_validator as _validator
from profreg.engine.reader import parse

from tests.core.validate_corpus import VALIDATE_CASES, case_path

DEFS = ("bundle", "single", "registry", "profile", "runtime", "policy", "metadata", "legacy", "slug")

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
    | st.sampled_from(["", " ", "agent", "Agent", "a-b", "-a", "a" * 129, "system_prompt"])
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
slugish = st.sampled_from(["agent", "a", "a.b_c-d", "Agent", "", " x", "no", "0123", "a" * 128, "a" * 129])


def maybe(strategy):
    return strategy | json_values


names = st.lists(maybe(st.sampled_from(["", " ", "tools", "system_prompt", "x"])), max_size=3)
middleware = st.fixed_dictionaries({}, optional={"name": maybe(slugish), "config": json_values, "extra": json_values})
runtime = st.fixed_dictionaries(
    {},
    optional={
        "system_prompt": maybe(st.text(max_size=10)),
        "middlewares": maybe(st.lists(maybe(middleware), max_size=3)),
        "tools": maybe(names),
        "step_settings_patch": maybe(st.dictionaries(st.text(max_size=6), json_values, max_size=3)),
        "sytem_prompt": json_values,
    },
)
policy = st.fixed_dictionaries(
    {},
    optional={
        "allow_overrides": maybe(st.booleans()),
        "read_only": maybe(st.booleans()),
        "allowed_override_keys": maybe(names),
        "denied_override_keys": maybe(names),
    },
)
metadata = st.fixed_dictionaries(
    {},
    optional={
        "version": maybe(st.integers(-3, 2**64)),
        "created_at_ms": maybe(st.integers(-3, 2**64)),
        "tags": maybe(st.lists(maybe(st.text(max_size=5)), max_size=3)),
        "source": maybe(st.text(max_size=5)),
    },
)
profile = st.fixed_dictionaries(
    {},
    optional={
        "slug": maybe(slugish),
        "display_name": maybe(st.text(max_size=8)),
        "runtime": maybe(runtime),
        "policy": maybe(policy),
        "metadata": maybe(metadata),
        "unknown": json_values,
    },
)
registry = st.fixed_dictionaries(
    {},
    optional={
        "slug": maybe(slugish),
        "default_profile_slug": maybe(slugish),
        "profiles": maybe(st.dictionaries(slugish, maybe(profile), max_size=3)),
        "metadata": maybe(metadata),
    },
)
documents = registry | st.fixed_dictionaries({"registries": maybe(st.dictionaries(slugish, maybe(registry), max_size=2))}) | st.dictionaries(slugish, st.dictionaries(st.text(max_size=5), json_values, max_size=2), max_size=3)

INSTANCES = {
    "profile": profile,
    "runtime": runtime,
    "policy": policy,
    "metadata": metadata,
    "registry": registry,
    "single": registry,
    "bundle": documents,
    "legacy": documents,
    "slug": slugish,
}


def agree(defname: str, instance) -> None:
    fast = _fast_validator(defname)
    assert fast is not None, "jsonschema-rs is a dependency: the fast path must be available"
    expected = _validator(defname).is_valid(instance)
    try:
        got = fast.is_valid(instance)
    except (ValueError, OverflowError):
        return  # values it cannot take (e.g. integers beyond 64 bits): the engine asks jsonschema
    assert got == expected, f"{defname}: jsonschema-rs says {got}, jsonschema says {expected} for {instance!r}"
    if not got:
        explained_alike(defname, instance)


def explained_alike(defname: str, instance) -> bool:
    """jsonschema-rs's errors, read as jsonschema's, give jsonschema's problems in its order
    at each place (between places jsonschema's order is a set's: the report sorts by
    position). False where the reading defers to jsonschema (an empty key)."""
    fast = schema_layer.fast_errors(defname, instance)
    if fast is None:
        return False
    by_place = lambda problem: problem.pointer  # noqa: E731
    got = sorted(schema_problems(fast, "/doc"), key=by_place)
    expected = sorted(schema_problems(schema_layer.reference_errors(defname, instance), "/doc"), key=by_place)
    assert got == expected, f"{defname}: {instance!r}"
    return True


@pytest.mark.parametrize("name", VALIDATE_CASES)
def test_corpus_pieces_agree(name):
    data = parse(case_path(name).read_bytes()).data
    if data is None:
        return  # unparseable or empty case: nothing to compare (it is judged before the schema)
    pieces = [("single", data), ("bundle", data), ("legacy", data)]
    for reg in (data.get("registries") or {}).values() if isinstance(data.get("registries"), dict) else []:
        pieces.append(("registry", reg))
        for prof in (reg.get("profiles") or {}).values() if isinstance(reg, dict) and isinstance(reg.get("profiles"), dict) else []:
            pieces.append(("profile", prof))
    if isinstance(data.get("profiles"), dict):
        pieces += [("profile", p) for p in data["profiles"].values()]
    for defname, instance in pieces:
        agree(defname, instance)


@settings(max_examples=int(os.environ.get("PROFREG_FUZZ_EXAMPLES", "200")), deadline=timedelta(seconds=5), suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_generated_instances_agree(data):
    defname = data.draw(st.sampled_from(sorted(INSTANCES)), label="def")
    instance = data.draw(INSTANCES[defname], label="instance")
    agree(defname, instance)


@pytest.mark.parametrize("defname,instance", [
    ("registry", {"profiles": {"0123": [], "12": None, "a": {"slug": "B!", "runtime": {"tools": [1]}}}}),
    ("registry", {"profiles": {"Abc": None, "a": {"extra": 1, "policy": {"allow_overrides": "yes"}}}, "x": 1}),
    ("single", {"slgu": "x", "profiles": {"b": {"runtime": {"middlewares": [{}, {"name": "A", "x": 1}]}}}}),
    ("bundle", {"registries": {"R": {"profiles": {"Xy": {}}}, "q": {"metadata": {"version": -1}}}}),
    ("legacy", {"slug": 1, "profiles": 2}),
    ("legacy", {}),
])
def test_jsonschema_rs_explains_what_it_rejects(defname, instance):
    """Each schema keyword the registry schema uses, keys of digits (which jsonschema-rs
    reports as indexes) included, is explained without jsonschema."""
    assert explained_alike(defname, instance)


def test_an_empty_key_is_explained_by_jsonschema():
    """jsonschema-rs leaves an empty key out of an error's path; the reading then defers."""
    instance = {"profiles": {"": {"extra": 1}}}
    assert schema_layer.fast_errors("registry", instance) is None
    assert [p.message for p in schema_layer.problems("registry", instance, "")] == [
        p.message for p in schema_problems(schema_layer.reference_errors("registry", instance), "")]


def test_the_generators_reach_both_answers():
    """Guard against a vacuous property: the strategies produce valid and invalid profiles."""
    schema = _validator("profile")
    rich_valid = find(profile, lambda p: schema.is_valid(p) and {"runtime", "policy"} <= p.keys())
    assert schema.is_valid(rich_valid)
    assert not schema.is_valid(find(profile, lambda p: not schema.is_valid(p)))


@pytest.mark.parametrize("name", VALIDATE_CASES)
def test_reports_are_the_same_with_the_reference_validator_alone(name, monkeypatch):
    """jsonschema-rs only settles yes/no: without it (its one choice point says "cannot
    judge") every document gets the same report."""
    from profreg.engine import schema, validate_parsed

    raw = case_path(name).read_bytes()
    with_rs = validate_parsed(parse(raw)).diagnostics
    monkeypatch.setattr(schema, "_fast_verdict", lambda defname, instance: None)
    without_rs = validate_parsed(parse(raw)).diagnostics
    assert [d.to_json() for d in without_rs] == [d.to_json() for d in with_rs]


@given(st.text(alphabet="ab-0", max_size=8),
       st.lists(st.text(alphabet="ab-0", max_size=9), unique=True, max_size=25),
       st.sampled_from([0.0, 0.3, 0.6, 0.9, 1.0]))
def test_closest_match_answers_as_difflib_does(word, candidates, cutoff):
    """The "did you mean" search skips candidates by upper bounds; its answer is difflib's."""
    assert closest_match(word, candidates, cutoff) == difflib.get_close_matches(word, candidates, n=1, cutoff=cutoff)
