"""SPEC 4, the store contract: a store that does not exist yet is an empty store, for every
file backend alike. Opening and reading create nothing; the first write creates the store
and its missing parent folders; what cannot be created or opened is one StoreError."""
from __future__ import annotations

import os

import pytest

from profreg.errors import NotFoundError, StoreError
from profreg.stores import open_store


@pytest.fixture(params=["yaml", "db"])
def suffix(request):
    return request.param


def test_reads_of_a_missing_store_answer_empty_and_create_nothing(tmp_path, suffix):
    path = tmp_path / "typo" / f"store.{suffix}"
    with open_store(str(path)) as store:
        assert store.exists() is False
        assert store.list_registries() == [] and store.registry_slugs() == [] and store.corrupt_registries() == []
        for lookup in (lambda: store.get_registry("default"), lambda: store.get_profile("default", "p"),
                       lambda: store.list_profiles("default")):
            with pytest.raises(NotFoundError) as raised:
                lookup()
            assert "does not exist" in str(raised.value)
    assert list(tmp_path.iterdir()) == []  # no file, no folder, no -wal/-shm, no lock


def test_the_first_write_creates_the_store_and_its_folders(tmp_path, suffix):
    path = tmp_path / "a" / "b" / f"store.{suffix}"
    with open_store(str(path)) as store:
        store.upsert_registry({"slug": "default"})
        assert store.exists() is True
    assert path.is_file()
    with open_store(str(path)) as store:
        assert [r["slug"] for r in store.list_registries()] == ["default"]


def test_a_store_created_by_someone_else_meanwhile_is_seen(tmp_path, suffix):
    path = str(tmp_path / f"store.{suffix}")
    reader = open_store(path)
    assert reader.list_registries() == []
    with open_store(path) as writer:
        writer.upsert_registry({"slug": "late"})
    assert [r["slug"] for r in reader.list_registries()] == ["late"]
    reader.close()


def test_a_path_under_a_regular_file_is_a_store_error(tmp_path, suffix):
    (tmp_path / "afile").write_text("x")
    with pytest.raises(StoreError) as raised:
        with open_store(str(tmp_path / "afile" / "sub" / f"store.{suffix}")) as store:
            store.upsert_registry({"slug": "default"})
    assert "afile" in str(raised.value) and "\n" not in str(raised.value)
    assert (tmp_path / "afile").read_text() == "x"


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("not a database\n")
    with pytest.raises(StoreError) as raised:
        open_store(str(path))
    assert "not a database" in str(raised.value)
    assert path.read_text() == "not a database\n"


def test_memory_store_always_exists():
    assert open_store("memory:").exists() is True


def test_open_store_never_creates_even_when_closed_at_once(tmp_path, suffix):
    path = tmp_path / f"typo.{suffix}"
    open_store(str(path)).close()
    assert not os.path.lexists(path)


def test_the_python_api_reads_a_missing_store_without_creating_it(tmp_path, suffix):
    import profreg

    path = tmp_path / f"typo.{suffix}"
    with profreg.connect(str(path)) as client:
        assert client.list_registries() == []
        with pytest.raises(NotFoundError) as raised:
            client.resolve("agent")
        assert "does not exist" in str(raised.value)
    assert list(tmp_path.iterdir()) == []
