"""Service writes on a store: create refuses what exists, update patches, read-only profiles."""
from __future__ import annotations

import pytest

from profreg.errors import NotFoundError, PolicyViolationError, ValidationError, VersionConflictError
from profreg.service import Service
from profreg.stores.contract import WriteOptions
from profreg.stores.memory import MemoryStore


@pytest.fixture
def service():
    store = MemoryStore()
    svc = Service(store)
    svc.create_registry({"slug": "default"}, WriteOptions(actor="ann", source="test"))
    yield svc
    store.close()


def _version(obj):
    return obj["metadata"]["version"]


def test_first_profile_becomes_default_and_versions_start_at_one(service):
    created = service.create_profile(None, {"slug": "agent", "runtime": {"tools": ["a"]}})
    assert _version(created) == 1
    registry = service.get_registry()
    assert registry["default_profile_slug"] == "agent"
    assert _version(registry) == 2


def test_create_existing_profile_is_a_conflict_and_changes_nothing(service):
    service.create_profile("default", {"slug": "agent", "display_name": "A"})
    before = service.get_registry()
    with pytest.raises(VersionConflictError):
        service.create_profile("default", {"slug": "agent", "display_name": "B"})
    assert service.get_registry() == before


def test_create_existing_registry_is_a_conflict(service):
    with pytest.raises(VersionConflictError):
        service.create_registry({"slug": "default"})


def test_create_profile_checks_the_registry_version(service):
    registry_version = _version(service.get_registry())
    with pytest.raises(VersionConflictError):
        service.create_profile(None, {"slug": "p"}, WriteOptions(expected_version=registry_version + 1))
    service.create_profile(None, {"slug": "p"}, WriteOptions(expected_version=registry_version))


def test_create_profile_in_missing_registry_is_not_found(service):
    with pytest.raises(NotFoundError):
        service.create_profile("nope", {"slug": "p"})


def test_update_patches_given_fields_and_keeps_the_others(service):
    service.create_profile(None, {
        "slug": "agent", "display_name": "Agent", "description": "d",
        "runtime": {"system_prompt": "old", "tools": ["calc"]},
        "policy": {"allowed_override_keys": ["tools"]},
        "metadata": {"tags": ["x"]},
    })
    updated = service.update_profile(None, "agent", {"runtime": {"system_prompt": "new"}, "tags": ["y"]},
                                     WriteOptions(actor="bob"))
    assert updated["runtime"] == {"system_prompt": "new", "tools": ["calc"]}
    assert updated["display_name"] == "Agent" and updated["description"] == "d"
    assert updated["policy"] == {"allowed_override_keys": ["tools"]}
    assert updated["metadata"]["tags"] == ["y"]
    assert updated["metadata"]["updated_by"] == "bob"
    assert _version(updated) == 2


def test_update_without_changes_still_bumps_the_version(service):
    service.create_profile(None, {"slug": "agent"})
    assert _version(service.update_profile(None, "agent", {})) == 2
    assert _version(service.update_profile(None, "agent", {})) == 3


def test_update_checks_the_profile_version(service):
    service.create_profile(None, {"slug": "agent"})
    service.update_profile(None, "agent", {"display_name": "A"})
    with pytest.raises(VersionConflictError) as err:
        service.update_profile(None, "agent", {"display_name": "B"}, WriteOptions(expected_version=1))
    assert (err.value.expected, err.value.actual) == (1, 2)
    assert service.update_profile(None, "agent", {"display_name": "B"},
                                  WriteOptions(expected_version=2))["display_name"] == "B"


def test_update_refuses_unknown_fields(service):
    service.create_profile(None, {"slug": "agent"})
    with pytest.raises(ValidationError):
        service.update_profile(None, "agent", {"slug": "other"})


def test_update_result_is_validated(service):
    service.create_profile(None, {"slug": "agent"})
    with pytest.raises(ValidationError):
        service.update_profile(None, "agent", {"runtime": {"tools": [""]}})
    assert "runtime" not in service.get_profile(None, "agent")


def test_read_only_profile_cannot_be_updated_or_deleted(service):
    service.create_profile(None, {"slug": "agent"})
    service.create_profile(None, {"slug": "locked", "policy": {"read_only": True}})
    before = service.get_registry()
    with pytest.raises(PolicyViolationError):
        service.update_profile(None, "locked", {"display_name": "x"})
    with pytest.raises(PolicyViolationError):
        service.delete_profile(None, "locked")
    assert service.get_registry() == before


