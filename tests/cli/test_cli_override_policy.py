"""SPEC 2: a profile with no `policy`, or without `allow_overrides`, accepts no request overrides.

As in the Go implementation, whose SQLite databases profreg shares: a store never has to
write the field for the two to agree.
"""
from __future__ import annotations

import json
import sqlite3

import pytest

from profreg.schemafile import load_schema
from tests.cli.cli_inprocess import profreg


def test_schema_default_is_closed():
    policy = load_schema()["$defs"]["policy"]["properties"]["allow_overrides"]
    assert policy["default"] is False


@pytest.mark.parametrize("suffix", ["yaml", "db"])
def test_a_profile_created_without_a_policy_refuses_overrides(tmp_path, suffix):
    store = str(tmp_path / f"reg.{suffix}")
    assert profreg("registry", "create", "default", "--store", store).code == 0
    assert profreg("profile", "create", "default/locked", "--tool", "a", "--store", store).code == 0
    result = profreg("resolve", "locked", "--set", "tools=[x]", "--store", store)
    assert result.code == 4, result
    assert "does not allow request overrides" in result.err
    # without overrides it resolves
    assert json.loads(profreg("resolve", "locked", "--store", store).out)["effective_runtime"]["tools"] == ["a"]


def test_a_go_written_payload_without_policy_refuses_overrides(tmp_path):
    db = tmp_path / "go.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE profile_registries (slug TEXT PRIMARY KEY, payload_json TEXT NOT NULL, "
                 "updated_at_ms INTEGER NOT NULL DEFAULT 0)")
    payload = {"slug": "default", "default_profile_slug": "p",
               "profiles": {"p": {"slug": "p", "runtime": {"tools": ["a"]}, "policy": {"read_only": False}},
                            "open": {"slug": "open", "policy": {"allow_overrides": True}}}}
    conn.execute("INSERT INTO profile_registries VALUES (?, ?, 0)", ["default", json.dumps(payload)])
    conn.commit()
    conn.close()
    assert profreg("resolve", "p", "--set", "tools=[x]", "--store", str(db)).code == 4
    opened = profreg("resolve", "open", "--set", "tools=[x]", "--store", str(db))
    assert opened.code == 0 and json.loads(opened.out)["effective_runtime"]["tools"] == ["x"]
