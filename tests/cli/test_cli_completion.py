"""Shell completion (Click's protocol) offers slugs read from the store.

Run as bash would: `_PROFREG_COMPLETE=bash_complete` with COMP_WORDS / COMP_CWORD, in a
separate process; each line of the answer is `type,value`.
"""
from __future__ import annotations

import pytest

from tests.conftest import run_cli
from tests.service.resolve_corpus import corpus_store_path

STORE = str(corpus_store_path())


def complete(words: list[str], *, env_store: str | None = STORE) -> list[str]:
    """Values offered for the last word of `words` (the word being completed)."""
    env = {"_PROFREG_COMPLETE": "bash_complete", "COMP_WORDS": " ".join(["profreg", *words]),
           "COMP_CWORD": str(len(words))}
    if env_store:
        env["PROFREG_STORE"] = env_store
    result = run_cli(env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return [line.split(",", 1)[1] for line in result.stdout.splitlines() if line]


@pytest.mark.parametrize(
    "words, expected",
    [
        (["resolve", ""], ["agent", "keyed", "locked", "strict", "default/", "team/"]),
        (["resolve", "k"], ["keyed"]),
        (["resolve", "te"], ["team/"]),
        (["resolve", "team/"], ["team/coder"]),
        (["resolve", "default/s"], ["default/strict"]),
        (["show", ""], ["default", "team", "default/", "team/"]),
        (["list", "t"], ["team"]),
        (["profile", "update", "default/a"], ["default/agent"]),
        (["set-default", "team/c"], ["team/coder"]),
        (["registry", "delete", "d"], ["default"]),
    ],
)
def test_slugs_from_the_store_in_the_environment(words, expected):
    assert complete(words) == expected


def test_store_option_before_the_argument_is_used():
    assert complete(["resolve", "--store", STORE, "team/"], env_store=None) == ["team/coder"]


def test_without_a_store_nothing_is_offered_and_nothing_fails(tmp_path):
    assert complete(["resolve", ""], env_store=None) == []
    assert complete(["resolve", ""], env_store=str(tmp_path / "missing.yaml")) == []
    assert not (tmp_path / "missing.yaml").exists()


def test_registries_come_from_the_slug_list_corrupt_ones_included(tmp_path):
    """Completion reads slugs only (no payload decoded), so a corrupt SQLite row is offered
    too: `registry delete` is how it goes away."""
    import sqlite3

    db = str(tmp_path / "s.db")
    for slug in ("alpha", "beta"):
        assert run_cli("registry", "create", slug, "--store", db).returncode == 0
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE profile_registries SET payload_json = '[' WHERE slug = 'beta'")
    assert complete(["registry", "delete", ""], env_store=db) == ["alpha", "beta"]
    assert run_cli("list", "--store", db).returncode == 6  # list, which decodes, names it corrupt
