"""`profreg migrate` with PostgreSQL: every direction between YAML, SQLite and PostgreSQL keeps
all metadata; SQLite <-> PostgreSQL carries the history along."""
from __future__ import annotations

import pytest

from profreg.stores import WriteOptions, open_store
from tests.cli.cli_inprocess import fails, ok
from tests.conftest import pg_url_with


def snapshot(spec: str):
    with open_store(spec) as store:
        registries = store.list_registries()
        history = {r["slug"]: store.history(r["slug"]) for r in registries} if not spec.endswith(".yaml") else None
    return registries, history


@pytest.fixture
def source(tmp_path) -> str:
    """A SQLite store with history: versions, authors, sources, tags, a deleted registry."""
    spec = f"sqlite:{tmp_path / 'src.db'}"
    with open_store(spec) as store:
        store.upsert_registry({"slug": "default", "metadata": {"tags": ["prod"]}}, WriteOptions(actor="ann"))
        store.upsert_profile("default", {"slug": "agent", "runtime": {"tools": ["t"]}},
                             WriteOptions(actor="ann", source="seed"))
        store.upsert_profile("default", {"slug": "agent", "display_name": "Agent", "metadata": {"tags": ["x"]}},
                             WriteOptions(actor="bob"))
        store.upsert_registry({"slug": "team", "display_name": "Team"}, WriteOptions(actor="cy", source="api"))
    return spec


def test_every_direction_keeps_all_metadata_and_sql_stores_keep_history(source, tmp_path, pg_test_database):
    original, history = snapshot(source)
    pg_a = pg_url_with(pg_test_database, schema=f"migrate_a_{tmp_path.name[-8:]}".replace("-", "_"))
    pg_b = pg_url_with(pg_test_database, schema=f"migrate_b_{tmp_path.name[-8:]}".replace("-", "_"))
    yaml_path, back_db = str(tmp_path / "copy.yaml"), f"sqlite:{tmp_path / 'back.db'}"
    chain = [source, pg_a, yaml_path, pg_b, back_db]  # SQLite -> PG -> YAML -> PG -> SQLite
    for src, dest in zip(chain, chain[1:]):
        ok("migrate", src, dest)
        assert snapshot(dest)[0] == original, (src, dest)
    assert snapshot(pg_a)[1] == history  # SQLite -> PostgreSQL: the history came along
    # from YAML there is no history to copy: each registry's history starts with its copy
    assert {slug: [row["version"] for row in rows] for slug, rows in snapshot(pg_b)[1].items()} == \
        {"default": [3], "team": [1]}
    ok("migrate", pg_a, f"sqlite:{tmp_path / 'direct.db'}")  # PostgreSQL -> SQLite, history too
    assert snapshot(f"sqlite:{tmp_path / 'direct.db'}") == (original, history)
    pg_c = pg_url_with(pg_test_database, schema=f"migrate_c_{tmp_path.name[-8:]}".replace("-", "_"))
    ok("migrate", pg_a, pg_c)  # PostgreSQL -> PostgreSQL
    assert snapshot(pg_c) == (original, history)


def test_a_non_empty_postgres_destination_needs_force(source, pg_spec):
    ok("migrate", source, pg_spec)
    fails(2, "migrate", source, pg_spec)
    ok("migrate", source, pg_spec, "--force", "--registry", "team")
    assert [r["slug"] for r in snapshot(pg_spec)[0]] == ["team"]


def test_migrate_messages_never_show_a_password(source, pg_spec):
    with_password = pg_spec.replace("postgresql://profreg@", "postgresql://profreg:pw-s3cret@", 1)
    dry = ok("migrate", source, with_password, "--dry-run")
    done = ok("migrate", source, with_password)
    again = fails(2, "migrate", source, with_password)
    for result in (dry, done, again):
        assert "pw-s3cret" not in result.out + result.err
