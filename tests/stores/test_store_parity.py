"""SPEC section 4, point by point, against every backend (memory, YAML file, SQLite, PostgreSQL)."""
from __future__ import annotations

import pytest

from profreg.errors import NotFoundError, StoreError, UsageError, ValidationError, VersionConflictError
from profreg.stores import WriteOptions
from profreg.stores import writes as mutations
from profreg.engine import validate_registry
from profreg.engine.report import errors_only


def make_registry(store, slug="default", **fields):
    return store.upsert_registry({"slug": slug, **fields}, WriteOptions(actor="alice", source="test"))


def make_profile(store, slug, registry="default", **fields):
    return store.upsert_profile(registry, {"slug": slug, **fields}, WriteOptions(actor="alice", source="test"))


def version(obj):
    return obj["metadata"]["version"]


# ---- reads ----------------------------------------------------------------------------------
def test_reads_return_independent_copies(store):
    make_registry(store, display_name="Original")
    make_profile(store, "agent", runtime={"tools": ["search"]})
    registry = store.get_registry("default")
    registry["display_name"] = "Changed"
    registry["profiles"]["agent"]["runtime"]["tools"].append("shell")
    store.list_registries()[0]["profiles"].clear()
    store.list_profiles("default")[0]["runtime"]["tools"].clear()
    store.get_profile("default", "agent")["runtime"]["tools"].append("x")
    again = store.get_registry("default")
    assert again["display_name"] == "Original"
    assert again["profiles"]["agent"]["runtime"]["tools"] == ["search"]
    assert store.get_profile("default", "agent")["runtime"]["tools"] == ["search"]


def test_registry_views_hold_what_list_registries_copies(store):
    make_registry(store, "zeta", display_name="Z")
    make_registry(store, "alpha")
    make_profile(store, "agent", registry="alpha", runtime={"tools": ["search"]})
    views, corrupt = store.registry_views()
    assert [{**view, "profiles": dict(view["profiles"])} for view in views] == store.list_registries()
    assert [view["slug"] for view in views] == ["alpha", "zeta"]
    assert corrupt == store.corrupt_registries() == []


def test_writes_do_not_keep_references_to_the_input(store):
    given = {"slug": "agent", "runtime": {"tools": ["search"]}}
    make_registry(store)
    returned = store.upsert_profile("default", given)
    given["runtime"]["tools"].append("shell")
    returned["runtime"]["tools"].append("other")
    assert store.get_profile("default", "agent")["runtime"]["tools"] == ["search"]


def test_lists_are_sorted_by_slug(store):
    for slug in ("zeta", "alpha", "mid"):
        make_registry(store, slug)
    for slug in ("b", "c", "a"):
        make_profile(store, slug, registry="mid")
    assert [r["slug"] for r in store.list_registries()] == ["alpha", "mid", "zeta"]
    profiles = store.list_profiles("mid")
    assert [p["slug"] for p in profiles] == ["a", "b", "c"]
    assert store.corrupt_registries() == []
    assert store.registry_slugs() == ["alpha", "mid", "zeta"]


def test_objects_carry_their_slugs(store):
    make_registry(store)
    make_profile(store, "agent")
    registry = store.get_registry("default")
    assert registry["slug"] == "default"
    assert registry["profiles"]["agent"]["slug"] == "agent"
    assert store.get_profile("default", "agent")["slug"] == "agent"


def test_missing_objects_are_not_found(store):
    with pytest.raises(NotFoundError) as missing_registry:
        store.get_registry("nope")
    assert (missing_registry.value.resource, missing_registry.value.slug) == ("registry", "nope")
    assert missing_registry.value.exit_code == 3
    make_registry(store)
    with pytest.raises(NotFoundError) as missing_profile:
        store.get_profile("default", "nope")
    assert missing_profile.value.resource == "profile"
    with pytest.raises(NotFoundError):
        store.list_profiles("nope")
    with pytest.raises(NotFoundError):
        store.upsert_profile("nope", {"slug": "agent"})
    with pytest.raises(NotFoundError):
        store.delete_profile("default", "nope")
    with pytest.raises(NotFoundError):
        store.set_default_profile("default", "nope")
    with pytest.raises(NotFoundError):
        store.delete_registry("nope")