def test_delete_default_needs_a_new_default(service):
    service.create_profile(None, {"slug": "a"})
    service.create_profile(None, {"slug": "b"})
    with pytest.raises(ValidationError):
        service.delete_profile(None, "a")
    service.delete_profile(None, "a", new_default="b")
    registry = service.get_registry()
    assert registry["default_profile_slug"] == "b" and list(registry["profiles"]) == ["b"]
    service.delete_profile(None, "b")
    assert service.get_registry()["profiles"] == {}


def test_delete_checks_the_profile_version(service):
    service.create_profile(None, {"slug": "a"})
    with pytest.raises(VersionConflictError):
        service.delete_profile(None, "a", WriteOptions(expected_version=7))
    service.delete_profile(None, "a", WriteOptions(expected_version=1))


def test_set_default_checks_the_registry_version(service):
    service.create_profile(None, {"slug": "a"})
    service.create_profile(None, {"slug": "b"})
    version = _version(service.get_registry())
    with pytest.raises(VersionConflictError):
        service.set_default_profile(None, "b", WriteOptions(expected_version=version - 1))
    stored = service.set_default_profile(None, "b", WriteOptions(expected_version=version))
    assert stored["default_profile_slug"] == "b" and _version(stored) == version + 1
    with pytest.raises(NotFoundError):
        service.set_default_profile(None, "ghost")


class _RacingStore(MemoryStore):
    """Lets another writer update the profile between the service's read and its write, once."""

    def __init__(self):
        super().__init__()
        self.raced = False

    def upsert_profile(self, registry, profile, options=WriteOptions()):
        if not self.raced and profile.get("display_name") == "mine":
            self.raced = True
            super().upsert_profile(registry, {"slug": profile["slug"], "description": "theirs"})
        return super().upsert_profile(registry, profile, options)


def test_a_concurrent_update_is_not_overwritten():
    store = _RacingStore()
    service = Service(store)
    service.create_registry({"slug": "default"})
    service.create_profile(None, {"slug": "p"})
    updated = service.update_profile(None, "p", {"display_name": "mine"})
    assert store.raced
    assert updated["display_name"] == "mine" and updated["description"] == "theirs"
    assert _version(updated) == 3


def test_resolve_without_any_default_is_a_validation_error_on_profile_slug():
    store = MemoryStore([{"slug": "default"}])
    with pytest.raises(ValidationError) as err:
        Service(store).resolve()
    assert err.value.field == "profile.slug"


def test_resolve_falls_back_to_a_profile_named_default():
    # a registry whose default_profile_slug is unset cannot hold profiles in a valid store,
    # so the fallback is exercised with a store that returns such a registry as is
    class Loose(MemoryStore):
        def get_registry(self, slug):
            return {"slug": slug, "profiles": {"default": {"slug": "default"}, "z": {"slug": "z"}}}

    assert Service(Loose()).resolve().profile == "default"


def test_read_only_profile_changes_with_force_and_is_recorded(service):
    service.create_profile(None, {"slug": "agent"})
    service.create_profile(None, {"slug": "locked", "policy": {"read_only": True}})
    updated = service.update_profile(None, "locked", {"display_name": "L"}, WriteOptions(actor="ops", source="x"),
                                     force=True)
    assert (updated["display_name"], updated["metadata"]["updated_by"], updated["metadata"]["source"]) == ("L", "ops", "x")
    with pytest.raises(PolicyViolationError):
        service.delete_registry("default")
    service.delete_profile(None, "locked", force=True)
    assert "locked" not in service.get_registry()["profiles"]
    service.delete_registry("default")  # no read-only profile left: no force needed


def test_update_registry_changes_only_its_own_fields(service):
    service.create_profile(None, {"slug": "agent"})
    before = service.get_registry()
    after = service.update_registry("default", {"display_name": "D"})
    assert after["display_name"] == "D" and after["profiles"] == before["profiles"]
    assert _version(after) == _version(before) + 1
    with pytest.raises(ValidationError):
        service.update_registry("default", {"profiles": {}})
