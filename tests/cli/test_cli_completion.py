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
