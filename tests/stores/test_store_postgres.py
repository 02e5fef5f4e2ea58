"""The PostgreSQL store on the run's real server: layout, migrations, corrupt rows, NOTIFY,
passwords, the missing extra. (The contract itself: test_store_parity.py, backend `postgres`.)"""
from __future__ import annotations

import json
import subprocess
import sys
from urllib.parse import urlsplit

import psycopg
import pytest

from profreg.errors import NotFoundError, PolicyViolationError, StoreError, ValidationError, VersionConflictError
from profreg.service import Service
from profreg.stores import WriteOptions, open_store
from profreg.stores.pgspec import redacted, split_spec
from profreg.stores.postgres import KNOWN_MIGRATIONS
from tests.conftest import pg_url_with, run_cli


def admin(spec: str) -> psycopg.Connection:
    """A plain connection to the spec's database (the test's own look at the tables)."""
    return psycopg.connect(split_spec(spec)[0], autocommit=True)


def schema_of(spec: str) -> str:
    return split_spec(spec)[1]


def test_table_layout_in_the_configured_schema(pg_spec):
    with open_store(pg_spec) as store:
        store.upsert_registry({"slug": "default"}, WriteOptions(actor="alice", source="test"))
    with admin(pg_spec) as conn:
        columns = conn.execute(
            "SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = 'profile_registries' ORDER BY ordinal_position",
            [schema_of(pg_spec)],
        ).fetchall()
        assert columns == [
            ("profile_registries", "slug", "text", "NO", None),
            ("profile_registries", "payload_json", "jsonb", "NO", None),
            ("profile_registries", "updated_at_ms", "bigint", "NO", "0"),
        ]
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE tablename = 'profile_registries' "
                            "AND schemaname = 'public'").fetchone() == (0,)
        slug, payload, updated = conn.execute(
            f'SELECT slug, payload_json, updated_at_ms FROM "{schema_of(pg_spec)}".profile_registries').fetchone()
        assert slug == "default" and payload["metadata"]["updated_at_ms"] == updated
        history = conn.execute(
            f'SELECT slug, version, updated_by, source FROM "{schema_of(pg_spec)}".profile_registry_versions'
        ).fetchall()
        assert history == [("default", 1, "alice", "test")]


def test_reads_create_nothing(pg_spec):
    with open_store(pg_spec) as store:
        assert store.list_registries() == [] and store.registry_slugs() == []
        assert store.registry_version("default") == 0
        with pytest.raises(NotFoundError):
            store.get_registry("default")
        assert store.history("default") == []
    with admin(pg_spec) as conn:
        assert conn.execute("SELECT to_regnamespace(%s)", [schema_of(pg_spec)]).fetchone() == (None,)


def test_migrations_are_idempotent_and_recorded(pg_spec):
    for _ in range(3):
        with open_store(pg_spec) as store:
            store.upsert_registry({"slug": "default"})
    with admin(pg_spec) as conn:
        names = [row[0] for row in conn.execute(
            f'SELECT name FROM "{schema_of(pg_spec)}".profreg_migrations ORDER BY name')]
    assert set(names) == KNOWN_MIGRATIONS and len(names) == len(KNOWN_MIGRATIONS)


def test_a_database_from_before_history_gets_its_history_at_the_next_write(pg_spec):
    schema = schema_of(pg_spec)
    with admin(pg_spec) as conn:  # what profreg wrote before history existed
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute(f'CREATE TABLE "{schema}".profreg_migrations (name text PRIMARY KEY, applied_at_ms bigint NOT NULL)')
        conn.execute(f"INSERT INTO \"{schema}\".profreg_migrations VALUES ('0001_profile_registries', 0)")
        conn.execute(f'CREATE TABLE "{schema}".profile_registries (slug text PRIMARY KEY, payload_json jsonb NOT NULL, '
                     "updated_at_ms bigint NOT NULL DEFAULT 0)")
        conn.execute(f'INSERT INTO "{schema}".profile_registries VALUES (%s, %s, 0)',
                     ["default", json.dumps({"slug": "default", "metadata": {"version": 7}})])
    with open_store(pg_spec) as store:
        assert store.history("default") == []
        assert store.get_registry("default")["metadata"]["version"] == 7
        store.upsert_registry({"slug": "default", "display_name": "Now"})
        assert [row["version"] for row in store.history("default")] == [8]


def test_a_database_from_a_newer_profreg_is_refused_for_writes(pg_spec):
    with open_store(pg_spec) as store:
        store.upsert_registry({"slug": "default"})
    with admin(pg_spec) as conn:
        conn.execute(f"INSERT INTO \"{schema_of(pg_spec)}\".profreg_migrations VALUES ('0099_from_the_future', 0)")
    with open_store(pg_spec) as store:
        assert store.get_registry("default")["slug"] == "default"  # reads still work
        with pytest.raises(StoreError) as raised:
            store.upsert_registry({"slug": "other"})
        assert "newer profreg" in str(raised.value) and "0099_from_the_future" in str(raised.value)
        assert store.registry_slugs() == ["default"]


CORRUPT = {
    "mismatch": {"slug": "other", "profiles": {}},
    "invalid": {"slug": "invalid", "default_profile_slug": "ghost", "profiles": {}},
    "notobject": [1, 2],
}


