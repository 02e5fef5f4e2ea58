"""The compiled form of a validated YAML store (issue 11): bytes seen valid before open
without being parsed or validated; a write leaves its own bytes compiled; a bad entry is a
miss, never an error or wrong data; the cache folder is bounded (least recently used go)."""
from __future__ import annotations

import gc
import hashlib
import marshal
import os
from unittest import mock

import pytest

from profreg.errors import NotFoundError
from profreg.stores import WriteOptions, open_store
from profreg.stores.yamlfile import store as yamlstore
from profreg.stores import validcache

from tests.stores.test_validation_cache import VALID


def _opened_without_parsing(path) -> dict:
    with mock.patch.object(yamlstore.engine, "read_for_store", wraps=yamlstore.engine.read_for_store) as read, \
            mock.patch.object(yamlstore.engine, "validate_text", wraps=yamlstore.engine.validate_text) as validated:
        with open_store(str(path)) as store:
            registry = store.get_registry("default")
        assert (read.call_count, validated.call_count) == (0, 0)
    return registry


def test_bytes_seen_valid_open_without_parsing(tmp_path, cache_dir):
    path = tmp_path / "profiles.yaml"
    path.write_bytes(VALID)
    with open_store(str(path)) as store:
        first = store.get_registry("default")
    compiled = validcache.lookup_compiled(VALID)
    assert (compiled.form, compiled.registries()) == ("single", {"default": first})
    assert _opened_without_parsing(path) == first


def test_one_profile_is_read_from_the_compiled_form_without_the_others(tmp_path, cache_dir):
    path = tmp_path / "profiles.yaml"
    raw = VALID + b"  helper:\n    runtime: {system_prompt: hi, tools: [a]}\n"
    path.write_bytes(raw)
    with open_store(str(path)) as store:
        whole = store.get_registry("default")
    with mock.patch.object(validcache.CompiledStore, "registries", side_effect=AssertionError("decoded all")), \
            mock.patch.object(yamlstore.engine, "read_for_store", side_effect=AssertionError("parsed")):
        with open_store(str(path)) as store:
            assert store.get_profile("default", "helper") == whole["profiles"]["helper"]
            assert store.get_profile("default", "agent") == whole["profiles"]["agent"]
            fields = store.registry_fields("default")
            assert {k: v for k, v in fields.items() if k != "profiles"} == {
                k: v for k, v in whole.items() if k != "profiles"}
            view = store.registry_view("default")
            assert store.registry_view("default") is view  # the same object while unchanged
            assert sorted(view["profiles"]) == ["agent", "helper"] and len(view["profiles"]) == 2
            assert "helper" in view["profiles"] and "nobody" not in view["profiles"]
            assert view["profiles"]["helper"] == whole["profiles"]["helper"]
            for missing in (lambda: store.get_profile("default", "nobody"), lambda: store.get_profile("other", "a"),
                            lambda: store.registry_fields("other"), lambda: store.registry_view("other")):
                with pytest.raises(NotFoundError):
                    missing()
    with open_store(str(path)) as store:  # a copy: changing it changes nothing held
        store.get_profile("default", "agent")["runtime"]["tools"].append("x")
        assert store.get_registry("default") == whole


def _rewrite_entry(cache_dir, profiles: dict, garble: int = 0) -> None:
    """Replace the one compiled entry with one recording `profiles` (the last `garble` bytes
    of its last profile made bytes marshal has no meaning for), its header and digest in
    order: as no profreg writes it."""
    entry = next(p for p in (cache_dir / "compiled").rglob("*") if p.is_file())
    key = entry.read_bytes().split(b" ", 4)[3].decode()
    body, index = validcache._compiled_body("single", {"default": {
        "slug": "default", "default_profile_slug": "agent", "profiles": None} | {"profiles": profiles}})
    if garble:
        body = body[:-garble] + b"\x01" * garble
    header = validcache._COMPILED_HEADER.format(python=validcache._PYTHON, key=key,
                                                digest=hashlib.sha256(body).hexdigest(), index=index)
    entry.write_bytes(header.encode() + body)


