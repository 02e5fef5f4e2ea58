"""`profreg migrate`: legacy -> YAML, YAML -> SQLite, SQLite -> YAML, metadata kept."""
from __future__ import annotations

import json
import os
import stat

import pytest

from tests.cli.cli_inprocess import profreg
from profreg.stores import open_store

LEGACY = "default:\n  ai-chat:\n    ai-engine: gpt\nfast:\n  ai-chat:\n    ai-engine: mini\n"


def ok(*args):
    result = profreg(*args)
    assert result.code == 0, result.err
    return result


def registries(spec):
    with open_store(str(spec), must_exist=True) as store:
        return store.list_registries()


@pytest.fixture
def populated(tmp_path):
    """A YAML store with history: versions, authors, tags, two registries."""
    path = tmp_path / "src.yaml"
    spec = str(path)
    ok("registry", "create", "default", "--store", spec, "--actor", "ann")
    ok("profile", "create", "agent", "--store", spec, "--tool", "t", "--actor", "ann", "--source", "seed")
    ok("profile", "update", "agent", "--store", spec, "--display-name", "Agent", "--actor", "bob")
    ok("registry", "create", "team", "--store", spec, "--display-name", "Team")
    return path


def test_legacy_to_registry_yaml(tmp_path):
    src, dest = tmp_path / "old.yaml", tmp_path / "new.yaml"
    src.write_text(LEGACY)
    ok("migrate", str(src), str(dest))
    [registry] = registries(dest)
    assert registry["slug"] == "default" and registry["default_profile_slug"] == "default"
    assert registry["profiles"]["fast"]["runtime"]["step_settings_patch"] == {"ai-chat": {"ai-engine": "mini"}}
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o600  # new files are private
    # the result is a registry document, not legacy: it validates without a legacy warning
    validated = profreg("validate", str(dest), "--format", "json")
    assert validated.code == 0 and json.loads(validated.out)["files"][0]["diagnostics"] == []


def test_legacy_with_registry_slug(tmp_path):
    src, dest = tmp_path / "old.yaml", tmp_path / "new.db"
    src.write_text(LEGACY)
    ok("migrate", str(src), str(dest), "--registry", "Team")
    assert [r["slug"] for r in registries(dest)] == ["team"]


def test_yaml_to_sqlite_to_yaml_keeps_all_metadata(populated, tmp_path):
    db, back = tmp_path / "s.db", tmp_path / "back.yaml"
    original = registries(populated)
    ok("migrate", str(populated), str(db))
    assert registries(db) == original
    ok("migrate", str(db), str(back))
    assert registries(back) == original
    agent = original[0]["profiles"]["agent"]["metadata"]
    assert (agent["version"], agent["created_by"], agent["updated_by"]) == (2, "ann", "bob")


def test_a_non_empty_destination_needs_force(populated, tmp_path):
    dest = tmp_path / "dest.yaml"
    dest.write_text("# my notes\n")
    result = profreg("migrate", str(populated), str(dest))
    assert result.code == 2 and "--force" in result.err
    assert dest.read_text() == "# my notes\n"
    ok("migrate", str(populated), str(dest), "--force")
    assert registries(dest) == registries(populated)


def test_force_replaces_sqlite_content(populated, tmp_path):
    db = tmp_path / "dest.db"
    ok("registry", "create", "stale", "--store", str(db))
    assert profreg("migrate", str(populated), str(db)).code == 2
    ok("migrate", str(populated), str(db), "--force")
    assert [r["slug"] for r in registries(db)] == ["default", "team"]


def test_an_empty_sqlite_destination_is_fine(populated, tmp_path):
    db = tmp_path / "dest.db"
    ok("registry", "create", "tmp", "--store", str(db))
    ok("registry", "delete", "tmp", "--store", str(db))
    ok("migrate", str(populated), str(db))


def test_dry_run_prints_and_writes_nothing(populated, tmp_path):
    dest = tmp_path / "dest.yaml"
    result = ok("migrate", str(populated), str(dest), "--dry-run")
    assert not dest.exists()
    import yaml

    document = yaml.safe_load(result.out)
    assert sorted(document["registries"]) == ["default", "team"]
    assert document["registries"]["default"]["profiles"]["agent"]["metadata"]["version"] == 2
    db_result = ok("migrate", str(populated), str(tmp_path / "d.db"), "--dry-run")
    assert sorted(json.loads(db_result.out)["registries"]) == ["default", "team"]
    assert not (tmp_path / "d.db").exists()


def test_registry_option_selects_one_registry_of_a_bundle(populated, tmp_path):
    dest = tmp_path / "team.db"
    ok("migrate", str(populated), str(dest), "--registry", "team")
    assert [r["slug"] for r in registries(dest)] == ["team"]
    assert profreg("migrate", str(populated), str(tmp_path / "x.db"), "--registry", "nope").code == 3


def test_strings_yaml_12_would_misread_survive(tmp_path):
    src, dest = tmp_path / "src.db", tmp_path / "dest.yaml"
    ok("registry", "create", "default", "--store", str(src))
    ok("profile", "create", "no", "--store", str(src), "--system-prompt", "1e3", "--tool", "0o17", "--tool", "<<")
    ok("migrate", str(src), str(dest))
    assert registries(dest) == registries(src)


@pytest.mark.parametrize(
    "args, code",
    [
        (("missing.yaml", "out.yaml"), 2),
        (("src.yaml", "src.yaml"), 2),
        (("src.yaml", "out.txt"), 2),
        (("src.yaml", "memory:"), 2),
        (("broken.yaml", "out.yaml"), 6),
    ],
)
def test_bad_arguments(tmp_path, monkeypatch, args, code):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "src.yaml").write_text("slug: default\n")
    (tmp_path / "broken.yaml").write_text("slug: default\nprofiles: [\n")
    result = profreg("migrate", *args)
    assert result.code == code, result.err
    assert len(result.err.splitlines()) == 1
    assert not (tmp_path / "out.yaml").exists()


def test_force_over_corrupt_sqlite_rows(populated, tmp_path):
    import sqlite3

    db = tmp_path / "dest.db"
    ok("registry", "create", "default", "--store", str(db))
    ok("registry", "create", "junk", "--store", str(db))
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE profile_registries SET payload_json = '[' WHERE slug IN ('default', 'junk')")
    assert profreg("migrate", str(populated), str(db)).code == 2  # holds data: needs --force
    ok("migrate", str(populated), str(db), "--force")  # corrupt rows replaced or removed
    assert registries(db) == registries(populated)
    with open_store(str(db), must_exist=True) as store:
        assert store.corrupt_registries() == [] and store.registry_slugs() == ["default", "team"]


def test_a_yaml_destination_is_written_under_the_yaml_store_lock(populated, tmp_path):
    """migrate serialises with store writers: while one holds the lock it waits, then gives up."""
    from profreg.stores.yamlfile import files as yamlfile

    dest = tmp_path / "out.yaml"
    with yamlfile.file_lock(os.path.realpath(dest)):  # what a store writer in another process holds
        result = profreg("migrate", str(populated), str(dest), "--lock-timeout", "0.2")
    assert result.code == 6 and "locked" in result.err, result.err
    assert not dest.exists()
    ok("migrate", str(populated), str(dest))
    assert registries(dest) == registries(populated)