# ---- validation before persisting -----------------------------------------------------------
@pytest.mark.parametrize(
    "profile, field",
    [
        ({"slug": "agent", "runtime": {"tools": ["  "]}}, "registry.profiles[agent].runtime.tools[0]"),
        ({"slug": "agent", "runtim": {}}, "registry.profiles[agent].runtim"),
        ({"slug": "Agent"}, None),
        ({"slug": "agent", "policy": {"allowed_override_keys": ["tools"], "denied_override_keys": ["tools"]}},
         "registry.profiles[agent].policy.override_keys"),
    ],
)
def test_an_invalid_write_changes_nothing(store, backend, profile, field):
    make_registry(store)
    make_profile(store, "base")
    before = store.get_registry("default")
    with pytest.raises(ValidationError) as raised:
        store.upsert_profile("default", profile)
    assert raised.value.exit_code == 1
    assert raised.value.diagnostics, "the error carries the engine's diagnostics"
    if field is not None:
        assert field in {d.field for d in raised.value.diagnostics}
    assert store.get_registry("default") == before
    if backend.persistent:
        assert backend.open().get_registry("default") == before


def test_an_invalid_registry_is_not_created(store):
    with pytest.raises(ValidationError):
        store.upsert_registry({"slug": "Bad Slug"})
    with pytest.raises(ValidationError):
        store.upsert_registry({"slug": "good", "colour": "red"})
    with pytest.raises(ValidationError):
        store.upsert_registry({"display_name": "no slug"})
    assert store.list_registries() == []


def test_every_stored_registry_validates(store):
    make_registry(store, display_name="D", description="d", metadata={"tags": ["x"]})
    make_profile(store, "agent", runtime={"system_prompt": "hi", "middlewares": [{"name": "log", "config": None}]},
                 policy={"read_only": True})
    assert errors_only(validate_registry(store.get_registry("default"))) == []


# ---- versions -------------------------------------------------------------------------------
def test_versions_start_at_one_and_every_registry_mutation_adds_one(store):
    assert version(make_registry(store)) == 1
    agent = make_profile(store, "agent")
    assert version(agent) == 1
    assert version(store.get_registry("default")) == 2
    assert version(make_profile(store, "agent", display_name="Agent")) == 2
    assert version(store.get_registry("default")) == 3
    make_profile(store, "other")
    assert version(store.get_profile("default", "other")) == 1
    assert version(store.get_registry("default")) == 4
    assert version(store.set_default_profile("default", "other")) == 5
    # a write that changes no value still counts
    assert version(store.set_default_profile("default", "other")) == 6
    store.delete_profile("default", "agent")
    assert version(store.get_registry("default")) == 7
    assert version(make_registry(store, display_name="Renamed")) == 8
    assert version(store.get_profile("default", "other")) == 1, "registry writes leave profile versions"


@pytest.mark.parametrize("no_check", [None, 0])
def test_expected_version_absent_or_zero_means_no_check(store, no_check):
    make_registry(store)
    make_profile(store, "agent")
    store.upsert_profile("default", {"slug": "agent"}, WriteOptions(expected_version=no_check))
    store.set_default_profile("default", "agent", WriteOptions(expected_version=no_check))
    store.upsert_registry({"slug": "default"}, WriteOptions(expected_version=no_check))
    assert version(store.get_registry("default")) == 5


def test_expected_version_conflicts(store):
    make_registry(store)  # registry v1
    make_profile(store, "agent")  # registry v2, profile v1
    make_profile(store, "other")  # registry v3

    def conflict(call, resource, slug, expected, actual):
        before = store.get_registry("default")
        with pytest.raises(VersionConflictError) as raised:
            call()
        error = raised.value
        assert (error.resource, error.slug, error.expected, error.actual) == (resource, slug, expected, actual)
        assert error.exit_code == 5
        assert store.get_registry("default") == before

    # profile writes compare with the PROFILE's version
    conflict(lambda: store.upsert_profile("default", {"slug": "agent"}, WriteOptions(expected_version=3)),
             "profile", "agent", 3, 1)
    conflict(lambda: store.delete_profile("default", "other", WriteOptions(expected_version=2)),
             "profile", "other", 2, 1)
    # registry writes compare with the REGISTRY's version
    conflict(lambda: store.upsert_registry({"slug": "default"}, WriteOptions(expected_version=1)),
             "registry", "default", 1, 3)
    conflict(lambda: store.set_default_profile("default", "agent", WriteOptions(expected_version=2)),
             "registry", "default", 2, 3)
    conflict(lambda: store.delete_registry("default", WriteOptions(expected_version=9)),
             "registry", "default", 9, 3)
    # profile create checking the registry's version
    conflict(lambda: store.upsert_profile("default", {"slug": "new"}, WriteOptions(expected_registry_version=2)),
             "registry", "default", 2, 3)
    # creating what exists
    conflict(lambda: store.upsert_profile("default", {"slug": "agent"}, WriteOptions(create_only=True)),
             "profile", "agent", 0, 1)
    conflict(lambda: store.upsert_registry({"slug": "default"}, WriteOptions(create_only=True)),
             "registry", "default", 0, 3)
    # a matching version goes through
    assert version(store.upsert_profile("default", {"slug": "agent"}, WriteOptions(expected_version=1))) == 2
    store.upsert_profile("default", {"slug": "new"}, WriteOptions(expected_registry_version=4, create_only=True))
    store.delete_profile("default", "new", WriteOptions(expected_version=1))
    store.set_default_profile("default", "other", WriteOptions(expected_version=6))
    store.delete_registry("default", WriteOptions(expected_version=7))
    assert store.list_registries() == []


