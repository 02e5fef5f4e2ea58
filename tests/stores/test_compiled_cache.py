"""The compiled form of a validated YAML store (issue 11): bytes seen valid before open
without being parsed or validated; a write leaves its own bytes compiled; a bad entry is a
miss, never an error or wrong data; the cache folder is bounded (least recently used go)."""
from __future__ import annotations

import os
from unittest import mock

import pytest

from profreg.stores import WriteOptions, open_store
from profreg.stores.yamlfile import store as yamlstore
from profreg.stores.yamlfile import validcache

from tests.stores.test_validation_cache import VALID, cache_dir  # noqa: F401  (the fixture: a private cache folder)


def _opened_without_parsing(path) -> dict:
    with mock.patch.object(yamlstore, "parse", wraps=yamlstore.parse) as parsed, \
            mock.patch.object(yamlstore, "validate_text", wraps=yamlstore.validate_text) as validated:
        with open_store(str(path)) as store:
            registry = store.get_registry("default")
        assert (parsed.call_count, validated.call_count) == (0, 0)
    return registry


def test_bytes_seen_valid_open_without_parsing(tmp_path, cache_dir):
    path = tmp_path / "profiles.yaml"
    path.write_bytes(VALID)
    with open_store(str(path)) as store:
        first = store.get_registry("default")
    assert validcache.lookup_compiled(VALID) == ("single", {"default": first})
    assert _opened_without_parsing(path) == first


def test_a_write_after_a_compiled_open_keeps_the_file_and_is_compiled_itself(tmp_path, cache_dir):
    path = tmp_path / "profiles.yaml"
    path.write_bytes(b"# my comment\n" + VALID)
    open_store(str(path)).close()
    with open_store(str(path)) as store:  # from the compiled form: the write parses what it needs
        store.upsert_profile("default", {"slug": "helper", "runtime": {"system_prompt": "hi"}}, WriteOptions())
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# my comment\nslug: default\n") and "helper" in text
    assert _opened_without_parsing(path)["profiles"]["helper"]["runtime"]["system_prompt"] == "hi"


@pytest.mark.parametrize("damage", ["truncate", "flip", "header", "garbage"])
def test_a_bad_entry_is_a_miss(tmp_path, cache_dir, damage):
    path = tmp_path / "profiles.yaml"
    path.write_bytes(VALID)
    open_store(str(path)).close()
    entry = next((cache_dir / "compiled").rglob("*"))
    while entry.is_dir():
        entry = next(entry.iterdir())
    content = entry.read_bytes()
    entry.write_bytes({"truncate": content[:-10], "flip": content[:-3] + b"X" + content[-2:],
                       "header": b"profreg-compiled 1 x y\n" + content.split(b"\n", 1)[1],
                       "garbage": b"\x00\xff" * 40}[damage])
    assert validcache.lookup_compiled(VALID) is None
    with open_store(str(path)) as store:  # read and validated again, correctly
        assert store.get_profile("default", "agent")["runtime"]["tools"] == ["search"]


def test_the_cache_folder_is_bounded(tmp_path, cache_dir):
    for i in range(12):
        raw = VALID.replace(b"search", f"tool-{i}".encode())
        validcache.remember(raw, "single")
        validcache.remember_compiled(raw, "single", {"default": {"slug": "default", "profiles": {}}})
    files = [p for p in cache_dir.rglob("*") if p.is_file()]
    assert len(files) == 24
    newest = max(files, key=lambda p: p.stat().st_mtime_ns)
    validcache.prune(str(cache_dir), max_entries=10)
    left = [p for p in cache_dir.rglob("*") if p.is_file()]
    assert len(left) == 10
    assert newest in left
    validcache.prune(str(cache_dir), max_bytes=1)
    assert [p for p in cache_dir.rglob("*") if p.is_file()] == []