@pytest.mark.parametrize("recorded", ["not an object", "garbled"])
def test_a_profile_that_does_not_decode_is_read_from_the_file(tmp_path, cache_dir, recorded):
    """An entry whose digest and index check out but whose profile is not an object, or
    does not decode (written by no profreg): the file itself is read, never the entry's
    word taken."""
    path = tmp_path / "profiles.yaml"
    path.write_bytes(VALID)
    with open_store(str(path)) as store:
        whole = store.get_registry("default")
    if recorded == "not an object":
        _rewrite_entry(cache_dir, {"agent": ["runtime", {"tools": ["search"]}]})
    else:
        profile = {"runtime": {"tools": ["search"]}}
        _rewrite_entry(cache_dir, {"agent": profile}, garble=len(marshal.dumps(profile)))
    assert validcache.lookup_compiled(VALID) is not None  # the index checks out
    with open_store(str(path)) as store:
        assert store.get_profile("default", "agent") == whole["profiles"]["agent"]
        assert store.get_registry("default") == whole


def test_an_entry_of_another_python_is_a_miss(tmp_path, cache_dir, monkeypatch):
    """marshal's format belongs to one Python version: an entry another one wrote is not read."""
    path = tmp_path / "profiles.yaml"
    path.write_bytes(VALID)
    open_store(str(path)).close()
    assert validcache.lookup_compiled(VALID) is not None
    monkeypatch.setattr(validcache, "_PYTHON", "cpython-3.99-marshal9")
    assert validcache.lookup_compiled(VALID) is None


def test_the_compiled_form_records_profiles_as_read_and_a_store_gives_them_normalised(tmp_path, cache_dir):
    """What the first reading records is what it read (normalising 10,000 profiles is left to
    the profiles asked for); every way of reading gives the same normalised profiles."""
    path = tmp_path / "profiles.yaml"
    raw = VALID + b"  helper:\n    runtime: {system_prompt: hi, step_settings_patch: {}}\n"
    path.write_bytes(raw)
    readings = []
    for source_map in (False, True, False):  # first reading lazy, then an eager one, then compiled
        with open_store(str(path), source_map=source_map) as store:
            readings.append((store.get_profile("default", "helper"), store.get_registry("default"),
                             dict(store.registry_view("default")["profiles"])))
    assert readings[0] == readings[1] == readings[2]
    helper = readings[0][0]
    assert helper == {"slug": "helper", "runtime": {"system_prompt": "hi"}}
    assert validcache.lookup_compiled(raw).profile("default", "helper")["runtime"]["step_settings_patch"] == {}


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
                       "header": b"profreg-compiled 3 x y z 1\n" + content.split(b"\n", 1)[1],
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


def test_a_store_read_without_its_source_map_still_writes_keeping_the_file(tmp_path, monkeypatch):
    """source_map=False (the client's way): the read keeps no node tree; a write parses the
    file again and splices as always (comments kept)."""
    monkeypatch.setenv("PROFREG_CACHE_DIR", "")  # a read that parses and validates
    path = tmp_path / "profiles.yaml"
    path.write_bytes(b"# my comment\n" + VALID)
    with open_store(str(path), source_map=False) as store:
        assert store._snapshot.root is None and store._snapshot.unparsed is not None
        store.upsert_profile("default", {"slug": "helper", "runtime": {"system_prompt": "hi"}}, WriteOptions())
        assert store.get_profile("default", "helper")["runtime"]["system_prompt"] == "hi"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# my comment\nslug: default\n") and "helper" in text
    with open_store(str(path)) as store:
        assert sorted(store.get_registry("default")["profiles"]) == ["agent", "helper"]


def test_a_store_builds_each_reading_with_the_cyclic_collector_paused(tmp_path, cache_dir):
    """The registries are built from what the engine read inside the engine's one pause,
    on opening and when a changed file is read again, and the collector is on again
    afterwards (an in-process caller's own state)."""
    path = tmp_path / "profiles.yaml"
    path.write_bytes(VALID)
    seen = []
    real = yamlstore._registries_of

    def registries_of(*args):
        seen.append(gc.isenabled())
        return real(*args)

    assert gc.isenabled()
    with mock.patch.object(yamlstore, "_registries_of", registries_of):
        with open_store(str(path)) as store:
            assert store.get_registry("default")["slug"] == "default"
            path.write_bytes(VALID.replace(b"agent", b"helper"))
            assert "helper" in store.get_registry("default")["profiles"]
    assert seen == [False, False]
    assert gc.isenabled()