# ---- managed metadata -----------------------------------------------------------------------
def test_created_fields_are_set_once_and_updated_fields_follow_the_latest_write(store):
    store.upsert_registry({"slug": "default"}, WriteOptions(actor="alice", source="cli"))
    store.upsert_profile("default", {"slug": "agent"}, WriteOptions(actor="alice", source="cli"))
    store.upsert_profile("default", {"slug": "agent"}, WriteOptions(actor="bob", source="api"))
    meta = store.get_profile("default", "agent")["metadata"]
    assert (meta["created_by"], meta["updated_by"], meta["source"]) == ("alice", "bob", "api")
    created = meta["created_at_ms"]
    # a write that gives no actor or source keeps the previous ones
    store.upsert_profile("default", {"slug": "agent"})
    meta = store.get_profile("default", "agent")["metadata"]
    assert (meta["created_by"], meta["updated_by"], meta["source"]) == ("alice", "bob", "api")
    assert meta["created_at_ms"] == created
    registry_meta = store.get_registry("default")["metadata"]
    assert registry_meta["created_by"] == "alice" and registry_meta["updated_by"] == "bob"


def test_updated_at_never_decreases(store, monkeypatch):
    clock = iter([5_000, 9_000, 1_000, 1_000, 12_000, 12_000])
    monkeypatch.setattr(mutations, "now_ms", lambda: next(clock))
    make_registry(store)  # 5000
    make_profile(store, "agent")  # 9000
    meta = store.get_registry("default")["metadata"]
    assert (meta["created_at_ms"], meta["updated_at_ms"]) == (5_000, 9_000)
    make_profile(store, "agent")  # the clock went back to 1000
    assert store.get_registry("default")["metadata"]["updated_at_ms"] == 9_000
    assert store.get_profile("default", "agent")["metadata"]["updated_at_ms"] == 9_000
    store.set_default_profile("default", "agent")  # 1000 again
    assert store.get_registry("default")["metadata"]["updated_at_ms"] == 9_000
    make_profile(store, "agent")  # 12000
    assert store.get_registry("default")["metadata"]["updated_at_ms"] == 12_000
    assert store.get_profile("default", "agent")["metadata"]["created_at_ms"] == 9_000


def test_managed_fields_in_the_input_are_ignored(store):
    forged = {"version": 42, "created_at_ms": 1, "updated_at_ms": 2, "created_by": "mallory", "updated_by": "mallory"}
    created = store.upsert_registry({"slug": "default", "metadata": dict(forged)}, WriteOptions(actor="alice"))
    assert version(created) == 1 and created["metadata"]["created_by"] == "alice"
    profile = store.upsert_profile("default", {"slug": "agent", "metadata": dict(forged)}, WriteOptions(actor="alice"))
    assert version(profile) == 1 and profile["metadata"]["created_at_ms"] > 2
    again = store.upsert_profile("default", {"slug": "agent", "metadata": dict(forged)}, WriteOptions(actor="bob"))
    assert version(again) == 2
    assert again["metadata"]["created_by"] == "alice" and again["metadata"]["updated_by"] == "bob"
    registry = store.upsert_registry({"slug": "default", "metadata": dict(forged)})
    assert version(registry) == 4 and registry["metadata"]["created_by"] == "alice"


def test_tags_persist(store):
    store.upsert_registry({"slug": "default", "metadata": {"tags": ["team"]}})
    store.upsert_profile("default", {"slug": "agent", "metadata": {"tags": ["fast", "cheap"]}})
    store.upsert_profile("default", {"slug": "agent", "display_name": "Agent"})
    store.upsert_registry({"slug": "default", "display_name": "Default"})
    store.set_default_profile("default", "agent")
    assert store.get_profile("default", "agent")["metadata"]["tags"] == ["fast", "cheap"]
    assert store.get_registry("default")["metadata"]["tags"] == ["team"]
    store.upsert_profile("default", {"slug": "agent", "metadata": {"tags": ["slow"]}})
    assert store.get_profile("default", "agent")["metadata"]["tags"] == ["slow"]


