"""A reading YAML store (`source_map=False`, an application's client) re-reading its file
after a change: a file whose last reading was valid (by this store, or by another one:
`validcache.last_read_valid`) is read without a node tree (`engine.fastread`) and only read
by `parse` if it has a problem; a file read for the first time, or after a broken reading,
is read by `parse` alone, so a broken file's error is not
delayed by a second read. Whichever way it is read, the store answers alike."""
from __future__ import annotations

import os

import pytest

from profreg.engine import run
from profreg.errors import StoreError
from profreg.stores import open_store

VALID = """\
slug: team
default_profile_slug: agent
profiles:
  agent:
    display_name: Agent
    runtime: {system_prompt: &prompt Be brief., tools: [search]}
  helper:
    runtime: {system_prompt: *prompt}
"""
CHANGED = VALID.replace("Be brief.", "Be very brief.")
BROKEN = VALID.replace("default_profile_slug: agent", "default_profile_slug: nobody")


@pytest.fixture
def fast_reads(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The texts `read_for_store` handed to the fast read, in order."""
    seen: list[bytes] = []
    real = run.read_data

    def spy(raw: bytes, limits):
        seen.append(raw)
        return real(raw, limits)

    monkeypatch.setattr(run, "read_data", spy)
    return seen


def save(path, text: str, tick: int) -> None:
    path.write_text(text)
    os.utime(path, ns=(tick * 10**9, tick * 10**9))  # a new signature even within one clock tick


def registries(store) -> dict:
    return {registry["slug"]: registry for registry in store.list_registries()}


def test_a_reread_after_a_valid_reading_is_fast_and_answers_as_a_fresh_open(tmp_path, fast_reads) -> None:
    path = tmp_path / "profiles.yaml"
    save(path, VALID, 1)
    store = open_store(str(path), source_map=False)
    assert fast_reads == []  # first reading: parse alone
    save(path, CHANGED, 2)
    changed = registries(store)
    assert fast_reads == [CHANGED.encode()]
    assert changed["team"]["profiles"]["helper"]["runtime"]["system_prompt"] == "Be very brief."
    assert changed == registries(open_store(str(path), source_map=True))
    # another reading store (another process: the note is in the cache folder) expects it valid too
    again = CHANGED.replace("display_name: Agent", "display_name: Agent two")
    save(path, again, 3)
    assert registries(open_store(str(path), source_map=False)) == registries(open_store(str(path), source_map=True))
    assert fast_reads == [CHANGED.encode(), again.encode()]


def test_a_broken_save_reports_as_a_fresh_open_and_the_next_reading_is_parse_alone(tmp_path, fast_reads) -> None:
    path = tmp_path / "profiles.yaml"
    save(path, VALID, 1)
    store = open_store(str(path), source_map=False)
    save(path, BROKEN, 2)
    with pytest.raises(StoreError) as broken:
        store.list_registries()
    assert fast_reads == [BROKEN.encode()]  # expected valid: tried fast, then read by parse
    with pytest.raises(StoreError) as fresh:
        open_store(str(path), source_map=False)
    assert str(broken.value) == str(fresh.value)
    assert "default-profile-unknown" in str(broken.value)
    save(path, BROKEN.replace("nobody", "nobody-else"), 3)
    with pytest.raises(StoreError):
        store.list_registries()
    assert len(fast_reads) == 1  # the last reading failed: parse alone
    save(path, CHANGED, 4)
    assert registries(store) == registries(open_store(str(path), source_map=True))
    assert len(fast_reads) == 1  # after a failed reading: parse alone, once more
    again = CHANGED.replace("display_name: Agent", "display_name: Agent three")  # bytes not seen before
    save(path, again, 5)
    assert registries(store) == registries(open_store(str(path), source_map=True))
    assert fast_reads[1:] == [again.encode()]
