"""Store specs (SPEC section 4): which backend a spec opens."""
from __future__ import annotations

import pytest

from profreg.errors import UsageError
from profreg.stores import open_store, store_kind
from profreg.stores.memory import MemoryStore
from profreg.stores.sqlite import SqliteStore
from profreg.stores.yamlfile import YamlFileStore


@pytest.mark.parametrize(
    "spec, kind",
    [
        ("a.yaml", "yaml"), ("dir/a.YML", "yaml"), ("yaml:store", "yaml"), ("yaml:a.db", "yaml"),
        ("a.db", "sqlite"), ("a.sqlite", "sqlite"), ("a.sqlite3", "sqlite"), ("sqlite:a.yaml", "sqlite"),
        ("memory:", "memory"), ("postgresql://db.example/registries", "postgres"), ("postgres://h/db", "postgres"),
        ("PostgreSQL://h/db", "postgres"),
    ],
)
def test_spec_kinds(spec, kind):
    assert store_kind(spec)[0] == kind


@pytest.mark.parametrize("spec", ["", "a.json", "store", "yaml:", "sqlite:", "postgres:x", "pgsql://x"])
def test_unknown_specs_are_usage_errors(spec):
    with pytest.raises(UsageError) as raised:
        open_store(spec)
    assert raised.value.exit_code == 2


def test_open_store_picks_the_backend(tmp_path):
    assert isinstance(open_store("memory:"), MemoryStore)
    assert isinstance(open_store(str(tmp_path / "a.yaml")), YamlFileStore)
    assert isinstance(open_store(f"yaml:{tmp_path / 'plain'}"), YamlFileStore)
    assert isinstance(open_store(str(tmp_path / "a.sqlite3")), SqliteStore)


def test_must_exist_refuses_a_missing_sqlite_file_and_creates_nothing(tmp_path):
    path = tmp_path / "missing.db"
    with pytest.raises(UsageError):
        open_store(str(path), must_exist=True)
    assert not path.exists()