def test_a_corrupt_row_fails_only_its_registry(pg_spec):
    with open_store(pg_spec) as store:
        store.upsert_registry({"slug": "default"})
        store.upsert_profile("default", {"slug": "agent"})
    with admin(pg_spec) as conn:
        for slug, payload in CORRUPT.items():
            conn.execute(f'INSERT INTO "{schema_of(pg_spec)}".profile_registries VALUES (%s, %s, 0)',
                         [slug, json.dumps(payload)])
    with open_store(pg_spec) as store:
        assert [r["slug"] for r in store.list_registries()] == ["default"]
        corrupt = dict(store.corrupt_registries())
        assert sorted(corrupt) == sorted(CORRUPT)
        for slug in CORRUPT:
            with pytest.raises(StoreError) as raised:
                store.get_registry(slug)
            assert repr(slug) in str(raised.value) and raised.value.exit_code == 6
            with pytest.raises(StoreError):
                store.upsert_profile(slug, {"slug": "a"})
        store.upsert_profile("default", {"slug": "more"})
        assert sorted(store.get_registry("default")["profiles"]) == ["agent", "more"]
    listed = run_cli("list", "--store", pg_spec, "--format", "json")
    assert listed.returncode == 6
    assert [r["slug"] for r in json.loads(listed.stdout)] == ["default"]
    assert all(slug in listed.stderr for slug in CORRUPT)


def test_slugs_are_passed_as_parameters(pg_spec):
    with open_store(pg_spec) as store:
        store.upsert_registry({"slug": "default"})
        for hostile in ("x' OR '1'='1", "default'; DROP TABLE profile_registries; --", "a?b"):
            with pytest.raises(NotFoundError):
                store.get_registry(hostile)
        assert store.registry_slugs() == ["default"]


# ---- NOTIFY ---------------------------------------------------------------------------------
def test_notify_is_sent_exactly_for_committed_writes(pg_database_spec):
    with open_store(pg_database_spec) as store, store.listen() as listener:
        service = Service(store)
        store.upsert_registry({"slug": "default"})
        service.create_profile("default", {"slug": "agent"})
        store.upsert_profile("default", {"slug": "locked", "policy": {"read_only": True}})
        assert listener.poll(2.0) + listener.poll(0.2) == [
            {"registry": "default", "version": 1},
            {"registry": "default", "version": 2},
            {"registry": "default", "version": 3},
        ]
        refused = [
            (ValidationError, lambda: store.upsert_profile("default", {"slug": "bad", "runtime": {"tools": [""]}})),
            (VersionConflictError, lambda: store.upsert_profile(
                "default", {"slug": "agent"}, WriteOptions(expected_version=9))),
            (VersionConflictError, lambda: service.create_profile("default", {"slug": "agent"})),
            (PolicyViolationError, lambda: service.update_profile("default", "locked", {"display_name": "x"})),
            (NotFoundError, lambda: store.delete_profile("default", "ghost")),
        ]
        for error, write in refused:
            with pytest.raises(error):
                write()
        assert listener.poll(0.5) == []
        store.delete_registry("default")
        assert listener.poll(2.0) == [{"registry": "default", "version": 0}]


def test_a_listener_hears_writes_of_other_processes(pg_database_spec):
    with open_store(pg_database_spec) as store, store.listen() as listener:
        made = run_cli("registry", "create", "team", "--store", pg_database_spec)
        assert made.returncode == 0, made.stderr
        assert listener.poll(5.0) == [{"registry": "team", "version": 1}]
        assert store.registry_version("team") == 1


# ---- connection specs, passwords, the extra --------------------------------------------------
def test_redacted_urls_have_no_password():
    assert redacted("postgresql://bob:s3cret@db.example:5432/reg?sslmode=require") == \
        "postgresql://bob@db.example:5432/reg?sslmode=require"
    assert "s3cret" not in redacted("postgres://db.example/reg?password=s3cret&schema=x")
    assert split_spec("postgresql://h/db?schema=team&sslmode=disable") == ("postgresql://h/db?sslmode=disable", "team")
    assert split_spec("postgresql://h/db") == ("postgresql://h/db", "public")


def test_a_password_never_appears_in_output(pg_server_url, pg_spec):
    parts = urlsplit(pg_server_url)
    with_password = pg_spec.replace(f"{parts.scheme}://profreg@", f"{parts.scheme}://profreg:s3cret-pw@", 1)
    assert "s3cret-pw" in with_password
    made = run_cli("registry", "create", "team", "--store", with_password)  # trust auth: the password is unused
    assert made.returncode == 0 and "s3cret-pw" not in made.stdout + made.stderr
    validated = run_cli("validate", "--store", with_password, "--format", "json")
    assert validated.returncode == 0 and "s3cret-pw" not in validated.stdout + validated.stderr
    assert json.loads(validated.stdout)["files"][0]["path"].endswith("[team]")
    missing = pg_url_with(with_password, database="no_such_database")
    for argv in (["list", "--store", missing], ["registry", "create", "x", "--store", missing]):
        result = run_cli(*argv)
        assert result.returncode == 6, result.stderr
        assert len(result.stderr.splitlines()) == 1 and "no_such_database" in result.stderr
        assert "s3cret-pw" not in result.stdout + result.stderr
    via_env = run_cli("list", "--store", missing.replace("profreg:s3cret-pw@", "profreg@"),
                      env={"PGPASSWORD": "s3cret-pw"})
    assert via_env.returncode == 6 and "s3cret-pw" not in via_env.stderr


def test_without_the_extra_a_postgres_spec_is_one_line_saying_what_to_install(pg_spec):
    blocker = ("import sys; sys.modules['psycopg'] = None; sys.argv = ['profreg', 'list', '--store', sys.argv[1]]; "
               "from profreg.cli import main; main()")
    result = subprocess.run([sys.executable, "-c", blocker, pg_spec], capture_output=True, text=True, timeout=60)
    assert result.returncode == 6
    assert result.stderr.splitlines() == [
        "profreg: a PostgreSQL store needs the `postgres` extra (psycopg 3): pip install 'profreg[postgres]'"
    ]
