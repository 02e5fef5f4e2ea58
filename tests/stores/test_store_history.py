"""History (SPEC section 4) on SQLite and PostgreSQL: one row per committed mutation, in the
same transaction, never changed, outliving a deleted registry; none on YAML or memory."""
from __future__ import annotations

import json
import sqlite3

import pytest

from profreg.errors import NotFoundError, UsageError, ValidationError, VersionConflictError
from profreg.stores import WriteOptions, open_store
from tests.stores.test_store_sqlite import GO_PAYLOAD, go_database

ALICE = WriteOptions(actor="alice", source="test")


def states(store, slug="default"):
    return [(row["version"], row["registry"]) for row in store.history(slug)]


def test_every_committed_mutation_appends_the_new_state(sql_backend):
    store = sql_backend.open()
    after = []
    after.append(store.upsert_registry({"slug": "default"}, ALICE))
    store.upsert_profile("default", {"slug": "a"}, ALICE)
    after.append(store.get_registry("default"))
    store.upsert_profile("default", {"slug": "b"}, WriteOptions(actor="bob", source="api"))
    after.append(store.get_registry("default"))
    after.append(store.set_default_profile("default", "b", ALICE))
    store.delete_profile("default", "a", ALICE)
    after.append(store.get_registry("default"))
    rows = store.history("default")
    assert [(row["version"], row["registry"]) for row in rows] == [(r["metadata"]["version"], r) for r in reversed(after)]
    assert (rows[2]["updated_by"], rows[2]["source"]) == ("bob", "api")
    assert all(row["updated_at_ms"] == row["registry"]["metadata"]["updated_at_ms"] for row in rows)
    assert sql_backend.open().history("default") == rows  # committed: another connection sees them


def test_refused_writes_append_nothing(sql_backend):
    store = sql_backend.open()
    store.upsert_registry({"slug": "default"})
    store.upsert_profile("default", {"slug": "a"})
    before = store.history("default")
    for write, error in (
        (lambda: store.upsert_profile("default", {"slug": "b", "runtime": {"tools": [""]}}), ValidationError),
        (lambda: store.upsert_profile("default", {"slug": "a"}, WriteOptions(expected_version=7)), VersionConflictError),
        (lambda: store.delete_profile("default", "ghost"), NotFoundError),
        (lambda: store.delete_profile("default", "a", WriteOptions(expected_version=9)), VersionConflictError),
    ):
        with pytest.raises(error):
            write()
    assert store.history("default") == before


def test_rows_are_never_changed_and_outlive_a_deleted_registry(sql_backend):
    store = sql_backend.open()
    store.upsert_registry({"slug": "default", "display_name": "First"})
    store.upsert_profile("default", {"slug": "a"})
    first = store.history("default")
    store.delete_registry("default", ALICE)
    with pytest.raises(NotFoundError):
        store.get_registry("default")
    after_delete = store.history("default")
    assert after_delete[1:] == first
    assert (after_delete[0]["version"], after_delete[0]["registry"]) == (3, None)
    store.upsert_registry({"slug": "default", "display_name": "Again"})
    again = store.history("default")
    assert again[1:] == after_delete and again[0]["version"] == 1  # a new registry starts at 1
    assert store.history("other") == []


def test_imports_record_the_imported_state(sql_backend):
    store = sql_backend.open()
    store.import_registries([{"slug": "r1", "metadata": {"version": 7}}, {"slug": "r2"}], replace=True)
    assert [row["version"] for row in store.history("r1")] == [7]
    assert store.history("r1")[0]["registry"] == store.get_registry("r1")


def test_a_sqlite_database_from_before_history_has_empty_history_until_its_next_write(tmp_path):
    path = tmp_path / "old.db"
    go_database(path, [("default", json.dumps(GO_PAYLOAD), 0)])
    conn = sqlite3.connect(path)  # what profreg wrote before history: migration 0001 only
    conn.execute("CREATE TABLE _sqlite_migrations (migration_set TEXT, name TEXT, applied_at TEXT)")
    conn.execute("INSERT INTO _sqlite_migrations VALUES ('profreg', '0001_profile_registries', '2026-01-01')")
    conn.commit()
    conn.close()
    with open_store(f"sqlite:{path}") as store:
        assert store.history("default") == []
        assert store.get_registry("default")["metadata"]["version"] == 4
        store.upsert_profile("default", {"slug": "new"})
        assert [row["version"] for row in store.history("default")] == [5]


@pytest.mark.parametrize("spec", ["memory:", "yaml:{dir}/store.yaml"])
def test_stores_without_history_say_so(spec, tmp_path):
    with open_store(spec.format(dir=tmp_path)) as store:
        store.upsert_registry({"slug": "default"})
        with pytest.raises(UsageError) as raised:
            store.history("default")
    assert raised.value.exit_code == 2
    if spec.startswith("yaml"):
        assert "version control" in str(raised.value)