def test_profile_upsert_replaces_fields(store):
    make_registry(store)
    make_profile(store, "agent", display_name="Agent", description="old", runtime={"tools": ["a"]})
    make_profile(store, "agent", display_name="Agent 2")
    profile = store.get_profile("default", "agent")
    assert profile["display_name"] == "Agent 2"
    assert "description" not in profile and "runtime" not in profile


def test_registry_upsert_keeps_profiles_and_default_when_left_out(store):
    make_registry(store, display_name="One")
    make_profile(store, "agent")
    store.upsert_registry({"slug": "default", "display_name": "Two"})
    registry = store.get_registry("default")
    assert registry["display_name"] == "Two"
    assert registry["default_profile_slug"] == "agent" and list(registry["profiles"]) == ["agent"]


def test_registry_upsert_with_profiles(store):
    created = store.upsert_registry({
        "slug": "team", "default_profile_slug": "a",
        "profiles": {"a": {"display_name": "A"}, "b": {"slug": "b"}},
    })
    assert created["profiles"]["a"]["slug"] == "a" and version(created["profiles"]["b"]) == 1
    changed = store.upsert_registry({
        "slug": "team", "profiles": {"a": {"display_name": "A"}, "b": {"display_name": "B"}},
    })
    assert version(changed["profiles"]["a"]) == 1, "an unchanged profile is left as it was"
    assert version(changed["profiles"]["b"]) == 2


# ---- default profile rules ------------------------------------------------------------------
def test_first_profile_of_an_empty_registry_becomes_the_default(store):
    make_registry(store)
    assert "default_profile_slug" not in store.get_registry("default")
    make_profile(store, "first")
    make_profile(store, "second")
    assert store.get_registry("default")["default_profile_slug"] == "first"


def test_deleting_the_default_profile_while_others_remain_is_refused(store, backend):
    make_registry(store)
    make_profile(store, "agent")
    make_profile(store, "other")
    make_profile(store, "third")
    before = store.get_registry("default")
    with pytest.raises(ValidationError) as raised:
        store.delete_profile("default", "agent")
    assert raised.value.exit_code == 1
    assert raised.value.field == "registry.default_profile_slug"
    assert store.get_registry("default") == before
    with pytest.raises(NotFoundError):
        store.delete_profile("default", "agent", new_default="missing")
    assert store.get_registry("default") == before
    store.delete_profile("default", "agent", new_default="other")
    registry = store.get_registry("default")
    assert registry["default_profile_slug"] == "other" and sorted(registry["profiles"]) == ["other", "third"]
    store.delete_profile("default", "third")  # not the default: no new default needed
    assert store.get_registry("default")["default_profile_slug"] == "other"


def test_deleting_the_last_profile_leaves_a_valid_empty_registry(store, backend):
    make_registry(store)
    make_profile(store, "agent")
    store.delete_profile("default", "agent")
    registry = store.get_registry("default")
    assert registry["profiles"] == {} and "default_profile_slug" not in registry
    assert errors_only(validate_registry(registry)) == []
    if backend.persistent:
        reopened = backend.open()
        assert reopened.get_registry("default")["profiles"] == {}
        assert reopened.list_profiles("default") == []
    make_profile(store, "again")
    assert store.get_registry("default")["default_profile_slug"] == "again"


def test_set_default_profile(store):
    make_registry(store)
    make_profile(store, "a")
    make_profile(store, "b")
    returned = store.set_default_profile("default", "b", WriteOptions(actor="carol"))
    assert returned["default_profile_slug"] == "b" and returned["metadata"]["updated_by"] == "carol"
    assert store.get_registry("default")["default_profile_slug"] == "b"


def test_delete_registry(store):
    make_registry(store, "one")
    make_registry(store, "two")
    store.delete_registry("one")
    assert [r["slug"] for r in store.list_registries()] == ["two"]
    with pytest.raises(NotFoundError):
        store.get_registry("one")


# ---- persistence and import -----------------------------------------------------------------
def test_writes_are_visible_to_a_reopened_store(file_backend):
    first = file_backend.open()
    first.upsert_registry({"slug": "default", "display_name": "D"})
    first.upsert_profile("default", {"slug": "agent", "runtime": {"step_settings_patch": {"ai": {"x": None}}}})
    expected = first.get_registry("default")
    first.close()
    assert file_backend.open().get_registry("default") == expected


