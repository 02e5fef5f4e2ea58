"""`profreg.connect(spec).resolve(...)`: the conformance resolve cases through the Client, on
the corpus's YAML file and on a SQLite copy of it; `Resolution` is an immutable value whose
`to_json()` is the CLI's `resolve --format json` object."""
from __future__ import annotations

import copy
import dataclasses
import json

import pytest

import profreg
from profreg.frozen import FrozenDict, FrozenList
from profreg.stores import open_store

from tests.conftest import run_cli
from tests.service.resolve_corpus import corpus_store_path, registries_of, resolve_case, resolve_case_ids

ERROR_KINDS = {
    "not_found": profreg.NotFoundError,
    "policy_violation": profreg.PolicyViolationError,
    "validation": profreg.ValidationError,
    "version_conflict": profreg.VersionConflictError,
}


@pytest.fixture(scope="module")
def corpus_specs(tmp_path_factory):
    path = tmp_path_factory.mktemp("client-corpus") / "registry.db"
    with open_store(str(path)) as store:
        store.import_registries(registries_of(corpus_store_path()))
    return {"yaml": str(corpus_store_path()), "sqlite": str(path)}


@pytest.fixture(scope="module", params=("yaml", "sqlite"))
def corpus_client(request, corpus_specs):
    with profreg.connect(corpus_specs[request.param]) as client:
        yield client


def _call(client, request):
    return client.resolve(
        request.get("profile"),
        registry=request.get("registry"),
        overrides=request.get("overrides"),
        base_settings=request.get("base_settings"),
        runtime_key=request.get("runtime_key"),
    )


@pytest.mark.parametrize("name", resolve_case_ids())
def test_resolve_case_through_the_client(name, corpus_client):
    case = resolve_case(name)
    if "expect" in case:
        # twice: the second answer comes from the client's cache and must be the same
        assert _call(corpus_client, case["request"]).to_json() == case["expect"]
        assert _call(corpus_client, case["request"]).to_json() == case["expect"]
    else:
        expected = case["expect_error"]
        for _ in range(2):
            with pytest.raises(ERROR_KINDS[expected["kind"]]) as err:
                _call(corpus_client, case["request"])
            assert err.value.exit_code == case["exit_code"]
            if "field" in expected:
                assert err.value.field == expected["field"]


def test_to_json_equals_the_cli_output(corpus_specs, tmp_path):
    """The same request through `profreg resolve --format json` and through the client."""
    case = next(resolve_case(n) for n in resolve_case_ids() if "expect" in resolve_case(n)
                and resolve_case(n)["request"].get("overrides"))
    request = case["request"]
    overrides = tmp_path / "overrides.json"
    overrides.write_text(json.dumps(request["overrides"]), encoding="utf-8")
    argv = ["resolve", *([request["profile"]] if request.get("profile") else []),
            "--store", corpus_specs["sqlite"], "--overrides", str(overrides), "--format", "json", "--show-secrets"]
    if request.get("registry"):
        argv += ["--registry", request["registry"]]
    if request.get("base_settings"):
        base = tmp_path / "base.json"
        base.write_text(json.dumps(request["base_settings"]), encoding="utf-8")
        argv += ["--base", str(base)]
    if request.get("runtime_key"):
        argv += ["--runtime-key", request["runtime_key"]]
    done = run_cli(*argv)
    assert done.returncode == 0, done.stderr
    with profreg.connect(corpus_specs["sqlite"]) as client:
        assert _call(client, request).to_json() == json.loads(done.stdout)


def test_a_resolution_cannot_be_changed(corpus_specs):
    with profreg.connect(corpus_specs["yaml"]) as client:
        first = client.resolve()
        with pytest.raises(dataclasses.FrozenInstanceError):
            first.fingerprint = "sha256:0"  # type: ignore[misc]
        runtime = first.effective_runtime
        assert isinstance(runtime, FrozenDict) and isinstance(runtime["tools"], FrozenList)
        for change in (lambda: runtime.__setitem__("system_prompt", "x"), lambda: runtime["tools"].append("x"),
                       lambda: first.effective_settings.clear(), lambda: first.metadata.pop("profile.slug")):
            with pytest.raises(TypeError):
                change()
        # a plain copy is the caller's to change; the cached value stays as it was
        mine = first.to_json()
        mine["effective_runtime"]["tools"].append("mine")
        copied = copy.deepcopy(first.effective_runtime)
        copied["tools"].append("mine")
        again = client.resolve()
        assert again is first
        assert "mine" not in again.effective_runtime["tools"]
        assert json.loads(json.dumps(again.effective_runtime)) == again.to_json()["effective_runtime"]


def test_runtime_key_does_not_disturb_the_cached_result(corpus_specs):
    with profreg.connect(corpus_specs["yaml"]) as client:
        plain = client.resolve()
        keyed = client.resolve(runtime_key="chat-1")
        assert keyed.runtime_key == "chat-1" and keyed.fingerprint == plain.fingerprint
        assert client.resolve().runtime_key == plain.profile
        with pytest.raises(profreg.ValidationError) as err:
            client.resolve(runtime_key="Not A Slug")
        assert err.value.field == "runtime_key"


def test_reads_from_a_compiled_yaml_store_are_whole_independent_copies(made_store):
    """A YAML store whose bytes were seen before hands the client profiles decoded one by one
    (SPEC 5, caching): whole reads still give every profile, as copies."""
    from profreg.stores import open_store

    with open_store(made_store) as store:
        expected = store.get_registry("default")
    with profreg.connect(made_store) as client:
        assert client.resolve("helper").effective_runtime["system_prompt"] == "help"
        registry = client.get_registry()
        assert registry == expected and isinstance(registry["profiles"], dict)
        registry["profiles"]["agent"]["runtime"]["tools"].append("x")
        assert client.get_registry() == expected
        assert [p["slug"] for p in client.list_profiles()] == ["agent", "helper"]
        assert client.get_profile("agent") == expected["profiles"]["agent"]
