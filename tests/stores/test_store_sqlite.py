"""The SQLite store: Go layout, migrations, corrupt rows, reads that touch one row."""
from __future__ import annotations

import json
import sqlite3
import stat

import pytest

from profreg.errors import NotFoundError, StoreError
from profreg.stores import WriteOptions, open_store

GO_SCHEMA = (
    "CREATE TABLE profile_registries (slug TEXT PRIMARY KEY, payload_json TEXT NOT NULL, "
    "updated_at_ms INTEGER NOT NULL DEFAULT 0)"
)

# What the Go implementation writes: every field present, null / {} when empty.
GO_PAYLOAD = {
    "slug": "default",
    "display_name": "Default",
    "description": None,
    "default_profile_slug": "agent",
    "metadata": {"version": 4, "created_at_ms": 1700000000000, "updated_at_ms": 1700000001000,
                 "created_by": "go", "updated_by": "go", "source": None, "tags": None},
    "profiles": {
        "agent": {
            "slug": "agent",
            "display_name": "Agent",
            "description": None,
            "runtime": {"system_prompt": "Be brief.", "middlewares": None, "tools": ["search"],
                        "step_settings_patch": {"ai-chat": {"engine": "x", "temperature": None}}},
            "policy": {"allow_overrides": True, "allowed_override_keys": None, "denied_override_keys": [],
                       "read_only": False},
            "metadata": {"version": 2, "created_at_ms": 1700000000000, "updated_at_ms": 1700000001000,
                         "created_by": None, "updated_by": None, "source": None, "tags": None},
        },
        "empty": {"slug": "empty", "runtime": None, "policy": {}, "metadata": {}},
    },
}


def go_database(path, rows):
    conn = sqlite3.connect(path)
    conn.execute(GO_SCHEMA)
    conn.executemany("INSERT INTO profile_registries (slug, payload_json, updated_at_ms) VALUES (?, ?, ?)", rows)
    conn.commit()
    conn.close()


