"""profreg.model: every constant is what the schema file says (the schema is its one source).

The schema is read here with `json` straight from schema/, not through the package, and
each constant is checked against it; the constants the code derives from it are spelled
out too, so a schema edit that changes what a store, the service or the editors do shows
up here by name.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from profreg import model
from tests.conftest import ROOT

SCHEMA = json.loads((ROOT / "schema" / "profile-registry.schema.json").read_text(encoding="utf-8"))
DEFS = SCHEMA["$defs"]


def properties(defname: str) -> dict:
    return DEFS[defname]["properties"]


@pytest.mark.parametrize("constant, defname", [
    ("REGISTRY_KEY_ORDER", "registry"),
    ("PROFILE_KEY_ORDER", "profile"),
    ("RUNTIME_KEY_ORDER", "runtime"),
    ("POLICY_KEY_ORDER", "policy"),
    ("METADATA_KEY_ORDER", "metadata"),
])
def test_a_key_order_is_the_schema_properties_in_their_order(constant, defname):
    assert getattr(model, constant) == tuple(properties(defname))


def test_the_field_sets_are_the_schema_properties():
    assert model.REGISTRY_FIELDS == set(properties("registry"))
    assert model.MIDDLEWARE_FIELDS == set(properties("middleware")) == {"name", "config"}


def test_the_registry_fields_and_registries_are_what_the_schema_says_a_legacy_document_cannot_hold():
    """detection's legacy rule (no registry field at the top) is the schema's own."""
    not_legacy = set(DEFS["legacy"]["propertyNames"]["not"]["enum"])
    assert not_legacy == model.REGISTRY_FIELDS | {"registries"}
    assert set(SCHEMA["else"]["if"]["propertyNames"]["not"]["enum"]) == not_legacy


def test_the_text_fields_are_the_properties_of_type_string():
    for constant, defname in (("REGISTRY_STRING_FIELDS", "registry"), ("PROFILE_STRING_FIELDS", "profile")):
        expected = tuple(name for name, node in properties(defname).items() if node.get("type") == "string")
        assert getattr(model, constant) == expected
    assert model.REGISTRY_STRING_FIELDS == ("display_name", "description", "default_profile_slug")
    assert model.PROFILE_STRING_FIELDS == ("display_name", "description")


def test_the_sections_are_the_properties_that_refer_to_an_object_definition():
    for constant, defname in (("REGISTRY_SECTIONS", "registry"), ("PROFILE_SECTIONS", "profile")):
        expected = tuple(name for name, node in properties(defname).items()
                         if "$ref" in node and DEFS[node["$ref"].split("/")[-1]]["type"] == "object")
        assert getattr(model, constant) == expected
    assert model.REGISTRY_SECTIONS == ("metadata",)
    assert model.PROFILE_SECTIONS == ("runtime", "policy", "metadata")
    assert model.SECTION_KEY_ORDER == {"runtime": model.RUNTIME_KEY_ORDER, "policy": model.POLICY_KEY_ORDER,
                                       "metadata": model.METADATA_KEY_ORDER}


def test_the_override_keys_are_the_runtime_fields_and_the_policy_names_them():
    assert model.OVERRIDE_KEYS == tuple(properties("runtime"))
    assert model.RUNTIME_FIELD_TYPES == {name: node["type"] for name, node in properties("runtime").items()}
    assert model.RUNTIME_FIELD_TYPES == {"system_prompt": "string", "middlewares": "array", "tools": "array",
                                         "step_settings_patch": "object"}
    lists = tuple(name for name, node in properties("policy").items() if node.get("type") == "array")
    assert model.OVERRIDE_LIST_FIELDS == lists == ("allowed_override_keys", "denied_override_keys")
    for name in lists:
        assert tuple(properties("policy")[name]["items"]["examples"]) == model.OVERRIDE_KEYS


def test_the_metadata_the_stores_manage_is_what_the_schema_marks_managed():
    managed = tuple(name for name, node in properties("metadata").items() if "(managed)" in node["description"])
    assert model.MANAGED_METADATA == managed
    assert set(model.METADATA_KEY_ORDER) - set(managed) == {"source", "tags"}


def test_what_an_update_may_change():
    assert model.PROFILE_UPDATABLE_FIELDS == ("display_name", "description", "runtime", "policy")
    assert model.PROFILE_PATCH_FIELDS == ("display_name", "description", "runtime", "policy", "tags")
    assert model.NESTED_PATCH_FIELDS == ("runtime", "policy")
    assert model.REGISTRY_PATCH_FIELDS == ("display_name", "description")
    assert set(model.PROFILE_UPDATABLE_FIELDS) <= set(properties("profile"))
    assert set(model.REGISTRY_PATCH_FIELDS) <= set(properties("registry"))


def test_the_edit_order_is_every_registry_and_profile_field_once_with_profiles_last():
    fields = model.EDIT_FIELD_ORDER
    assert len(fields) == len(set(fields))
    assert set(fields) == set(properties("registry")) | set(properties("profile"))
    assert fields[-1] == "profiles"
    assert fields == ("slug", "display_name", "description", "default_profile_slug", "runtime", "policy",
                      "metadata", "profiles")


def test_the_model_reads_the_schema_and_not_the_validators():
    """Start-up: the constants come from the JSON, not from jsonschema (run in a fresh interpreter)."""
    code = "import sys, profreg.model; print(sorted(m for m in sys.modules if m.split('.')[0] in " \
           "('jsonschema', 'jsonschema_rs', 'referencing', 'yaml', 'ruamel')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