def test_import_registry_keeps_metadata(store):
    registry = {
        "slug": "team",
        "default_profile_slug": "a",
        "metadata": {"version": 7, "created_at_ms": 10, "updated_at_ms": 20, "created_by": "go", "tags": ["t"]},
        "profiles": {"a": {"metadata": {"version": 3, "source": "file"}}},
    }
    stored = store.import_registry(registry)
    assert stored["metadata"]["version"] == 7 and stored["profiles"]["a"]["metadata"]["version"] == 3
    assert store.get_registry("team") == stored
    with pytest.raises(ValidationError):
        store.import_registry({"slug": "bad", "default_profile_slug": "missing"})


def test_import_registries_keeps_metadata_and_validates_all_before_writing(store):
    make_registry(store, "old")
    team = {"slug": "team", "metadata": {"version": 7, "created_by": "go"},
            "profiles": {"a": {"metadata": {"version": 3}}}, "default_profile_slug": "a"}
    with pytest.raises(ValidationError):  # the second is invalid: the first is not written either
        store.import_registries([team, {"slug": "bad", "default_profile_slug": "missing"}])
    assert store.registry_slugs() == ["old"]
    store.import_registries([team, {"slug": "other"}])
    assert store.registry_slugs() == ["old", "other", "team"]
    assert version(store.get_registry("team")) == 7 and store.get_registry("team")["metadata"]["created_by"] == "go"
    assert version(store.get_profile("team", "a")) == 3


def test_import_registries_replace_removes_the_others(store):
    make_registry(store, "old")
    make_registry(store, "team", display_name="Before")
    store.import_registries([{"slug": "team", "display_name": "After"}, {"slug": "new"}], replace=True)
    assert store.registry_slugs() == ["new", "team"]
    assert store.get_registry("team")["display_name"] == "After"
    store.import_registries([], replace=True)
    assert store.list_registries() == []


def test_export_is_what_import_registries_takes_back(store):
    assert not store.holds_data() and store.export().registries == []
    team = {"slug": "team", "metadata": {"version": 7, "created_by": "go"},
            "profiles": {"a": {"metadata": {"version": 3}}}, "default_profile_slug": "a"}
    store.import_registries([team, {"slug": "other"}])
    assert store.holds_data()
    exported = store.export()
    assert exported.registries == store.list_registries()
    assert [r["slug"] for r in store.export("team").registries] == ["team"]
    with pytest.raises(NotFoundError):
        store.export("nope")
    store.import_registries([], replace=True)
    refused = []

    def refuse() -> None:
        refused.append(store.list_registries())
        raise UsageError("not empty")

    with pytest.raises(UsageError):  # `check` runs before anything is written; raising aborts
        store.import_registries(exported.registries, replace=True, history=exported.history, check=refuse)
    assert refused == [[]] and store.list_registries() == []
    store.import_registries(exported.registries, replace=True, history=exported.history)
    assert store.list_registries() == exported.registries
    assert [(entry.slug, entry.registries) for entry in store.check()] in (
        [("other", ("other",)), ("team", ("team",))],  # one entry a registry
        [(None, ("other", "team"))],  # a YAML store: its file, as one document
    )
    assert not any(d.is_error for entry in store.check() for d in entry.diagnostics)


# ---- closing --------------------------------------------------------------------------------
def test_every_call_after_close_fails_and_close_twice_is_fine(backend):
    store = backend.open()
    store.upsert_registry({"slug": "default"})
    store.close()
    store.close()
    calls = [
        lambda: store.list_registries(),
        lambda: store.corrupt_registries(),
        lambda: store.registry_slugs(),
        lambda: store.get_registry("default"),
        lambda: store.list_profiles("default"),
        lambda: store.get_profile("default", "a"),
        lambda: store.upsert_registry({"slug": "x"}),
        lambda: store.delete_registry("default"),
        lambda: store.upsert_profile("default", {"slug": "a"}),
        lambda: store.delete_profile("default", "a"),
        lambda: store.set_default_profile("default", "a"),
        lambda: store.import_registry({"slug": "x"}),
        lambda: store.import_registries([{"slug": "x"}]),
    ]
    for call in calls:
        with pytest.raises(StoreError) as raised:
            call()
        assert "closed" in str(raised.value) and raised.value.exit_code == 6


def test_context_manager_closes(backend):
    with backend.open() as store:
        store.upsert_registry({"slug": "default"})
    with pytest.raises(StoreError):
        store.list_registries()