def test_table_layout_matches_the_go_implementation(tmp_path):
    path = tmp_path / "s.db"
    open_store(str(path)).upsert_registry({"slug": "default"})
    conn = sqlite3.connect(path)
    columns = [(name, kind, notnull, default, pk) for _cid, name, kind, notnull, default, pk
               in conn.execute("PRAGMA table_info(profile_registries)")]
    assert columns == [
        ("slug", "TEXT", 0, None, 1),
        ("payload_json", "TEXT", 1, None, 0),
        ("updated_at_ms", "INTEGER", 1, "0", 0),
    ]
    slug, payload, updated = conn.execute("SELECT * FROM profile_registries").fetchone()
    assert slug == "default" and json.loads(payload)["slug"] == "default"
    assert updated == json.loads(payload)["metadata"]["updated_at_ms"]
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_new_database_is_private(tmp_path):
    path = tmp_path / "new.sqlite3"
    open_store(str(path)).upsert_registry({"slug": "default"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_migrations_are_idempotent(tmp_path):
    path = tmp_path / "s.db"
    open_store(f"sqlite:{path}").upsert_registry({"slug": "default"})  # the first write creates it
    for _ in range(2):
        open_store(f"sqlite:{path}").upsert_registry({"slug": "default"})
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT migration_set, name FROM _sqlite_migrations").fetchall()
    assert rows == [("profreg", "0001_profile_registries"), ("profreg", "0002_profile_registry_versions")]


def test_a_database_from_a_newer_profreg_is_refused_for_writes(tmp_path):
    path = tmp_path / "s.db"
    store = open_store(str(path))
    store.upsert_registry({"slug": "default"})
    store.close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('profreg', '0002_future', 'x')")
    conn.commit()
    conn.close()
    newer = open_store(str(path))
    assert newer.get_registry("default")["slug"] == "default", "reads still work"
    with pytest.raises(StoreError) as raised:
        newer.upsert_profile("default", {"slug": "a"})
    assert "newer profreg" in str(raised.value)


def test_a_go_database_opens_and_nulls_read_as_absent(tmp_path):
    path = tmp_path / "go.db"
    go_database(path, [("default", json.dumps(GO_PAYLOAD), 1700000001000)])
    store = open_store(str(path))
    agent = store.get_profile("default", "agent")
    assert agent["runtime"] == {"system_prompt": "Be brief.", "tools": ["search"],
                                "step_settings_patch": {"ai-chat": {"engine": "x", "temperature": None}}}
    assert agent["policy"] == {"allow_overrides": True, "denied_override_keys": [], "read_only": False}
    assert agent["metadata"] == {"version": 2, "created_at_ms": 1700000000000, "updated_at_ms": 1700000001000}
    assert "description" not in agent
    assert store.get_profile("default", "empty") == {"slug": "empty"}
    registry = store.get_registry("default")
    assert "description" not in registry and registry["metadata"]["created_by"] == "go"
    assert [p["slug"] for p in store.list_profiles("default")] == ["agent", "empty"]
    # and it can be written to, keeping the Go row layout
    store.upsert_profile("default", {"slug": "new"}, WriteOptions(actor="py"))
    assert store.get_registry("default")["metadata"]["version"] == 5
    row = sqlite3.connect(path).execute("SELECT payload_json FROM profile_registries WHERE slug = 'default'").fetchone()
    assert sorted(json.loads(row[0])["profiles"]) == ["agent", "empty", "new"]


def test_a_go_registry_without_slug_in_its_payload_takes_the_row_slug(tmp_path):
    path = tmp_path / "go.db"
    payload = {k: v for k, v in GO_PAYLOAD.items() if k != "slug"}
    go_database(path, [("team", json.dumps(payload), 0)])
    assert open_store(str(path)).get_registry("team")["slug"] == "team"


CORRUPT_ROWS = [
    ("badjson", "{not json", 0),
    ("mismatch", json.dumps({"slug": "other", "profiles": {}}), 0),
    ("invalid", json.dumps({"slug": "invalid", "default_profile_slug": "ghost", "profiles": {}}), 0),
    ("notobject", json.dumps([1, 2]), 0),
]


def test_a_corrupt_row_fails_only_its_registry(tmp_path):
    path = tmp_path / "mixed.db"
    go_database(path, [("default", json.dumps(GO_PAYLOAD), 0), *CORRUPT_ROWS])
    store = open_store(str(path))
    assert [r["slug"] for r in store.list_registries()] == ["default"]
    assert store.registry_slugs() == ["badjson", "default", "invalid", "mismatch", "notobject"]
    corrupt = dict(store.corrupt_registries())
    assert sorted(corrupt) == ["badjson", "invalid", "mismatch", "notobject"]
    assert all(slug in reason for slug, reason in corrupt.items())
    for slug, *_ in CORRUPT_ROWS:
        for call in (lambda: store.get_registry(slug), lambda: store.list_profiles(slug),
                     lambda: store.upsert_profile(slug, {"slug": "a"})):
            with pytest.raises(StoreError) as raised:
                call()
            assert repr(slug) in str(raised.value) and raised.value.exit_code == 6
    # the healthy registry keeps working, reads and writes
    assert store.get_profile("default", "agent")["display_name"] == "Agent"
    store.upsert_profile("default", {"slug": "more"})
    assert "more" in store.get_registry("default")["profiles"]


def test_get_registry_reads_one_row_by_primary_key(tmp_path):
    path = tmp_path / "many.db"
    go_database(path, [(f"r{i:03d}", json.dumps({"slug": f"r{i:03d}"}), 0) for i in range(200)])
    store = open_store(str(path))
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    assert store.get_registry("r150")["slug"] == "r150"
    with pytest.raises(NotFoundError):
        store.get_profile("r007", "nope")
    store.conn.set_trace_callback(None)
    # one row each, by primary key (the payload column is read only within the size limit)
    assert [s.split(" FROM ", 1)[1] for s in statements] == [
        "profile_registries WHERE slug = 'r150'",
        "profile_registries WHERE slug = 'r007'",
    ]
    assert all(s.startswith("SELECT CASE WHEN length(CAST(payload_json AS BLOB))") for s in statements)


def test_slugs_are_passed_as_parameters(tmp_path):
    store = open_store(str(tmp_path / "s.db"))
    store.upsert_registry({"slug": "default"})
    for hostile in ("x' OR '1'='1", "default'; DROP TABLE profile_registries; --"):
        with pytest.raises(NotFoundError):
            store.get_registry(hostile)
    assert store.get_registry("default")["slug"] == "default"


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError) as raised:
        open_store(str(path))
    assert str(path) in str(raised.value)


def test_import_replaces_a_corrupt_registry(tmp_path):
    path = tmp_path / "mixed.db"
    go_database(path, [("default", json.dumps(GO_PAYLOAD), 0), *CORRUPT_ROWS])
    store = open_store(str(path))
    store.import_registry({"slug": "badjson", "display_name": "Repaired"})
    assert store.get_registry("badjson")["display_name"] == "Repaired"
    assert "badjson" not in dict(store.corrupt_registries())


def test_import_registries_is_one_transaction_and_replaces_corrupt_rows(tmp_path):
    path = tmp_path / "mixed.db"
    go_database(path, [("default", json.dumps(GO_PAYLOAD), 0), *CORRUPT_ROWS])
    store = open_store(str(path))
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    store.import_registries([{"slug": f"r{i:03d}"} for i in range(50)], replace=True)
    store.conn.set_trace_callback(None)
    assert [s for s in statements if s.split()[0] in ("BEGIN", "COMMIT")] == ["BEGIN IMMEDIATE", "COMMIT"]
    assert store.corrupt_registries() == []
    assert store.registry_slugs() == [f"r{i:03d}" for i in range(50)]


def test_sqlite_utils_is_imported_only_when_a_migration_is_pending(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "s.db"
    script = (
        "import sys; from profreg.stores import open_store; "
        f"open_store({str(path)!r}).upsert_registry({{'slug': 'r'}}); print('sqlite_utils' in sys.modules)"
    )
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.strip()
            for _ in range(2)]
    assert runs == ["True", "False"]  # the new file is migrated; the up-to-date one is not touched


def test_the_migration_names_the_store_checks_are_the_ones_it_applies():
    from sqlite_utils.migrations import Migrations

    from profreg.stores import sqlite, sqlite_schema

    assert {m.name for m in sqlite_schema.MIGRATIONS._migrations} == sqlite.KNOWN_MIGRATIONS
    assert sqlite_schema.MIGRATIONS.name == sqlite.MIGRATION_SET
    assert Migrations.migrations_table == sqlite.MIGRATIONS_TABLE
