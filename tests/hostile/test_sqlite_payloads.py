"""Issue 13 items 5 and 11: a hostile SQLite row fails only its own registry, the same way
for every command; payloads are bounded (size, nesting, nodes) before they are built."""
from __future__ import annotations

import json
import sqlite3

import pytest

from profreg.stores import open_store
from tests.cli.cli_inprocess import profreg

GOOD = {"slug": "good", "default_profile_slug": "a", "profiles": {"a": {"slug": "a"}}}


def _nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = {"k": value}
    return value


def _registry_with_config(config: object, slug: str = "deep") -> dict:
    return {"slug": slug, "default_profile_slug": "a",
            "profiles": {"a": {"slug": "a", "runtime": {"middlewares": [{"name": "m", "config": config}]}}}}


def _database(tmp_path, rows: dict[str, str | None], not_null: bool = True) -> str:
    """A store holding GOOD plus raw rows (payload text, or None for NULL)."""
    path = tmp_path / "store.db"
    conn = sqlite3.connect(path)
    # a table as another implementation may have made it: payload_json may be NULL
    conn.execute("CREATE TABLE profile_registries (slug TEXT PRIMARY KEY, payload_json TEXT"
                 f"{' NOT NULL' if not_null else ''}, updated_at_ms INTEGER NOT NULL DEFAULT 0)")
    conn.execute("INSERT INTO profile_registries (slug, payload_json) VALUES (?, ?)", ["good", json.dumps(GOOD)])
    for slug, payload in rows.items():
        conn.execute("INSERT INTO profile_registries (slug, payload_json) VALUES (?, ?)", [slug, payload])
    conn.commit()
    conn.close()
    return str(path)


def _assert_only_that_registry_fails(db: str, slug: str, reason: str) -> None:
    listed = profreg("list", "--store", db, "--format", "json")
    assert listed.code == 6, listed
    assert [row["slug"] for row in json.loads(listed.out)] == ["good"]
    assert f"registry '{slug}' is corrupt" in listed.err and reason in listed.err
    assert "Traceback" not in listed.err
    for args in (("show", slug), ("resolve", f"{slug}/a"), ("list", slug)):
        result = profreg(*args, "--store", db)
        assert result.code == 6, (args, result)
        assert reason in result.err and "Traceback" not in result.err
        assert len(result.err.strip().splitlines()) == 1
    validated = profreg("validate", "--store", db, "--format", "json")
    assert validated.code == 1, validated
    files = {f["path"]: f for f in json.loads(validated.out)["files"]}
    assert files[f"{db}[good]"]["valid"] and not files[f"{db}[{slug}]"]["valid"]
    assert profreg("show", "good/a", "--store", db, "--format", "json").code == 0


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_json_fails_only_its_registry(tmp_path, depth):
    payload = '{"slug": "deep", "profiles": {"a": {"metadata": ' + "[" * depth + "]" * depth + "}}}"
    db = _database(tmp_path, {"deep": payload})
    _assert_only_that_registry_fails(db, "deep", "nests deeper than the limit")


def test_a_valid_config_600_levels_deep_is_refused_at_decoding_not_crashing_show(tmp_path):
    db = _database(tmp_path, {"deep": json.dumps(_registry_with_config(_nested(600)))})
    _assert_only_that_registry_fails(db, "deep", "nests deeper than the limit of 256 levels")


def test_nesting_at_the_limit_works_in_every_command(tmp_path):
    registry = _registry_with_config(_nested(240))
    db = _database(tmp_path, {"deep": json.dumps(registry)})
    for args in (("show", "deep"), ("show", "deep/a", "--format", "yaml"), ("resolve", "deep/a"),
                 ("list", "deep"), ("validate",)):
        result = profreg(*args, "--store", db)
        assert result.code == 0, (args, result)
        assert "Traceback" not in result.err and "deep" not in result.err, (args, result.err)
    shown = json.loads(profreg("show", "deep/a", "--store", db, "--format", "json").out)
    assert shown["runtime"]["middlewares"][0]["config"] == _nested(240)


def test_a_payload_over_the_size_limit_is_not_read(tmp_path, monkeypatch):
    big = _registry_with_config("x" * 5_000, slug="big")
    db = _database(tmp_path, {"big": json.dumps(big)})
    monkeypatch.setenv("PROFREG_MAX_BYTES", "4000")
    _assert_only_that_registry_fails(db, "big", "over the limit of 4000")


def test_a_payload_over_the_node_limit_fails_only_its_registry(tmp_path, monkeypatch):
    many = _registry_with_config(list(range(2_000)), slug="many")
    db = _database(tmp_path, {"many": json.dumps(many)})
    monkeypatch.setenv("PROFREG_MAX_NODES", "1000")
    _assert_only_that_registry_fails(db, "many", "node limit")


def test_an_integer_over_4300_digits_fails_only_its_registry(tmp_path):
    db = _database(tmp_path, {"huge": json.dumps(_registry_with_config(0, slug="huge")).replace(
        '"config": 0', '"config": ' + "9" * 5_000)})
    _assert_only_that_registry_fails(db, "huge", "not JSON")


def test_a_null_payload_is_corrupt_for_every_command(tmp_path):
    db = _database(tmp_path, {"nul": None}, not_null=False)
    _assert_only_that_registry_fails(db, "nul", "payload is NULL")
    with open_store(db) as store:
        with pytest.raises(Exception, match="payload is NULL"):
            store.upsert_profile("nul", {"slug": "b"})
        store.import_registry({"slug": "nul"})  # an import replaces it, as for any corrupt row
        assert store.get_registry("nul")["profiles"] == {}
