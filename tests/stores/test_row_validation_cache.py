"""The SQL stores skip re-validating a registry row whose exact payload validated before, and only those."""
from __future__ import annotations

import json
import sqlite3

import pytest

from profreg.errors import StoreError
from profreg.stores import open_store, validcache
from tests.stores.conftest import two_resolves

VALID = {"slug": "default", "default_profile_slug": "agent", "profiles": {"agent": {"slug": "agent"}}}
INVALID = {"slug": "default", "default_profile_slug": "ghost", "profiles": {"agent": {"slug": "agent"}}}


def database(path, payload: dict | str) -> str:
    """A SQLite store whose row `default` was written by someone else (not through a store)."""
    with open_store(str(path)) as store:
        store.upsert_registry({"slug": "other"})  # creates the tables
    text = payload if isinstance(payload, str) else json.dumps(payload)
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT OR REPLACE INTO profile_registries (slug, payload_json, updated_at_ms) VALUES (?, ?, 0)",
                     ["default", text])
    return text


def test_a_row_read_valid_is_remembered_with_its_slug(tmp_path, cache_dir):
    text = database(tmp_path / "r.db", VALID)
    assert not validcache.row_validated("default", text)
    with open_store(str(tmp_path / "r.db")) as store:
        assert store.get_profile("default", "agent")["slug"] == "agent"
    assert validcache.row_validated("default", text)
    assert not validcache.row_validated("elsewhere", text)  # the same payload under another slug
    assert validcache.lookup(text.encode()) is None  # nor is it a file's marker


def test_a_changed_row_is_validated_again_and_an_invalid_one_never_remembered(tmp_path, cache_dir):
    path = tmp_path / "r.db"
    database(path, VALID)
    open_store(str(path)).get_registry("default")
    broken = database(path, INVALID)
    for _ in range(2):
        with open_store(str(path)) as store:
            with pytest.raises(StoreError, match="'default'.*is corrupt: payload is invalid"):
                store.get_registry("default")
            assert store.get_registry("other")["slug"] == "other"  # only its own registry fails
    assert not validcache.row_validated("default", broken)


def test_a_write_remembers_the_row_it_wrote(tmp_path, cache_dir):
    with open_store(str(tmp_path / "w.db")) as store:
        store.upsert_registry(VALID)
    with sqlite3.connect(tmp_path / "w.db") as conn:
        (text,) = conn.execute("SELECT payload_json FROM profile_registries WHERE slug = 'default'").fetchone()
    assert validcache.row_validated("default", text)


def test_empty_setting_turns_the_row_cache_off(tmp_path, monkeypatch):
    monkeypatch.setenv("PROFREG_CACHE_DIR", "")
    text = database(tmp_path / "r.db", VALID)
    open_store(str(tmp_path / "r.db")).get_registry("default")
    assert not validcache.row_validated("default", text)
    monkeypatch.setenv("PROFREG_CACHE_DIR", str(tmp_path / "cache"))
    assert not validcache.row_validated("default", text)


def test_a_warm_read_of_a_database_does_not_load_the_validator(tmp_path, cache_dir):
    path = tmp_path / "r.db"
    database(path, VALID)
    outputs, (cold, warm) = two_resolves(str(path), cache_dir, ('jsonschema', 'yaml', 'profreg.engine.'))
    assert outputs[0] == outputs[1]
    assert outputs[1]["profile"] == "agent"
    assert "jsonschema_rs" in cold and "profreg.engine.run" in cold
    # nor the YAML parser and the engine's stages: only the report's wording is loaded
    assert warm == ["profreg.engine.report"]
