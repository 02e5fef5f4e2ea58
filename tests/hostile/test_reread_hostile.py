"""Hostile files saved over a valid one while a reading store (an application's client)
has it open: the store, expecting the file valid, tries the fast read (`engine.fastread`)
first. Each must still end in the error a fresh open gives — the same one line, no secret
quoted, no traceback — with the limits holding, and the store must read the next good
save."""
from __future__ import annotations

import os

import pytest

from profreg.errors import StoreError
from profreg.stores import open_store

from tests.hostile.test_engine_limits import ALIASED, LEAKY, LONG_INT, SECRET, WITH_LONG_INT

GOOD = "slug: default\ndefault_profile_slug: a\nprofiles:\n  a: {display_name: A}\n"
LAUGHS = ("slug: default\nx0: &x0 [a, a, a, a, a, a, a, a, a, a]\n"
          + "".join(f"x{i}: &x{i} [" + ", ".join([f"*x{i - 1}"] * 10) + "]\n" for i in range(1, 9))
          + "profiles: {a: {runtime: {tools: *x8}}}\n")
HOSTILE = {
    "alias-bomb": LAUGHS,
    "deep-nesting": "slug: default\nprofiles:\n  a: {x: " + "[" * 5000 + "]" * 5000 + "}\n",
    "long-integer": WITH_LONG_INT,
    "unquoted-long-integer-key": f"slug: default\nprofiles:\n  a: {{{LONG_INT}: 1}}\n",
    "aliased-problems": ALIASED,
    "secrets": LEAKY,
    "duplicate-key": GOOD + "  a: {display_name: B}\n",
    "tag": GOOD.replace("{display_name: A}", "!!python/object:os.system {display_name: A}"),
    "second-document": GOOD + "---\n" + GOOD,
    "half-saved": GOOD[: len(GOOD) // 2],
    "nul-byte": GOOD.replace("A}", "A\x00}"),
    "line-separator": GOOD.replace("A}", "A\u2028B}"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_save_over_a_valid_file_errs_as_a_fresh_open(tmp_path, name: str) -> None:
    path = tmp_path / "profiles.yaml"
    path.write_text(GOOD)
    store = open_store(str(path), source_map=False)
    assert store.registry_slugs() == ["default"]
    path.write_text(HOSTILE[name])
    os.utime(path, ns=(2 * 10**9, 2 * 10**9))
    try:
        fresh = open_store(str(path), source_map=True)
    except StoreError as exc:
        expected: str | None = str(exc)
    else:
        expected = None  # a file some hostile shape leaves valid (a YAML 1.2 line separator)
        fresh_registries = fresh.list_registries()
    if expected is None:
        assert store.list_registries() == fresh_registries
    else:
        with pytest.raises(StoreError) as seen:
            store.registry_slugs()
        assert str(seen.value) == expected
        assert len(expected.splitlines()) == 1 and "Traceback" not in expected and SECRET not in expected
    path.write_text(GOOD.replace("A}", "A again}"))
    os.utime(path, ns=(3 * 10**9, 3 * 10**9))
    assert store.get_profile("default", "a")["display_name"] == "A again"
