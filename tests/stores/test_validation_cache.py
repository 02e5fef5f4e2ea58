"""The YAML store skips re-validating bytes that validated before, and only those."""
from __future__ import annotations

import ast
import os
import pathlib

import pytest

import profreg.engine
from profreg.stores import validcache
from profreg.errors import StoreError
from profreg.stores import open_store
from tests.stores.conftest import two_resolves

VALID = b"slug: default\ndefault_profile_slug: agent\nprofiles:\n  agent: {runtime: {tools: [search]}}\n"
LEGACY = b"default:\n  ai-chat:\n    ai-engine: gpt-4o-mini\n"


def test_valid_bytes_are_remembered_with_their_form(tmp_path, cache_dir):
    path = tmp_path / "profiles.yaml"
    path.write_bytes(VALID)
    assert validcache.lookup(VALID) is None
    with open_store(str(path)) as store:
        assert store.get_profile("default", "agent")["runtime"]["tools"] == ["search"]
    assert validcache.lookup(VALID) == "single"
    path.write_bytes(LEGACY)
    with open_store(str(path)) as store:
        assert [r["slug"] for r in store.list_registries()] == ["default"]
    assert validcache.lookup(LEGACY) == "legacy"


def test_changed_bytes_are_validated_again(tmp_path, cache_dir):
    path = tmp_path / "profiles.yaml"
    path.write_bytes(VALID)
    open_store(str(path)).close()
    broken = VALID.replace(b"default_profile_slug: agent", b"default_profile_slug: ghost")
    path.write_bytes(broken)
    with pytest.raises(StoreError, match="default-profile-unknown"):
        open_store(str(path))
    assert validcache.lookup(broken) is None


def test_invalid_bytes_are_never_remembered(tmp_path, cache_dir):
    path = tmp_path / "profiles.yaml"
    broken = b"slug: Default\n"
    path.write_bytes(broken)
    for _ in range(2):
        with pytest.raises(StoreError):
            open_store(str(path))
    assert not cache_dir.exists() or not any(cache_dir.rglob("*"))


def test_empty_setting_turns_the_cache_off(tmp_path, monkeypatch):
    monkeypatch.setenv("PROFREG_CACHE_DIR", "")
    path = tmp_path / "profiles.yaml"
    path.write_bytes(VALID)
    open_store(str(path)).close()
    assert validcache.lookup(VALID) is None


def test_an_unwritable_cache_is_ignored(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("PROFREG_CACHE_DIR", str(blocker))
    path = tmp_path / "profiles.yaml"
    path.write_bytes(VALID)
    with open_store(str(path)) as store:
        assert store.get_registry("default")["default_profile_slug"] == "agent"
    assert validcache.lookup(VALID) is None


def test_a_warm_resolve_does_not_load_the_validator(tmp_path, cache_dir):
    path = tmp_path / "profiles.yaml"
    path.write_bytes(VALID)
    outputs, (cold, warm) = two_resolves(str(path), cache_dir, ('jsonschema', 'profreg.validation'))
    assert outputs[0] == outputs[1]
    assert "jsonschema_rs" in cold
    assert "jsonschema_rs" not in warm


def test_a_warm_resolve_loads_neither_the_yaml_parser_nor_the_engines_stages(tmp_path, cache_dir):
    """What a resolve served from the compiled form needs: no PyYAML, no reader, no run."""
    path = tmp_path / "profiles.yaml"
    path.write_bytes(VALID)
    outputs, (cold, warm) = two_resolves(str(path), cache_dir, ('yaml', 'ruamel', 'profreg.engine.'))
    assert outputs[0] == outputs[1]
    assert {"yaml", "profreg.engine.reader", "profreg.engine.run"} <= set(cold)
    assert warm == ["profreg.engine.report"]


def test_the_key_covers_every_module_the_engine_imports():
    """A change to any module a verdict depends on must miss the cache (a fix to message
    masking in `secrets.py` once kept serving the old messages' verdicts)."""
    imported = set()
    for path in pathlib.Path(profreg.engine.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 2 and node.module:
                imported.add(node.module.split(".")[0])
    assert imported == set(validcache.ENGINE_DEPENDENCIES)
    covered = {os.path.basename(p) for p in validcache._engine_files()}
    assert {f"{name}.py" for name in imported} <= covered
